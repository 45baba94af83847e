#!/usr/bin/env bash
# Regression tests of issue 16 ("hardening") through the real binaries over loopback: ccburst-kbs
# with its SQLite store on an ephemeral port, driven by curl, raw sockets and the `ccburst` CLI.
# Each check names the item it keeps fixed (docs/security.md). Usage: e2e_hardening.sh <build-dir>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
WORK="$(mktemp -d /tmp/ccburst-hardening.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mode() { stat -c %a "$1"; }

# Item 4: secrets written by the CLI are 0600 whatever the umask (and public files are not
# made secret).
(umask 000 && "$CLI_BIN" keygen --out-dir "$WORK" >/dev/null)
(umask 000 && "$CLI_BIN" keygen --out-dir "$WORK/pub" --role public-writer \
   --private-key "$WORK/admin.key" >/dev/null)
for f in admin.key admin.token pub/admin.token; do
  [ "$(mode "$WORK/$f")" = 600 ] || fail "item 4: $f is mode $(mode "$WORK/$f"), want 600"
done
ls -a "$WORK" | grep -q '\.tmp\.' && fail "item 4: temporary file left behind"

cat >"$WORK/kbs.toml" <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
insecure_http = true
max_connections = 16
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" },
         { role = "public-writer", allowed_endpoints = "^/kbs/v0/resource/.+/public\$" } ]
[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs.db"
TOML

# The KBS runs with umask 000 so that the modes checked below are its own doing.
start() {
  local saved
  saved="$(umask)"
  umask 000
  start_kbs "$KBS" "e2e hardening"
  umask "$saved"
}
stop() { stop_kbs; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# Item 10: an existing database file without the schema stops the start-up, untouched.
: >"$WORK/kbs.db"
if "$KBS" --config "$WORK/kbs.toml" >"$WORK/empty.out" 2>&1; then fail "item 10: started on an empty kbs.db"; fi
grep -q "has no ccburst schema" "$WORK/empty.out" || fail "item 10: $(cat "$WORK/empty.out")"
[ "$(stat -c %s "$WORK/kbs.db")" = 0 ] || fail "item 10: the refused file was written to"
rm "$WORK/kbs.db"

start
ADMIN_TOKEN="$(cat "$WORK/admin.token")"
PUB_TOKEN="$(cat "$WORK/pub/admin.token")"
head -c 64 /dev/urandom >"$WORK/secret.bin"
[ "$(status -X POST -H "Authorization: Bearer $ADMIN_TOKEN" --data-binary @"$WORK/secret.bin" \
      "$URL/kbs/v0/resource/default/key/one")" = 200 ] || fail "admin write"

# Item 7: database, WAL and SHM are 0600 (the KBS ran with umask 000).
for f in kbs.db kbs.db-wal kbs.db-shm; do
  [ ! -e "$WORK/$f" ] || [ "$(mode "$WORK/$f")" = 600 ] || fail "item 7: $f is mode $(mode "$WORK/$f")"
done
[ "$(mode "$WORK/kbs.db")" = 600 ] || fail "item 7: kbs.db missing or not 0600"

# Item 2: the ACL sees the normalized path only: query-bearing, encoded and dotted variants.
for target in "default/key/one?x=/public" "default/key/one?/public" "default/key/one/%2e%2e/public" \
              "default/key/one/..%2Fpublic" "default/key/one%2Fpublic"; do
  code="$(status --path-as-is -X POST -H "Authorization: Bearer $PUB_TOKEN" --data-binary x \
          "$URL/kbs/v0/resource/$target")"
  [ "$code" = 403 ] || [ "$code" = 404 ] || fail "item 2: $target answered $code"
done
[ "$(status -X POST -H "Authorization: Bearer $PUB_TOKEN" --data-binary x \
      "$URL/kbs/v0/resource/default/key/%70ublic")" = 200 ] || fail "item 2: encoded allowed path refused"
"$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token" set-resource-policy --allow-all >/dev/null
"$CLI_BIN" --url "$URL" get-resource --path default/key/one --output "$WORK/got.bin"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "item 2: the secret was overwritten"

# Item 6: ambiguous Transfer-Encoding is 400, the connection closes, nothing is smuggled.
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%b' "$1" >&3
  timeout 5 cat <&3 || true
  exec 3<&- 3>&-
}
SMUGGLED='GET /kbs/v0/resource/default/key/one HTTP/1.1\r\nHost: a\r\n\r\n'
for te in 'Transfer-Encoding: chunked, identity\r\n' 'Transfer-Encoding: gzip\r\n' \
          'Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n' \
          'Transfer-Encoding: chunked\r\nContent-Length: 0\r\n'; do
  out="$(raw "POST /kbs/v0/auth HTTP/1.1\r\nHost: a\r\n${te}\r\n${SMUGGLED}")"
  [[ "$out" == "HTTP/1.1 400 "* ]] || fail "item 6: $te: $out"
  [ "$(grep -c '^HTTP/1.1' <<<"$out")" = 1 ] || fail "item 6: $te: second response: $out"
done

# Item 5: a request value cannot forge a log line, and a huge one cannot flood the log.
FORGED='x\n[2030-01-01 00:00:00.000] [info] admin: resource `default/key/one` deleted'
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data-binary "{\"version\":\"0.4.0\",\"tee\":\"$FORGED\",\"extra-params\":{}}" "$URL/kbs/v0/auth"
head -c 700000 /dev/zero | tr '\0' 'A' >"$WORK/big"
printf '{"version":"0.4.0","tee":"%s","extra-params":{}}' "$(cat "$WORK/big")" >"$WORK/big.json"
for _ in $(seq 1 20); do
  curl -s -o /dev/null -X POST --data-binary @"$WORK/big.json" "$URL/kbs/v0/auth"
done
LOGS="$(cat "$WORK/kbs.log")"
grep -q '^\[2030-01-01' <<<"$LOGS" && fail "item 5: forged log line"
[ "${#LOGS}" -lt 100000 ] || fail "item 5: ${#LOGS} bytes of log"

# Item 9: policies OPA's compiler refuses (or that could never allow) are refused with 400,
# naming the check and its location; nothing is stored and the policy in force stays. Both the
# admin API and the CLI path (`ccburst config set-resource-policy/set-attestation-policy`).
ADMIN_CLI=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
policy_refused() {  # KIND FILE_TEXT DETAIL
  local kind="$1" text="$2" detail="$3" b64 body code
  printf '%b' "$text" >"$WORK/bad.rego"
  b64="$(base64 -w0 <"$WORK/bad.rego" | tr '+/' '-_' | tr -d '=')"
  if [ "$kind" = resource ]; then
    body="{\"policy\":\"$b64\"}"
    code="$(curl -s -o "$WORK/policy.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
            -H 'Content-Type: application/json' -d "$body" "$URL/kbs/v0/resource-policy")"
    "${ADMIN_CLI[@]}" set-resource-policy --policy-file "$WORK/bad.rego" >/dev/null 2>"$WORK/policy.cli" \
      && fail "item 9: ccburst config accepted: $text"
  else
    body="{\"type\":\"rego\",\"policy_id\":\"bad_cpu\",\"policy\":\"$b64\"}"
    code="$(curl -s -o "$WORK/policy.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
            -H 'Content-Type: application/json' -d "$body" "$URL/kbs/v0/attestation-policy")"
    "${ADMIN_CLI[@]}" set-attestation-policy --id bad_cpu --policy-file "$WORK/bad.rego" >/dev/null \
      2>"$WORK/policy.cli" && fail "item 9: ccburst config accepted: $text"
  fi
  [ "$code" = 400 ] || fail "item 9: $kind policy answered $code: $text: $(cat "$WORK/policy.out")"
  grep -qF -- "$detail" "$WORK/policy.out" || fail "item 9: no '$detail' in $(cat "$WORK/policy.out")"
  grep -qF -- "$detail" "$WORK/policy.cli" || fail "item 9: CLI: no '$detail' in $(cat "$WORK/policy.cli")"
}
policy_refused resource 'package policy\nallow if { allow }\n' \
  'resource-policy.rego:2:1: rego_recursion_error: rule data.policy.allow is recursive: data.policy.allow -> data.policy.allow'
policy_refused resource 'package policy\nallow if { a }\na if { b }\nb if { allow }\n' 'rego_recursion_error'
policy_refused resource 'package policy\nallow if { no_such_fn(input.tee) }\n' \
  'resource-policy.rego:2:12: rego_type_error: undefined function no_such_fn'
policy_refused resource 'package policy\nallow if { startswith(input.tee) }\n' \
  'rego_type_error: startswith: arity mismatch: 1 arguments given, function takes 2'
policy_refused resource 'package policy\nallow if { input.tee == t }\n' 'rego_unsafe_var_error: var t is unsafe'
policy_refused resource 'package policy\nallow if { data.resource_path[0] == "default" }\n' \
  'rego_type_error: undefined ref: data.resource_path'
policy_refused resource 'package kbs\nallow := true\n' 'resource-policy.rego:1:9: rego_compile_error: package kbs is not policy'
policy_refused resource 'package policy\nallowed := true\n' 'rego_compile_error: no allow rule in package policy'
policy_refused attestation 'package policy\ntrust_claims := {"hardware": h}\nh := 2 if { h == 2 }\n' \
  'bad_cpu.rego:3:1: rego_recursion_error: rule data.policy.h is recursive'
policy_refused attestation 'package policy\ntrust_claims := {"hardware": hw("x")}\n' \
  'rego_type_error: undefined function hw'
policy_refused attestation 'package policy\nx := 1\n' 'rego_compile_error: no trust_claims rule in package policy'
# `ccburst policy check` runs the same checks without a KBS (exit 1, the same message).
printf 'package policy\nallow if { allow }\n' >"$WORK/bad.rego"
rc=0; "$CLI_BIN" policy check "$WORK/bad.rego" 2>"$WORK/check.err" || rc=$?
[ "$rc" = 1 ] || fail "item 9: ccburst policy check exited $rc"
grep -qF 'bad.rego:2:1: rego_recursion_error: rule data.policy.allow is recursive' "$WORK/check.err" \
  || fail "item 9: ccburst policy check: $(cat "$WORK/check.err")"
"$CLI_BIN" policy check --kind attestation "$(dirname "$0")/../attestation/policies/default_cpu.rego" >/dev/null \
  || fail "item 9: the built-in attestation policy fails its own checks"
# Nothing was stored: the allow-all policy set above still releases the secret, and no `bad_cpu`.
"$CLI_BIN" --url "$URL" get-resource --path default/key/one --output "$WORK/got.bin"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "item 9: the policy in force changed"
"${ADMIN_CLI[@]}" get-attestation-policies | grep -q bad_cpu && fail "item 9: bad_cpu was stored"

# Item 12: at the connection limit (16), idle connections are closed oldest first and a new
# client is answered within a second or two.
for i in $(seq 1 24); do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; done
start_ns=$(date +%s%N)
[ "$(status --max-time 5 "$URL/healthz")" = 200 ] || fail "item 12: new client not answered"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
[ "$elapsed_ms" -lt 2000 ] || fail "item 12: new client waited ${elapsed_ms} ms"

stop
echo "e2e hardening: PASS"
