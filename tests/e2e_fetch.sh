#!/usr/bin/env bash
# Issue 16 item 1 through the real binaries over loopback: ccburst-kbs (2 I/O threads) verifies
# SNP reports whose VCEK it must fetch from a KDS stand-in (a python3 http.server that answers
# 404, hangs, or 429 with Retry-After: 86400 for one chip, and serves the test hierarchy's VCEK
# for its own chip). ccburst-testgen sends reports with chosen or random CHIP_IDs, bound to the
# live session. Checked: a random-CHIP_ID flood makes at most the bucket's burst of outbound
# requests; /healthz and a TDX attestation stay fast while KDS hangs; one 429 blocks neither
# other chips nor, past the cap, its own chip. Usage: e2e_fetch.sh <build-dir>
set -euo pipefail
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
TESTGEN="$BUILD/tests/ccburst-testgen"
WORK="$(mktemp -d /tmp/ccburst-fetch.XXXXXX)"
PID=""
KDS_PID=""
source "$(dirname "$0")/lib.sh"
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  [ -n "$KDS_PID" ] && kill "$KDS_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >/dev/null
"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
# The hierarchy's chip (HierarchyOptions::chip_id's default): 0x00..0x3f ^ 0xa5.
OWN_CHIP="$(python3 -c 'print(bytes(i ^ 0xa5 for i in range(64)).hex())')"

# The KDS stand-in: $WORK/kds.mode is read per request ("404", "hang", or "429 <chip hex>");
# every request line is appended to $WORK/kds.requests.
cat >"$WORK/kds.py" <<'PY'
import http.server, os, sys, time
work, own_chip = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(work, "kds.requests"), "a") as f:
            f.write(self.path + "\n")
        mode = open(os.path.join(work, "kds.mode")).read().split()
        if mode[0] == "hang":
            time.sleep(30)
        if mode[0] == "429" and mode[1] in self.path:
            self.send_response(429); self.send_header("Retry-After", "86400")
            self.send_header("Content-Length", "0"); self.end_headers(); return
        if own_chip in self.path:
            body = open(os.path.join(work, "snp", "vcek.der"), "rb").read()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body); return
        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
PY
echo 404 >"$WORK/kds.mode"
: >"$WORK/kds.requests"
python3 "$WORK/kds.py" "$WORK" "$OWN_CHIP" >"$WORK/kds.port" &
KDS_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/kds.port" ] && break; sleep 0.05; done
KDS_URL="http://127.0.0.1:$(cat "$WORK/kds.port")"

KBS_HTTP_SERVER='sockets = ["127.0.0.1:0"]
insecure_http = true
worker_count = 2'
write_test_kbs_toml "$SNP_TEST_VERIFIER" "vcek_sources = [{ type = \"KDS\", base_url = \"$KDS_URL\" }]" \
  'max_fetches_in_flight = 2' 'fetch_burst = 5' 'fetches_per_minute = 1' 'fetch_wait_ms = 1000' \
  'max_retry_after_seconds = 3' 'negative_cache_seconds = 600'

restart() {
  [ -n "$PID" ] && { kill "$PID"; wait "$PID" || true; }
  start_kbs "$KBS" e2e_fetch
}
restart
ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
head -c 64 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin" >/dev/null
"${ADMIN[@]}" set-resource-policy --allow-all >/dev/null

# `snp CHIP`: one SNP flow whose report names CHIP (hex or random) and carries no certificates;
# the KBS's error detail goes to $WORK/attest.err.
snp() {
  "$TESTGEN" attest --url "$URL" --tee snp --hierarchy "$WORK/snp" --path default/key/model \
    --chip-id "$1" >"$WORK/got.bin" 2>"$WORK/attest.err"
}
requests() { wc -l <"$WORK/kds.requests"; }

# The hierarchy's own chip: its VCEK comes from the stand-in and the flow returns the secret.
snp "$OWN_CHIP" || fail "own chip through KDS: $(cat "$WORK/attest.err")"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "own chip: secret differs"
echo "e2e_fetch: own chip attested with a VCEK from the KDS stand-in"

# 1. A random-CHIP_ID flood (KDS answers 404) costs at most the bucket's burst (5) of outbound
# requests; the rest are refused without asking. Evidence not bound to the session costs none.
: >"$WORK/kds.requests"
for i in $(seq 1 20); do
  if snp random; then fail "random chip $i attested"; fi
done
got="$(requests)"
[ "$got" -le 5 ] || fail "item 1: 20 random chips made $got KDS requests (want <= 5)"
grep -q "rate limited" "$WORK/attest.err" || fail "item 1: no rate limit: $(cat "$WORK/attest.err")"
: >"$WORK/kds.requests"
if "$TESTGEN" attest --url "$URL" --tee snp --hierarchy "$WORK/snp" --path default/key/model \
     --chip-id random --wrong-report-data >/dev/null 2>"$WORK/attest.err"; then
  fail "wrong report data attested"
fi
grep -q "does not match the session binding" "$WORK/attest.err" || fail "binding: $(cat "$WORK/attest.err")"
[ "$(requests)" = 0 ] || fail "item 1: evidence with a wrong binding made a KDS request"
echo "e2e_fetch: 20 random chips made $got KDS requests; a wrong binding made none"

# 2. A hanging KDS: 4 concurrent SNP attestations (fresh bucket) do not stall /healthz or a TDX
# attestation on the 2 I/O threads.
restart
echo hang >"$WORK/kds.mode"
pids=()
for i in 1 2 3 4; do
  ( "$TESTGEN" attest --url "$URL" --tee snp --hierarchy "$WORK/snp" --path default/key/model \
      --chip-id random >/dev/null 2>&1 || true ) &
  pids+=($!)
done
sleep 0.3
start_ns=$(date +%s%N)
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/healthz")" = 200 ] || fail "item 1: /healthz"
health_ms=$(ms_since "$start_ns")
[ "$health_ms" -lt 1000 ] || fail "item 1: /healthz took $health_ms ms while KDS hangs"
start_ns=$(date +%s%N)
"$TESTGEN" attest --url "$URL" --tee tdx --hierarchy "$WORK/tdx" --path default/key/model \
  >"$WORK/got.bin" 2>"$WORK/attest.err" || fail "item 1: tdx while KDS hangs: $(cat "$WORK/attest.err")"
tdx_ms=$(ms_since "$start_ns")
[ "$tdx_ms" -lt 3000 ] || fail "item 1: a TDX attestation took $tdx_ms ms while KDS hangs"
start_ns=$(date +%s%N)
wait "${pids[@]}"
snp_ms=$(ms_since "$start_ns")
[ "$snp_ms" -lt 5000 ] || fail "item 1: SNP attestations waited $snp_ms ms more for a hanging KDS"
echo "e2e_fetch: KDS hanging: /healthz in $health_ms ms, TDX flow in $tdx_ms ms"

# 3. One 429 with Retry-After: 86400 blocks neither another chip nor (past the capped back-off) its own.
restart
LIMITED="$(python3 -c 'import os; print(os.urandom(64).hex())')"
echo "429 $LIMITED" >"$WORK/kds.mode"
: >"$WORK/kds.requests"
if snp "$LIMITED"; then fail "limited chip attested"; fi
grep -q "HTTP 429" "$WORK/attest.err" || fail "item 1: 429 not reported: $(cat "$WORK/attest.err")"
snp "$OWN_CHIP" || fail "item 1: another chip after a 429: $(cat "$WORK/attest.err")"
if snp "$LIMITED"; then fail "limited chip attested"; fi
grep -q "backing off" "$WORK/attest.err" || fail "item 1: no back-off: $(cat "$WORK/attest.err")"
[ "$(grep -c "$LIMITED" "$WORK/kds.requests")" = 1 ] || fail "item 1: asked again while backing off"
sleep 5.5  # the first back-off (5 s) is longer than the 3 s cap
if snp "$LIMITED"; then fail "limited chip attested"; fi
[ "$(grep -c "$LIMITED" "$WORK/kds.requests")" = 2 ] || fail "item 1: Retry-After 86400 not capped"
alive "429"
echo "e2e_fetch: PASS"
