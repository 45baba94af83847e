#!/usr/bin/env bash
# Regression tests of issue 16 ("hardening") through the real binaries over loopback: ccburst-kbs
# with its SQLite store on an ephemeral port, driven by curl, raw sockets and the `ccburst` CLI.
# Each check names the item it keeps fixed (docs/security.md). Usage: e2e_hardening.sh <build-dir>
set -euo pipefail
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
WORK="$(mktemp -d /tmp/ccburst-hardening.XXXXXX)"
PID=""
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/kbs.log" ] && tail -20 "$WORK/kbs.log" >&2; exit 1; }
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

start() {
  : >"$WORK/kbs.out"
  (umask 000 && exec "$KBS" --config "$WORK/kbs.toml" >"$WORK/kbs.out" 2>>"$WORK/kbs.log") &
  PID=$!
  for _ in $(seq 1 200); do
    grep -q "ready port=" "$WORK/kbs.out" && break
    kill -0 "$PID" 2>/dev/null || fail "ccburst-kbs exited at start-up"
    sleep 0.05
  done
  PORT="$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/kbs.out")"
  [ -n "$PORT" ] || fail "no port"
  URL="http://127.0.0.1:$PORT"
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }
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
LOGS="$(cat "$WORK/kbs.out" "$WORK/kbs.log")"
grep -q '^\[2030-01-01' <<<"$LOGS" && fail "item 5: forged log line"
[ "${#LOGS}" -lt 100000 ] || fail "item 5: ${#LOGS} bytes of log"

# Item 12: at the connection limit (16), idle connections are closed oldest first and a new
# client is answered within a second or two.
for i in $(seq 1 24); do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; done
start_ns=$(date +%s%N)
[ "$(status --max-time 5 "$URL/healthz")" = 200 ] || fail "item 12: new client not answered"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
[ "$elapsed_ms" -lt 2000 ] || fail "item 12: new client waited ${elapsed_ms} ms"

stop
echo "e2e hardening: PASS"
