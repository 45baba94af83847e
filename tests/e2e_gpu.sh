#!/usr/bin/env bash
# End-to-end test of NVIDIA GPU device evidence through the real binaries: ccburst-testgen creates
# a TDX test hierarchy (the CPU TEE) and a test NVIDIA device CA; ccburst-kbs trusts the CA through
# [attestation_service.verifier_config.nvidia_verifier]; ccburst-testgen runs /auth + /attest +
# resource with a TD quote bound to the session and two GPUs in additional_evidence (reports bound
# to the device binding). Both GPUs good: the secret; GPU 1 signing another session's nonce: refused
# with that GPU and the check named; 100 GPUs: refused by the bound; the "CPU and every GPU
# affirming" preset refuses a pod without GPUs, releases to a TD with two GPUs affirming (reference
# values registered, the GPUs' golden measurements from a signed test RIM through `ccburst config
# set-rim-reference-values`) and refuses when one GPU's measurements are not the RIM's.
# Usage: e2e_gpu.sh <build-dir>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
TESTGEN="$BUILD/tests/ccburst-testgen"
WORK="$(mktemp -d /tmp/ccburst-e2e-gpu.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
mkdir -p "$WORK/gpu"
"$TESTGEN" hierarchy --tee nvidia --out "$WORK/gpu" >"$WORK/gpu.files"
grep -qx "$WORK/gpu/root.pem" "$WORK/gpu.files" || fail "ccburst-testgen did not write gpu/root.pem"

"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
write_test_kbs_toml '[attestation_service.verifier_config.nvidia_verifier]' 'trusted_root = "gpu/root.pem"' 'max_devices = 8'

start_kbs "$KBS" e2e_gpu
grep -q "nvidia_verifier.trusted_root" "$WORK/kbs.log" \
  || fail "no warning for nvidia_verifier.trusted_root"

ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
head -c 2000 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource-policy --allow-all

attest() {
  "$TESTGEN" attest --url "$URL" --tee tdx --hierarchy "$WORK/tdx" --gpu-ca "$WORK/gpu" \
    --path default/key/model "$@"
}

# A TD with two good GPUs.
attest --gpus 2 >"$WORK/got.bin" 2>"$WORK/attest.err" || fail "two GPUs: $(cat "$WORK/attest.err")"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "two GPUs: secret bytes differ"
echo "e2e_gpu: TD + 2 GPUs returned the exact secret"

# device_count OUTCOME: the KBS's kbs_device_attestations_total{arch="HOPPER",outcome=OUTCOME}
# (0 when absent).
device_count() {
  curl -s "$URL/metrics" | awk -v want="kbs_device_attestations_total{arch=\"HOPPER\",outcome=\"$1\"}" \
    '$1 == want { v = $2 } END { print v == "" ? 0 : v + 0 }'
}
failures_before="$(device_count failure)"
successes_before="$(device_count success)"
[ "$((failures_before + successes_before))" = 2 ] \
  || fail "two GPUs: not 2 in kbs_device_attestations_total: $(curl -s "$URL/metrics" | grep device)"

# GPU 1 signs another session's nonce: refused, naming the GPU and the check.
rc=0
attest --gpus 2 --bad-gpu 1 >"$WORK/got.bin" 2>"$WORK/attest.err" || rc=$?
[ "$rc" = 1 ] || fail "bad GPU: exit $rc, want 1: $(cat "$WORK/attest.err")"
[ ! -s "$WORK/got.bin" ] || fail "bad GPU: a resource was printed"
for want in "HTTP 401" "nvidia: device 1 (gpu-1): report nonce" "does not match the expected nonce"; do
  grep -qF -- "$want" "$WORK/attest.err" || fail "bad GPU: no '$want' in: $(cat "$WORK/attest.err")"
done
echo "e2e_gpu: bad GPU refused: $(cat "$WORK/attest.err")"
alive "bad GPU"

# The KBS counts each GPU's outcome in kbs_device_attestations_total{arch,outcome}, the series the
# scaler's GPU gate reads: the refused GPU 1 is one more failure (its evidence's arch, HOPPER).
[ "$(device_count failure)" = "$((failures_before + 1))" ] \
  || fail "bad GPU: kbs_device_attestations_total failure $(device_count failure), want $((failures_before + 1))"
[ "$(device_count success)" = "$successes_before" ] || fail "bad GPU: a GPU counted as success"

# More GPUs than max_devices.
rc=0
attest --gpus 100 >"$WORK/got.bin" 2>"$WORK/attest.err" || rc=$?
[ "$rc" = 1 ] || fail "100 GPUs: exit $rc, want 1"
grep -qF "100 devices, more than the limit of 8" "$WORK/attest.err" \
  || fail "100 GPUs: $(cat "$WORK/attest.err")"
alive "100 GPUs"

# "CPU and every GPU affirming" refuses a TD without GPUs.
"${ADMIN[@]}" set-resource-policy --gpus-affirming
rc=0
attest >"$WORK/got.bin" 2>"$WORK/attest.err" || rc=$?
[ "$rc" = 1 ] || fail "no GPU under --gpus-affirming: exit $rc, want 1"
grep -qF "HTTP 401" "$WORK/attest.err" || fail "no GPU: $(cat "$WORK/attest.err")"

# "CPU and every GPU affirming", positive: reference values for the TD (the generated quote's MRTD,
# RTMRs and XFAM) and for the GPUs (driver and VBIOS versions, and the golden measurements of the
# test RIM, verified by the CLI against the test RIM CA and registered as nvidia_measurements).
Z48="$(printf '%096d' 0)"
"${ADMIN[@]}" set-sample-reference-value --json mr_td "[\"$(printf '11%.0s' $(seq 48))\"]"
"${ADMIN[@]}" set-sample-reference-value --json rtmr_1 "[\"$Z48\"]"
"${ADMIN[@]}" set-sample-reference-value --json rtmr_2 "[\"$Z48\"]"
"${ADMIN[@]}" set-sample-reference-value --json xfam '["e702060000000000"]'
"${ADMIN[@]}" set-sample-reference-value --json nvidia_driver_version '["550.90.07"]'
"${ADMIN[@]}" set-sample-reference-value --json nvidia_vbios_version '["96.00.9f.00.01"]'
"${ADMIN[@]}" set-rim-reference-values --rim "$WORK/gpu/rim.xml" \
  --rim-root "$WORK/gpu/rim_root.pem" >"$WORK/rim.out" || fail "set-rim-reference-values"
grep -qF "nvidia_measurements: 8 golden measurement(s) from 1 verified RIM(s)" "$WORK/rim.out" \
  || fail "rim: $(cat "$WORK/rim.out")"
# A RIM from another CA is refused before anything is registered.
mkdir -p "$WORK/other"
"$TESTGEN" hierarchy --tee nvidia --out "$WORK/other" >/dev/null
rc=0
"${ADMIN[@]}" set-rim-reference-values --rim "$WORK/other/rim.xml" \
  --rim-root "$WORK/gpu/rim_root.pem" >"$WORK/rim.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a RIM of another CA was registered"
grep -qF "not in a trusted RIM root" "$WORK/rim.out" || fail "other RIM CA: $(cat "$WORK/rim.out")"

# claims TOKEN-FILE EXPR: EXPR over the EAR token's claims `c` (python).
claims() {
  python3 -c "
import base64, json, sys
p = open(sys.argv[1]).read().split('.')[1]
c = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
print($2)
" "$1"
}
# submods TOKEN-FILE: "name=status" per submodule of the EAR token, sorted.
submods() { claims "$1" "' '.join(f'{n}={s[\"ear.status\"]}' for n, s in sorted(c['submods'].items()))"; }

attest --gpus 2 --token-out "$WORK/token.jwt" >"$WORK/got.bin" 2>"$WORK/attest.err" \
  || fail "CPU + 2 affirming GPUs: $(cat "$WORK/attest.err") (token: $(submods "$WORK/token.jwt"))"
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "CPU + 2 affirming GPUs: secret bytes differ"
[ "$(submods "$WORK/token.jwt")" = "cpu0=affirming gpu0=affirming gpu1=affirming" ] \
  || fail "CPU + 2 GPUs: $(submods "$WORK/token.jwt")"
echo "e2e_gpu: --gpus-affirming: TD + 2 affirming GPUs returned the exact secret"

# GPU 1 runs firmware the RIM does not list: its submodule is not affirming (executables 33), so
# the preset refuses the resource.
rc=0
attest --gpus 2 --unmeasured-gpu 1 --token-out "$WORK/token.jwt" >"$WORK/got.bin" \
  2>"$WORK/attest.err" || rc=$?
[ "$rc" = 1 ] || fail "unmeasured GPU: exit $rc, want 1: $(cat "$WORK/attest.err")"
[ ! -s "$WORK/got.bin" ] || fail "unmeasured GPU: a resource was printed"
grep -qF "denied by the resource policy" "$WORK/attest.err" \
  || fail "unmeasured GPU: $(cat "$WORK/attest.err")"
[ "$(submods "$WORK/token.jwt")" = "cpu0=affirming gpu0=affirming gpu1=warning" ] \
  || fail "unmeasured GPU: $(submods "$WORK/token.jwt")"
tv="$(claims "$WORK/token.jwt" "json.dumps(c['submods']['gpu1']['ear.trustworthiness-vector'], sort_keys=True)")"
case "$tv" in
  *'"configuration": 2'*'"executables": 33'*'"hardware": 2'*) ;;
  *) fail "unmeasured GPU: gpu1 trustworthiness vector $tv" ;;
esac
echo "e2e_gpu: --gpus-affirming: unmeasured GPU refused ($(submods "$WORK/token.jwt"), gpu1 $tv): $(cat "$WORK/attest.err")"
alive "unmeasured GPU"
# The real KBS's /metrics carries both outcomes for the HOPPER GPUs (the scaler's GPU gate).
METRICS="$(curl -s "$URL/metrics")"
for want in 'kbs_device_attestations_total{arch="HOPPER",outcome="success"}' \
  'kbs_device_attestations_total{arch="HOPPER",outcome="failure"}'; do
  grep -qF "$want" <<<"$METRICS" || fail "metrics: no $want in: $(grep device <<<"$METRICS")"
done
# At least the 2 + 1 affirming GPUs since (the client may attest again after a policy refusal).
[ "$(device_count success)" -ge "$((successes_before + 3))" ] \
  || fail "metrics: HOPPER success $(device_count success), want >= $((successes_before + 3))"
echo "e2e_gpu: /metrics: $(grep '^kbs_device_attestations_total' <<<"$METRICS" | tr '\n' ' ')"
echo "e2e_gpu: PASS"
