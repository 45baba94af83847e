#!/usr/bin/env bash
# End-to-end test of the guest side through the real binaries: ccburst-kbs (HTTPS, loopback)
# trusts a TDX and an SNP test hierarchy; `ccburst-testgen tsm-stub` plays the kernel's
# configfs-tsm (the one hardware stand-in) with quotes/reports from those hierarchies whose
# MRCONFIGID / HOST_DATA is the init-data digest; `ccburst-agent serve` takes the KBS URL and its
# pinned certificate from the init-data, and curl asks the CDH/AA API as a workload would.
# Covered: secret fetched, denied by policy, KBS restart mid-run (the agent re-attests), wrong KBS
# certificate refused, init-data mismatch refused, garbage and huge KBS answers (clear error, the
# agent keeps serving), configfs generation race refused, sealed secrets, get-resource/decrypt.
# Usage: e2e_agent.sh <build-dir>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
AGENT="$BUILD/apps/ccburst-agent"
TESTGEN="$BUILD/tests/ccburst-testgen"
WORK="$(mktemp -d /tmp/ccburst-e2e-agent.XXXXXX)"
PID=""
PIDS=()
cleanup() {
  for p in $PID "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
"$CLI_BIN" make-cert --out-dir "$WORK" --host 127.0.0.1 >/dev/null
mkdir "$WORK/other" && "$CLI_BIN" make-cert --out-dir "$WORK/other" --host 127.0.0.1 >/dev/null

# HTTPS with the reference KBS's TLS keys in an [http_server.tls] table (Trustee
# kbs/docs/config.md): the "modern" profile serves TLS 1.3 only.
write_kbs_toml() {
  KBS_HTTP_SERVER="sockets = [\"127.0.0.1:$1\"]
[http_server.tls]
private_key = \"kbs.key\"
certificate = \"kbs.crt\"
tls_profile = \"modern\""
  write_test_kbs_toml "$SNP_TEST_VERIFIER" 'vcek_sources = [{ type = "OfflineStore", path = "kds-store" }]'
}
write_kbs_toml 0
start_kbs "$KBS" e2e_agent
URL="https://127.0.0.1:$PORT"
alive() { [ "$(curl -s --cacert "$WORK/kbs.crt" -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] || fail "KBS not healthy after: $1"; }
alive start
openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 </dev/null >/dev/null 2>&1 &&
  fail "tls_profile = modern accepted a TLS 1.2 handshake"
openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 </dev/null 2>/dev/null | grep -q "TLSv1.3" ||
  fail "tls_profile = modern refused a TLS 1.3 handshake"
write_kbs_toml "$PORT"  # a restart comes back on the same port

ADMIN=("$CLI_BIN" --url "$URL" --cert-file "$WORK/kbs.crt" config --admin-token-file "$WORK/admin.token")
head -c 2000 /dev/urandom >"$WORK/secret.bin"
head -c 32 /dev/urandom >"$WORK/aes.key"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/denied --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/aes --resource-file "$WORK/aes.key"
cat >"$WORK/policy.rego" <<'REGO'
package policy
import rego.v1
default allow := false
allow if { data["resource-path"][2] != "denied" }
REGO
"${ADMIN[@]}" set-resource-policy --policy-file "$WORK/policy.rego"

# Init-data as kata hands it to the guest: the KBS URL and its certificate in cdh.toml.
make_initdata() {  # make_initdata FILE CERT_FILE
  {
    echo 'version = "0.1.0"'
    echo 'algorithm = "sha384"'
    echo '[data]'
    echo "\"cdh.toml\" = '''"
    echo '[kbc]'
    echo 'name = "cc_kbc"'
    echo "url = \"$URL\""
    echo 'kbs_cert = """'
    cat "$2"
    echo '"""'
    echo "'''"
  } >"$1"
}
make_initdata "$WORK/initdata.toml" "$WORK/kbs.crt"
DIGEST="$(sha384sum "$WORK/initdata.toml" | cut -d' ' -f1)"

# `start_agent NAME ARGS...`: ccburst-agent serve on an ephemeral port; sets APORT/API.
start_agent() {
  local name="$1"; shift
  "$AGENT" "$@" serve --listen 127.0.0.1:0 >"$WORK/$name.out" 2>"$WORK/$name.log" &
  APID=$!
  PIDS+=("$APID")
  for _ in $(seq 1 200); do
    grep -q "listening on" "$WORK/$name.out" && break
    kill -0 "$APID" 2>/dev/null || fail "ccburst-agent $name exited: $(cat "$WORK/$name.log")"
    sleep 0.05
  done
  APORT="$(sed -n 's|^ccburst-agent: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/$name.out")"
  [ -n "$APORT" ] || fail "$name: no listening line"
  [ "$(wc -l <"$WORK/$name.out")" = 1 ] || fail "$name: more than one line on stdout"
  API="http://127.0.0.1:$APORT"
}
# `api CODE PATH [curl args]`: the body in $WORK/body; fails unless the status is CODE.
api() {
  local code="$1" path="$2"; shift 2
  local got
  got="$(curl -s --path-as-is -o "$WORK/body" -w '%{http_code}' "$@" "$API$path")"
  [ "$got" = "$code" ] || fail "GET $path: HTTP $got, want $code: $(head -c 400 "$WORK/body")"
}
body_has() { grep -qF -- "$1" "$WORK/body" || fail "no '$1' in: $(head -c 400 "$WORK/body")"; }
serving() { api 200 "/aa/evidence?runtime_data=still-serving"; }

for tee in tdx snp; do
  if [ "$tee" = tdx ]; then flag=--mrconfigid; cfg="$DIGEST"; else flag=--host-data; cfg="${DIGEST:0:64}"; fi
  "$TESTGEN" tsm-stub --root "$WORK/tsm-$tee" --tee "$tee" --hierarchy "$WORK/$tee" $flag "$cfg" \
    >"$WORK/stub-$tee.out" 2>"$WORK/stub-$tee.log" &
  STUB=$!
  PIDS+=("$STUB")
  for _ in $(seq 1 100); do grep -q "serving" "$WORK/stub-$tee.out" && break; sleep 0.05; done
  AGENT_ARGS=(--configfs-root "$WORK/tsm-$tee" --initdata "$WORK/initdata.toml")
  start_agent "agent-$tee" --tee "$tee" "${AGENT_ARGS[@]}"

  # Secret fetched: the exact bytes, as application/octet-stream.
  api 200 /cdh/resource/default/key/model
  cmp -s "$WORK/secret.bin" "$WORK/body" || fail "$tee: secret bytes differ"
  echo "ok   $tee: secret fetched through /cdh/resource"
  grep -q "$tee" "$WORK/kbs.log" 2>/dev/null || true

  # Denied by the resource policy: 500 with the KBS's reason; the agent keeps serving.
  api 500 /cdh/resource/default/key/denied
  body_has PolicyDeny
  serving
  echo "ok   $tee: policy denial is a 500 naming PolicyDeny"

  # Token and evidence, reference API statuses.
  api 200 "/aa/token?token_type=kbs"
  [ "$(tr -cd . <"$WORK/body" | wc -c)" = 2 ] || fail "$tee: token is not a JWT"
  api 200 "/aa/evidence?runtime_data=hello"
  if [ "$tee" = tdx ]; then body_has '"quote"'; else body_has '"report"'; body_has '"auxblob"'; fi
  api 400 /aa/token
  api 500 "/aa/token?token_type=other"
  api 404 /cdh/nothing
  api 405 /cdh/resource/default/key/model -X POST
  api 500 /cdh/resource/default//model
  body_has "empty segment"
  api 404 /cdh/resource/default/../key/model
  api 500 "/aa/evidence?runtime_data=$(head -c 65 /dev/zero | tr '\0' a)"
  echo "ok   $tee: token, evidence and the reference API statuses (400/404/405/500)"

  # Sealed secret: sealed by the CLI, unsealed through the API and by the command.
  "$CLI_BIN" seal --resource kbs:///default/key/model >"$WORK/sealed.txt"
  grep -q '^sealed\.' "$WORK/sealed.txt" || fail "seal output"
  api 200 /cdh/secret -X POST --data-binary "@$WORK/sealed.txt"
  cmp -s "$WORK/secret.bin" "$WORK/body" || fail "$tee: unsealed bytes differ (API)"
  "$AGENT" --tee "$tee" "${AGENT_ARGS[@]}" unseal - <"$WORK/sealed.txt" >"$WORK/unsealed.bin"
  cmp -s "$WORK/secret.bin" "$WORK/unsealed.bin" || fail "$tee: unsealed bytes differ (unseal)"
  echo "ok   $tee: sealed secret unsealed (API and command)"

  # Init-container commands: get-resource to a 0600 file, decrypt with a KBS key.
  "$AGENT" --tee "$tee" "${AGENT_ARGS[@]}" get-resource kbs:///default/key/model --output "$WORK/got.bin"
  cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "$tee: get-resource bytes differ"
  [ "$(stat -c %a "$WORK/got.bin")" = 600 ] || fail "$tee: get-resource file mode $(stat -c %a "$WORK/got.bin")"
  head -c 100000 /dev/urandom >"$WORK/model.bin"
  "$CLI_BIN" encrypt-file --key-file "$WORK/aes.key" --in "$WORK/model.bin" --out "$WORK/model.enc"
  "$AGENT" --tee "$tee" "${AGENT_ARGS[@]}" decrypt --key kbs:///default/key/aes --in "$WORK/model.enc" --out "$WORK/model.out"
  cmp -s "$WORK/model.bin" "$WORK/model.out" || fail "$tee: decrypted model differs"
  echo "ok   $tee: get-resource (0600) and decrypt"

  # configfs generation race: retried, then refused; the agent keeps serving.
  kill -USR1 "$STUB"; sleep 0.1
  api 500 "/aa/evidence?runtime_data=race"
  body_has "refused after 3 attempts"
  kill -USR1 "$STUB"; sleep 0.1
  serving
  echo "ok   $tee: generation race refused"

  # Init-data the TEE did not measure: the agent refuses to start.
  sed 's/cc_kbc/cc_kbc2/' "$WORK/initdata.toml" >"$WORK/initdata-other.toml"
  rc=0
  "$AGENT" --tee "$tee" --configfs-root "$WORK/tsm-$tee" --initdata "$WORK/initdata-other.toml" \
    serve --listen 127.0.0.1:0 >"$WORK/mismatch.out" 2>"$WORK/mismatch.err" || rc=$?
  [ "$rc" = 1 ] || fail "$tee: init-data mismatch: exit $rc"
  grep -q "does not match the init-data digest" "$WORK/mismatch.err" || fail "$tee: mismatch: $(cat "$WORK/mismatch.err")"
  echo "ok   $tee: init-data mismatch refused: $(cat "$WORK/mismatch.err")"

  # A wrong pinned KBS certificate: refused at the TLS handshake.
  rc=0
  "$AGENT" --tee "$tee" --configfs-root "$WORK/tsm-$tee" --kbs-url "$URL" \
    --kbs-cert "$WORK/other/kbs.crt" get-resource kbs:///default/key/model \
    >/dev/null 2>"$WORK/wrongcert.err" || rc=$?
  [ "$rc" = 1 ] || fail "$tee: wrong certificate: exit $rc"
  grep -q "certificate verify failed" "$WORK/wrongcert.err" || fail "$tee: wrong cert: $(cat "$WORK/wrongcert.err")"
  echo "ok   $tee: wrong KBS certificate refused"

  # KBS restart mid-run: the agent's session is gone; it re-attests and the fetch succeeds.
  kill "$PID"; wait "$PID" 2>/dev/null || true
  start_kbs "$KBS" e2e_agent
  URL="https://127.0.0.1:$PORT"
  api 200 /cdh/resource/default/key/model
  cmp -s "$WORK/secret.bin" "$WORK/body" || fail "$tee: secret after restart differs"
  # At least one attestation at the new KBS (under load a slow first answer may cost a second).
  curl -s --cacert "$WORK/kbs.crt" "$URL/metrics" >"$WORK/metrics.txt"
  grep -Eq "^kbs_attestations_total\{outcome=\"success\",tee=\"$tee\"\} [1-9]" "$WORK/metrics.txt" \
    || fail "$tee: no re-attestation at the restarted KBS: $(grep kbs_attestations_total "$WORK/metrics.txt")"
  echo "ok   $tee: KBS restart mid-run, the agent re-attested"

  kill "$APID" "$STUB"; wait "$APID" "$STUB" 2>/dev/null || true
done

# A KBS that answers garbage, then a huge body: clear errors, the agent keeps serving.
cat >"$WORK/bad_kbs.py" <<'PY'
import http.server, sys
mode = {"v": "garbage"}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self): self.answer()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer()
    def answer(self):
        if self.path == "/mode/huge": mode["v"] = "huge"
        body = b"\x00garbage{" if mode["v"] == "garbage" else b"x" * (20 * 1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/bad_kbs.py" >"$WORK/bad.port" 2>"$WORK/bad.log" &
PIDS+=("$!")
for _ in $(seq 1 100); do [ -s "$WORK/bad.port" ] && break; sleep 0.05; done
BAD="http://127.0.0.1:$(cat "$WORK/bad.port")"
start_agent agent-bad --tee sample --kbs-url "$BAD"
api 500 /cdh/resource/default/key/model
body_has "challenge"
serving
curl -s "$BAD/mode/huge" -o /dev/null
api 500 /cdh/resource/default/key/model
body_has "http client"
serving
echo "ok   garbage and huge KBS answers are clear errors; the agent keeps serving"
echo "e2e_agent: PASS"
