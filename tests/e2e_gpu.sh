#!/usr/bin/env bash
# End-to-end test of NVIDIA GPU device evidence through the real binaries: ccburst-testgen creates
# a TDX test hierarchy (the CPU TEE) and a test NVIDIA device CA; ccburst-kbs trusts the CA through
# [attestation_service.verifier_config.nvidia_verifier]; ccburst-testgen runs /auth + /attest +
# resource with a TD quote bound to the session and two GPUs in additional_evidence (reports bound
# to the device binding). Both GPUs good: the secret; GPU 1 signing another session's nonce: refused
# with that GPU and the check named; 100 GPUs: refused by the bound; the "CPU and every GPU
# affirming" preset refuses a pod without GPUs.
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
echo "e2e_gpu: PASS"
