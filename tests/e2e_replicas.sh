#!/usr/bin/env bash
# Two ccburst-kbs replicas on one real PostgreSQL (tests/pg.sh: a throwaway cluster on loopback),
# through the real binaries:
#   1. every flow spread across the replicas (/auth and /resource on one, /attest on the other)
#      succeeds, and each replica is ready;
#   2. kill -9 of one replica mid-run: clients that retry on the other lose no flow, and every
#      secret written and acknowledged before the kill is readable afterwards;
#   3. PostgreSQL restarted mid-run: requests in the gap get a fast 503 (readiness too), the
#      replicas reconnect on their own, nothing is lost;
#   4. a resource policy set through one replica decides the other's very next request (the
#      configuration each replica caches is checked against the shared generation);
#   5. a dump of the database holds no secret byte (encryption at rest).
# Usage: e2e_replicas.sh <build-dir>
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
LOAD="$BUILD/bench/kbs_load"
WORK="$(mktemp -d /tmp/ccburst-replicas.XXXXXX)"
source "$HERE/pg.sh"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/kbs-*.log; do [ -f "$f" ] && { echo "== $f"; tail -15 "$f"; } >&2; done
  exit 1
}
code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }

pg_start "$WORK/pg"
echo "PostgreSQL on port $PG_PORT"

"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
"$CLI_BIN" make-kek --id e2e-1 --out "$WORK/kek" >/dev/null
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/token.key"
SECRET="replica-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s' "$SECRET" >"$WORK/secret.bin"
pg_kbs_toml 'sslmode = "disable"' 'pool_size = 4' 'statement_timeout_ms = 2000' \
  'connect_timeout_s = 2' >"$WORK/kbs.toml"

# `start_replica NAME`: starts a replica, sets its PID_<NAME> and URL_<NAME>.
start_replica() {
  local name="$1"
  : >"$WORK/kbs-$name.out"
  "$KBS" --config "$WORK/kbs.toml" --log-level warn >"$WORK/kbs-$name.out" 2>"$WORK/kbs-$name.log" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do
    grep -q "ready port=" "$WORK/kbs-$name.out" && break
    kill -0 "$pid" 2>/dev/null || fail "replica $name exited at start-up"
    sleep 0.05
  done
  local port
  port="$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/kbs-$name.out")"
  [ -n "$port" ] || fail "replica $name: no port"
  printf -v "PID_$name" '%s' "$pid"
  printf -v "URL_$name" '%s' "http://127.0.0.1:$port"
  echo "replica $name on port $port"
}
start_replica A
start_replica B

ADMIN=("$CLI_BIN" --url "$URL_A" config --admin-token-file "$WORK/admin.token")
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin" >/dev/null
"${ADMIN[@]}" set-resource-policy --allow-all >/dev/null

# 1. Spread flows, readiness.
for r in A B; do
  u="URL_$r"
  [ "$(code "${!u}/readyz")" = 200 ] || fail "replica $r not ready"
done
"$LOAD" --url "$URL_A" --url "$URL_B" --clients 4 --seconds 3 --warmup 1 --expect "$SECRET" \
  >"$WORK/load1.txt" 2>&1 || { cat "$WORK/load1.txt"; fail "spread flows failed"; }
echo "ok   spread flows: $(cat "$WORK/load1.txt")"
grep -q " errors=0" "$WORK/load1.txt" || fail "errors in spread flows"

# 2. kill -9 of replica B mid-run, with writes acknowledged by A during the run.
# Each flow on one replica, round robin; a flow that fails on B is retried whole on A.
"$LOAD" --url "$URL_A" --url "$URL_B" --spread false --clients 4 --seconds 5 --warmup 1 --retries 2 \
  --expect "$SECRET" >"$WORK/load2.txt" 2>&1 &
LOAD_PID=$!
: >"$WORK/acked.txt"
for i in $(seq 1 30); do
  printf 'secret-%s-%s' "$i" "$SECRET" >"$WORK/s.bin"
  if "${ADMIN[@]}" set-resource --path "acked/key/k$i" --resource-file "$WORK/s.bin" >/dev/null 2>&1; then
    echo "$i" >>"$WORK/acked.txt"
  fi
  if [ "$i" = 10 ]; then kill -9 "$PID_B"; echo "killed replica B"; fi
  sleep 0.1
done
wait "$LOAD_PID" || { cat "$WORK/load2.txt"; fail "flows lost when replica B was killed"; }
echo "ok   kill -9 replica B: $(head -1 "$WORK/load2.txt")"
[ "$(wc -l <"$WORK/acked.txt")" = 30 ] || fail "writes to A failed while B died"
for i in $(cat "$WORK/acked.txt"); do
  "$CLI_BIN" --url "$URL_A" get-resource --path "acked/key/k$i" --output "$WORK/got.bin" >/dev/null \
    || fail "acknowledged secret k$i not readable"
  [ "$(cat "$WORK/got.bin")" = "secret-$i-$SECRET" ] || fail "acknowledged secret k$i differs"
done
echo "ok   all 30 acknowledged secrets readable after the kill"
start_replica B

# 3. PostgreSQL restart mid-run.
pg_server_stop fast
start_s=$(date +%s%N)
c="$(code "$URL_A/readyz")"
elapsed_ms=$(( ($(date +%s%N) - start_s) / 1000000 ))
[ "$c" = 503 ] || fail "readyz during the database outage: $c, want 503"
[ "$elapsed_ms" -lt 5000 ] || fail "readyz took ${elapsed_ms} ms during the outage"
# /auth stores nothing (the session is in its sealed cookie): it still answers.
c="$(curl -s -m 10 -o "$WORK/auth.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"version":"0.4.0","tee":"sample","extra-params":""}' "$URL_B/kbs/v0/auth")"
[ "$c" = 200 ] || { cat "$WORK/auth.json"; fail "auth during the outage: $c, want 200"; }
# What needs the database is a fast 503 StorageError, never a verdict.
start_s=$(date +%s%N)
c="$(curl -s -m 10 -o "$WORK/write.json" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $(cat "$WORK/admin.token")" --data-binary 'v' \
  "$URL_B/kbs/v0/resource/default/key/during-outage")"
elapsed_ms=$(( ($(date +%s%N) - start_s) / 1000000 ))
[ "$c" = 503 ] || { cat "$WORK/write.json"; fail "write during the outage: $c, want 503"; }
grep -q StorageError "$WORK/write.json" || fail "write during the outage is not a StorageError"
[ "$elapsed_ms" -lt 5000 ] || fail "write took ${elapsed_ms} ms during the outage"
[ "$(code "$URL_A/healthz")" = 200 ] || fail "liveness must not follow the shared database"
echo "ok   database down: fast 503 on /readyz and a write (${elapsed_ms} ms), /auth and /healthz still 200"
pg_server_start
for r in A B; do
  u="URL_$r"
  for _ in $(seq 1 100); do [ "$(code "${!u}/readyz")" = 200 ] && break; sleep 0.1; done
  [ "$(code "${!u}/readyz")" = 200 ] || fail "replica $r did not reconnect"
done
"$LOAD" --url "$URL_B" --url "$URL_A" --clients 4 --seconds 2 --warmup 1 --expect "$SECRET" \
  >"$WORK/load3.txt" 2>&1 || { cat "$WORK/load3.txt"; fail "flows after the database restart"; }
echo "ok   reconnected after the database restart: $(cat "$WORK/load3.txt")"
"$CLI_BIN" --url "$URL_B" get-resource --path acked/key/k30 --output "$WORK/got.bin" >/dev/null
[ "$(cat "$WORK/got.bin")" = "secret-30-$SECRET" ] || fail "secret changed across the restart"

# 4. Configuration is cached per replica, yet a change made through one replica decides the very
# next request on the other (the shared generation is checked by each request's first statement).
for round in 1 2; do
  "${ADMIN[@]}" set-resource-policy --deny-all >/dev/null
  if "$CLI_BIN" --url "$URL_B" get-resource --path default/key/model --output "$WORK/got.bin" \
    >"$WORK/denied.txt" 2>&1; then
    fail "replica B released a resource after replica A set a deny-all policy (round $round)"
  fi
  grep -qi "denied\|PolicyDeny\|403" "$WORK/denied.txt" \
    || { cat "$WORK/denied.txt"; fail "replica B: not a policy denial (round $round)"; }
  "${ADMIN[@]}" set-resource-policy --allow-all >/dev/null
  "$CLI_BIN" --url "$URL_B" get-resource --path default/key/model --output "$WORK/got.bin" >/dev/null \
    || fail "replica B refused after replica A set an allow-all policy again (round $round)"
  [ "$(cat "$WORK/got.bin")" = "$SECRET" ] || fail "replica B released something else"
done
echo "ok   a resource policy set through A decides B's next request (deny, then allow, twice)"

# 5. Encryption at rest: neither the dump nor the data files hold the secret.
pg_as_owner "$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres >"$WORK/dump.sql"
grep -q "ccburst_kv" "$WORK/dump.sql" || fail "dump has no ccburst_kv table"
# bytea is dumped as hex: look for both spellings.
SECRET_HEX="$(printf '%s' "$SECRET" | od -An -tx1 | tr -d ' \n')"
if grep -q -e "$SECRET" -e "$SECRET_HEX" "$WORK/dump.sql"; then fail "the secret is in the database dump"; fi
if grep -rqa "$SECRET" "$PG_DATA"; then fail "the secret is in PostgreSQL's files"; fi
echo "ok   pg_dump and the data directory hold no secret"
echo "PASS e2e_replicas"
