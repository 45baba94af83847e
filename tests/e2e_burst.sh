#!/usr/bin/env bash
# End-to-end test of the burst (issue 14), short mode: scripts/burst.sh with the real KBS,
# Prometheus, ccburst-scaler and ccburst-burst at speed 60 (30 simulated minutes in 30 s), then
# asserts on real values: every VM was an Azure TDX CVM (its own swtpm vTPM and IMDS stand-in) and
# attested as az-tdx-vtpm (the agents' logs, the KBS's attestation counter by TEE), every
# untampered VM attested and decrypted the model with the released key, the tampered VM (its
# TDREPORT carries an MRTD outside the reference values) was refused with the KBS's reason, the
# cloud deployment scaled out and back to zero, the driver polled the scaler over gRPC (the
# scaler's decision counters) and the scaler queried Prometheus (Prometheus' own request
# counters), and nothing started is left running (no swtpm, no IMDS stand-in, no agent). A second,
# shorter run with `--tee tdx` (plain TDX VMs) checks that a run after a run works.
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
# Each VM was an Azure TDX CVM: its own vTPM (swtpm on its own port, state in its directory) and
# IMDS stand-in, the HCL report's TDREPORT (NV 0x01400001, HCL header 32 + TDINFO's MRTD at 528)
# carrying the VM's MRTD, and the agent detected az-tdx-vtpm.
ports = set()
for v in good + bad:
    d = os.path.join(sys.argv[2], "vm-%d" % v["id"])
    words = dict(w.split("=", 1) for w in open(os.path.join(d, "host.out")).read().split()[1:])
    assert words["tpm"].startswith("swtpm:host=127.0.0.1,port=") and words["imds"].startswith("http://127.0.0.1:"), words
    ports.add(words["tpm"]); ports.add(words["imds"])
    assert os.path.isdir(os.path.join(d, "tpm")), d
    mrtd = open(os.path.join(d, "hcl.bin"), "rb").read()[32 + 528:32 + 528 + 48]
    assert mrtd == (b"\x22" if v["tampered"] else b"\x11") * 48, (v, mrtd.hex())
    assert "serving tee=az-tdx-vtpm" in open(os.path.join(d, "agent.log")).read(), v
assert len(ports) == 2 * len(good + bad), ports
print("e2e_burst: %d VMs attested as az-tdx-vtpm and serving, vm-%d refused: %s" % (len(good), bad[0]["id"], bad[0]["reason"]))
PY

# The KBS released exactly the attested VMs' keys and denied the tampered one; every attestation
# it counted was az-tdx-vtpm (the untampered VMs and the tampered one, whose token the resource
# policy then refused).
grep -qx 'kbs_resource_denials_total{reason="policy"} 1' "$WORK/kbs.metrics" || fail "kbs denials: $(grep denials "$WORK/kbs.metrics")"
python3 - "$WORK/kbs.metrics" "$RESULT" <<'PY' || fail "kbs attestations by TEE: $(grep attestations_total "$WORK/kbs.metrics")"
import json, re, sys
r = json.load(open(sys.argv[2]))
by_tee = {}
for m in re.finditer(r'^kbs_attestations_total\{outcome="(\w+)",tee="([\w-]+)"\} (\S+)', open(sys.argv[1]).read(), re.M):
    by_tee[(m.group(1), m.group(2))] = float(m.group(3))
assert by_tee.get(("success", "az-tdx-vtpm"), 0) == r["attested"] + r["refused"], by_tee
assert all(v == 0 for (outcome, tee), v in by_tee.items() if tee != "az-tdx-vtpm"), by_tee
print("e2e_burst: the KBS counted %d az-tdx-vtpm attestations" % by_tee[("success", "az-tdx-vtpm")])
PY
# The driver's gRPC calls reached the scaler: it decided for the workload, scaling up and in (a
# scale-up is `scale_up`, or `trend` / `warm_pool` when the reserve of rules 6-7 led it).
for reason in 'scale_up|trend|warm_pool' scale_in; do
  grep -qE "^ccburst_scaler_decisions_total\{.*reason=\"($reason)\".*workload=\"on-prem-deployment\"\} [1-9]" "$WORK/scaler.metrics" \
    || grep -qE "^ccburst_scaler_decisions_total\{.*workload=\"on-prem-deployment\".*reason=\"($reason)\".*\} [1-9]" "$WORK/scaler.metrics" \
    || fail "scaler metrics show no $reason decision: $(grep decisions_total "$WORK/scaler.metrics")"
done
# The scaler's queries reached Prometheus (instant-query API) and found the cluster model's series.
python3 - "$WORK/prometheus.metrics" <<'PY' || fail "prometheus saw no queries"
import re, sys
n = sum(float(m.group(1)) for m in re.finditer(r'^prometheus_http_requests_total\{code="200",handler="/api/v1/query"\} (\S+)', open(sys.argv[1]).read(), re.M))
assert n > 50, n
print("e2e_burst: prometheus answered %d instant queries" % n)
PY
# The cluster model exported the nodes burst-demo.csv's header names (node-5: 5 vCPU, 15 GiB).
grep -qx 'kube_node_status_allocatable{node="node-5",resource="cpu",unit="core"} 5' "$WORK/cluster/ksm.prom" \
  || fail "the cluster's nodes are not burst-demo's: $(grep allocatable "$WORK/cluster/ksm.prom")"

# Nothing started is left running: the script's processes and every guest (agents, swtpms, IMDS
# stand-ins: their command lines name the run's directory).
no_strays() {
  while read -r p; do
    [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null || fail "process $p still running"
  done <"$WORK/pids"
  if pgrep -f "$WORK" >/dev/null; then fail "left running: $(pgrep -af "$WORK")"; fi
}
no_strays
[ "$(find "$WORK/run/ccburst" -maxdepth 2 -name swtpm.log | wc -l)" -ge 3 ] || fail "fewer than 3 VMs started a swtpm"

# A second run in the same directory (emptied by burst.sh) with plain TDX VMs, ended while its VMs
# run: it works, its VMs attest as tdx, and it too leaves nothing running.
BUILD_DIR="$BUILD" BURST_WORK="$WORK" BURST_SPEED=60 "$ROOT/scripts/burst.sh" --tee tdx \
  --duration 600 --policies ccburst >"$TOP/burst2.out" 2>&1 || { tail -40 "$TOP/burst2.out"; fail "second burst.sh (--tee tdx) failed"; }
grep -qE '^kbs_attestations_total\{outcome="success",tee="tdx"\} [1-9]' "$WORK/kbs.metrics" \
  || fail "second run: no tdx attestation: $(grep attestations_total "$WORK/kbs.metrics")"
no_strays
echo "e2e_burst: second run (--tee tdx, stopped with its VMs running) attested as tdx and left nothing running"
echo "e2e_burst: PASS"
