# Helpers shared by the shell tests in tests/ (sourced, not run). Each test sets WORK (its scratch
# directory) before calling them.

# `field FILE EXPR`: a value of the JSON file, e.g. field out.json "['claims']['tcb_status']".
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }

# `expect_json NAME EXPR [CASE_JSON]`: EXPR, a python expression over `r` ($WORK/out.json) and `e`
# (CASE_JSON's `expected`, or {}), must be true; otherwise counted in `fails` and reported.
expect_json() {
  if ! python3 -c "
import json,sys
r=json.load(open('$WORK/out.json'))
e=json.load(open('${3:-}'))['expected'] if '${3:-}' else {}
sys.exit(0 if ($2) else 1)"; then
    echo "FAIL $1: $(cut -c1-600 "$WORK/out.json")"; fails=$((fails + 1))
  fi
}

# `check NAME WANT_EXIT COMMAND...`: runs COMMAND with stdout in $WORK/out.json and stderr in
# $WORK/err.txt; a different exit code is counted in `fails` and reported with both outputs.
check() {
  local name="$1" want="$2"; shift 2
  set +e
  "$@" >"$WORK/out.json" 2>"$WORK/err.txt"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; cat "$WORK/out.json" "$WORK/err.txt"; fails=$((fails + 1))
    return 1
  fi
  echo "ok   $name (exit $got)"
}

# `fail MESSAGE`: stops the test, showing the end of the KBS's log.
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/kbs.log" ] && tail -20 "$WORK/kbs.log" >&2
  exit 1
}

# `write_test_kbs_toml [LINE...]`: $WORK/kbs.toml for a loopback HTTP KBS as the TEE tests run it
# (admin bearer JWT with admin.pub from `ccburst keygen`, SQLite kbs.db, TDX trusted on the test
# hierarchy in tdx/ with its offline collateral), then each LINE appended (more verifier tables;
# a bare key lands in the last table). $SNP_TEST_VERIFIER trusts the SNP test hierarchy in snp/.
# $KBS_HTTP_SERVER, when set, replaces the body of [http_server] (HTTPS, sockets, TLS keys).
SNP_TEST_VERIFIER='[attestation_service.verifier_config.snp_verifier]
trusted_ark = "snp/ark.pem"'
write_test_kbs_toml() {
  printf '[http_server]\n%s\n' "${KBS_HTTP_SERVER:-sockets = [\"127.0.0.1:0\"]
insecure_http = true}" >"$WORK/kbs.toml"
  cat >>"$WORK/kbs.toml" <<'TOML'
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+$" } ]
[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs.db"
[attestation_service.verifier_config.dcap_verifier]
collateral_service = "file://tdx/collateral"
trusted_root_ca = "tdx/root.pem"
TOML
  if [ $# -gt 0 ]; then printf '%s\n' "$@" >>"$WORK/kbs.toml"; fi
}

# `start_kbs KBS_BINARY NAME`: starts ccburst-kbs on $WORK/kbs.toml (an ephemeral loopback port),
# waits for its ready line and sets PID, PORT and URL. The KBS's whole output (stdout, where
# spdlog writes, and stderr) is appended to $WORK/kbs.log: a restart keeps what the earlier runs
# logged, so the log checks (see `no_leaks`) see everything the KBS ever wrote.
start_kbs() {
  local from=0
  [ -f "$WORK/kbs.log" ] && from="$(stat -c %s "$WORK/kbs.log")"
  "$1" --config "$WORK/kbs.toml" >>"$WORK/kbs.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do
    tail -c +"$((from + 1))" "$WORK/kbs.log" | grep -q "ready port=" && break
    kill -0 "$PID" 2>/dev/null || fail "ccburst-kbs exited at start-up"
    sleep 0.05
  done
  PORT="$(tail -c +"$((from + 1))" "$WORK/kbs.log" | sed -n 's/.*ready port=\([0-9]*\).*/\1/p' | head -1)"
  [ -n "$PORT" ] || fail "no port"
  URL="http://127.0.0.1:$PORT"
  echo "$2: KBS on port $PORT"
}

# `stop_kbs`: stops the KBS started by start_kbs (its log stays).
stop_kbs() { kill "$PID"; wait "$PID" || true; PID=""; }

# `no_leaks LOG SECRET_FILE...`: fails when any secret appears in LOG raw, in base64, base64url
# or hex (lower or upper case). A window of each secret is searched (aligned so that it is also
# a window of the encoding of the whole secret). Before looking, it proves that it can fail: each
# form of each secret is planted in a copy of the log and must be found there.
no_leaks() {
  python3 - "$@" <<'PY' || fail "secret found in the KBS log (see above)"
import base64, sys

log = open(sys.argv[1], "rb").read()


def forms(secret):
    k = max(0, (len(secret) - 48) // 3 * 3)  # a window at a multiple of 3: aligned for base64
    w = secret[k:k + 48]
    return {
        "raw": w,
        "base64": base64.b64encode(w),
        "base64url": base64.urlsafe_b64encode(w).rstrip(b"="),
        "hex": w.hex().encode(),
        "HEX": w.hex().upper().encode(),
    }


def found(text, secret):
    return [name for name, f in forms(secret).items() if f in text]


secrets = {}
for path in sys.argv[2:]:
    s = open(path, "rb").read().rstrip(b"\r\n")
    if len(s) < 16:
        sys.exit(f"no_leaks: {path}: a secret of {len(s)} bytes is too short to look for")
    secrets[path] = s
planted = 0
for path, s in secrets.items():
    for name, f in forms(s).items():
        if name not in found(log + b"\nplanted: " + f + b"\n", s):
            sys.exit(f"no_leaks self-check: a planted {name} form of {path} was not found")
        planted += 1
leaks = [(path, name) for path, s in secrets.items() for name in found(log, s)]
for path, name in leaks:
    print(f"LEAK: {path} appears in {sys.argv[1]} ({name})", file=sys.stderr)
print(f"no_leaks: {len(secrets)} secrets x 5 forms absent from {len(log)} bytes of log "
      f"(self-check: {planted} planted forms found)")
sys.exit(1 if leaks else 0)
PY
}

# `alive WHAT`: the KBS still answers /healthz with 200.
alive() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] || fail "KBS not healthy after: $1"; }
