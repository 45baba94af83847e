#!/usr/bin/env bash
# ccburst-agent's cost: resident memory while idle (after start-up and after serving a secret)
# and the time from process start to the first secret through /cdh/resource, against a loopback
# HTTP ccburst-kbs, per attester (tdx and snp over the configfs-tsm stand-in, sample). Each run
# starts a fresh agent, so the time includes key generation, the first attestation (auth, evidence,
# attest, token) and the resource round trip. Usage: bench/agent_startup.sh [build-dir] [runs]
set -euo pipefail
BUILD="${1:-build}"
RUNS="${2:-10}"
source "$(dirname "$0")/../tests/lib.sh"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
AGENT="$BUILD/apps/ccburst-agent"
TESTGEN="$BUILD/tests/ccburst-testgen"
WORK="$(mktemp -d /tmp/ccburst-agent-bench.XXXXXX)"
PID=""
PIDS=()
cleanup() { for p in $PID "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
write_test_kbs_toml "$SNP_TEST_VERIFIER" 'vcek_sources = [{ type = "OfflineStore", path = "kds-store" }]'
start_kbs "$KBS" agent_startup >/dev/null
ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
head -c 32 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource-policy --allow-all

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
now_ms() { date +%s%3N; }

printf '%-8s %14s %14s %16s %16s\n' tee "first ms p50" "first ms max" "idle RSS KiB" "after RSS KiB"
for tee in tdx snp sample; do
  args=(--tee "$tee" --kbs-url "$URL")
  if [ "$tee" != sample ]; then
    "$TESTGEN" tsm-stub --root "$WORK/tsm-$tee" --tee "$tee" --hierarchy "$WORK/$tee" >/dev/null 2>&1 &
    PIDS+=("$!")
    args+=(--configfs-root "$WORK/tsm-$tee")
  fi
  times=()
  for i in $(seq 1 "$RUNS"); do
    start=$(now_ms)
    "$AGENT" "${args[@]}" serve --listen 127.0.0.1:0 >"$WORK/a.out" 2>/dev/null &
    apid=$!
    until grep -q listening "$WORK/a.out" 2>/dev/null; do sleep 0.005; done
    port="$(sed -n 's|.*127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/a.out")"
    idle=$(rss "$apid")
    curl -sf "http://127.0.0.1:$port/cdh/resource/default/key/model" -o "$WORK/got.bin"
    end=$(now_ms)
    cmp -s "$WORK/got.bin" "$WORK/secret.bin" || { echo "wrong secret"; exit 1; }
    sleep 0.2
    after=$(rss "$apid")
    kill "$apid"; wait "$apid" 2>/dev/null || true
    times+=($((end - start)))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '%-8s %14s %14s %16s %16s\n' "$tee" "${sorted[$((RUNS / 2))]}" "${sorted[$((RUNS - 1))]}" "$idle" "$after"
done
