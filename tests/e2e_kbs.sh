#!/usr/bin/env bash
# End-to-end test of ccburst-kbs through the real binaries: the KBS on an ephemeral loopback port
# (HTTP, then HTTPS), driven by the `ccburst` CLI and curl. Usage: e2e_kbs.sh <build-dir> [http|https]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
MODE="${2:-http}"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
WORK="$(mktemp -d /tmp/ccburst-e2e.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK/other" >/dev/null  # a key the KBS does not trust
"$CLI_BIN" keygen --out-dir "$WORK/reader" --role reader --private-key "$WORK/admin.key" >/dev/null
cp "$WORK/reader/admin.token" "$WORK/reader.token"
if [ "$MODE" = https ]; then
  "$CLI_BIN" make-cert --out-dir "$WORK" >/dev/null
  TLS=$'private_key = "kbs.key"\ncertificate = "kbs.crt"'
else
  TLS='insecure_http = true'
fi
cat >"$WORK/kbs.toml" <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
payload_request_size = 1
$TLS
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" } ]
[attestation_service.attestation_token_broker.signer]
key_path = "token.key"
[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs.db"
TOML
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/token.key"

start() {
  start_kbs "$KBS" "e2e ($MODE)"
  if [ "$MODE" = https ]; then
    URL="https://127.0.0.1:$PORT"
    CURL=(curl -s --cacert "$WORK/kbs.crt")
    CLI=("$CLI_BIN" --url "$URL" --cert-file "$WORK/kbs.crt")
  else
    URL="http://127.0.0.1:$PORT"
    CURL=(curl -s)
    CLI=("$CLI_BIN" --url "$URL")
  fi
  ADMIN=("${CLI[@]}" config --admin-token-file "$WORK/admin.token")
}
stop() { stop_kbs; }
alive() { [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] || fail "KBS not healthy after: $1"; }
# expect_status CODE DETAIL_SUBSTRING curl-args...
expect() {
  local code="$1" detail="$2"; shift 2
  local out status
  out="$("${CURL[@]}" -w '\n%{http_code}' "$@")"
  status="${out##*$'\n'}"
  [ "$status" = "$code" ] || fail "expected $code got $status for $*: $out"
  [[ "$out" == *"$detail"* ]] || fail "expected detail '$detail' for $*: $out"
  alive "$*"
}
# expect_cli_fail DETAIL cmd...
expect_cli_fail() {
  local detail="$1"; shift
  if "$@" >"$WORK/cli.out" 2>"$WORK/cli.err"; then fail "expected failure: $*"; fi
  grep -qF -- "$detail" "$WORK/cli.err" || fail "expected '$detail' from $*: $(cat "$WORK/cli.err")"
  alive "$*"
}

start
head -c 3000 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"

# The default policy refuses the sample TEE.
expect_cli_fail "PolicyDeny" "${CLI[@]}" get-resource --path default/key/model

# Appraisal: without reference values the sample TEE is not affirming, so the affirming policy
# refuses; once the CLI registers them, the same request is released.
ear_status() { printf %s "$1" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | grep -o '"ear.status":"[a-z]*"'; }
"${ADMIN[@]}" set-resource-policy --affirming
[ "$(ear_status "$("${CLI[@]}" attest)")" = '"ear.status":"contraindicated"' ] || fail "status without reference values"
expect_cli_fail "PolicyDeny" "${CLI[@]}" get-resource --path default/key/model
"${ADMIN[@]}" set-sample-reference-value svn 1
[ "$(ear_status "$("${CLI[@]}" attest)")" = '"ear.status":"warning"' ] || fail "status with svn only"
expect_cli_fail "PolicyDeny" "${CLI[@]}" get-resource --path default/key/model
"${ADMIN[@]}" set-sample-reference-value launch_digest abcde
"${ADMIN[@]}" get-reference-value --id svn | grep -q '"1"' || fail "reference value"
[ "$(ear_status "$("${CLI[@]}" attest)")" = '"ear.status":"affirming"' ] || fail "status with reference values"
for alg in ECDH-ES+A256KW ECDH-ES+A256KW-P521 RSA-OAEP-256 RSA1_5; do
  "${CLI[@]}" get-resource --path default/key/model --tee-key-alg "$alg" --output "$WORK/got.bin"
  cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "secret bytes differ ($alg)"
done
echo "e2e ($MODE): secret fetched and identical with every key wrapping algorithm"

# Passport model: the token from `attest` works as a bearer for the key it was bound to.
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/tee.key"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/other.key"
TOKEN="$("${CLI[@]}" attest --tee-key-file "$WORK/tee.key")"
[ -n "$TOKEN" ] || fail "no token"
printf %s "$TOKEN" >"$WORK/token.jwt"
"${CLI[@]}" get-resource --path default/key/model --attestation-token "$WORK/token.jwt" --tee-key-file "$WORK/tee.key" --output "$WORK/got.bin"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "bearer: secret bytes differ"
# The secret is wrapped to the key bound in the token: another key cannot open it.
expect_cli_fail "jwe" "${CLI[@]}" get-resource --path default/key/model --attestation-token "$WORK/token.jwt" --tee-key-file "$WORK/other.key"
echo "e2e ($MODE): passport model (bearer token) works"

# Bad input over the wire.
H=(-H 'Content-Type: application/json')
expect 401 "protocol version" -X POST "${H[@]}" -d '{"version":"0.1.0","tee":"sample","extra-params":{}}' "$URL/kbs/v0/auth"
expect 401 "unknown tee" -X POST "${H[@]}" -d '{"version":"0.4.0","tee":"bogus","extra-params":{}}' "$URL/kbs/v0/auth"
expect 401 "not valid JSON" -X POST "${H[@]}" -d '{"version":' "$URL/kbs/v0/auth"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$WORK/big.json"
expect 413 "exceeds" -X POST "${H[@]}" --data-binary @"$WORK/big.json" "$URL/kbs/v0/auth"
expect 401 "missing kbs-session-id" -X POST "${H[@]}" -d '{}' "$URL/kbs/v0/attest"
expect 401 "unknown kbs-session-id" -X POST "${H[@]}" -b 'kbs-session-id=0123456789abcdef0123456789abcdef' -d '{}' "$URL/kbs/v0/attest"
expect 401 "TokenVerifierError" -H "Authorization: Bearer ${TOKEN%?}x" "$URL/kbs/v0/resource/default/key/model"
expect 401 "TokenNotFound" "$URL/kbs/v0/resource/default/key/model"
expect 404 "InvalidRequestPath" "$URL/kbs/v0/resource/default/key"
expect 404 "InvalidRequestPath" --path-as-is "$URL/kbs/v0/resource/../../etc/passwd"
expect 401 "missing \`Authorization" -X POST --data-binary @"$WORK/secret.bin" "$URL/kbs/v0/resource/default/key/model"
expect 401 "not signed by a trusted identity provider" -X POST -H "Authorization: Bearer $(cat "$WORK/other/admin.token")" --data-binary x "$URL/kbs/v0/resource/default/key/model"
expect 403 "role \`reader\`" -X POST -H "Authorization: Bearer $(cat "$WORK/reader.token")" --data-binary x "$URL/kbs/v0/resource/default/key/model"
expect_cli_fail "ResourceNotFound" "${CLI[@]}" get-resource --path default/key/absent

# Issue 16: an attestation token without `exp` never expires. Re-signed with the KBS's own token
# key, the token `attest` issued is accepted; the same token without `exp` is refused.
resign() {  # resign TOKEN DROP_CLAIM...: TOKEN's header and claims less DROP_CLAIMs, ES256 by token.key
  python3 - "$WORK/token.key" "$@" <<'PY'
import base64, json, subprocess, sys
key, token, drop = sys.argv[1], sys.argv[2], sys.argv[3:]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
header, payload = token.split(".")[:2]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
for c in drop:
    claims.pop(c)
signing_input = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                     capture_output=True, check=True).stdout
# ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s (32 bytes each).
def integer(at):
    assert der[at] == 2
    n = der[at + 1]
    return int.from_bytes(der[at + 2:at + 2 + n], "big"), at + 2 + n
body = 3 if der[1] & 0x80 else 2
r, at = integer(body)
s, _ = integer(at)
print(signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big")))
PY
}
[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(resign "$TOKEN")" \
     "$URL/kbs/v0/resource/default/key/model")" = 200 ] || fail "re-signed token refused"
expect 401 'resource: token: jwt: no `exp` claim' -H "Authorization: Bearer $(resign "$TOKEN" exp)" \
  "$URL/kbs/v0/resource/default/key/model"

# Nothing the refused requests carried was stored.
"${CLI[@]}" get-resource --path default/key/model --output "$WORK/got.bin"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "secret changed by refused requests"

# Restart: resources, policy and reference values survive; the token key is the configured one.
stop
start
"${CLI[@]}" get-resource --path default/key/model --output "$WORK/got.bin"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "secret lost across restart"
"${CURL[@]}" -H "Authorization: Bearer $TOKEN" -o /dev/null -w '%{http_code}' "$URL/kbs/v0/resource/default/key/model" | grep -q 200 \
  || fail "bearer token from before the restart refused"
echo "e2e ($MODE): state and token key survive a restart"

# Metrics.
# (Read whole first: under pipefail, `curl | grep -q` fails when grep stops reading early.)
METRICS="$("${CURL[@]}" "$URL/metrics")"
grep -qF 'kbs_attestations_total{outcome="success",tee="sample"}' <<<"$METRICS" || fail "metrics"

# Neither the secret nor a credential ever appears in the KBS's log (stdout and stderr of both
# runs), raw or encoded; no_leaks proves first that it would have found them.
stop
no_leaks "$WORK/kbs.log" "$WORK/secret.bin" "$WORK/admin.token" "$WORK/reader.token" "$WORK/token.jwt"
echo "e2e ($MODE): PASS"
