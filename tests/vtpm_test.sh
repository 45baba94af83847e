#!/usr/bin/env bash
# Runs the Azure vTPM attester test binary (agent/vtpm/azure_attester_test.cc) against a real
# software TPM: for each Azure TEE starts a fresh swtpm (PCR8 zero), provisions the AK and the HCL
# report from a test hierarchy and runs the binary with CCB_VTPM_TCTI, CCB_VTPM_TEE and
# CCB_VTPM_HIERARCHY. Usage: vtpm_test.sh <build-dir>
set -euo pipefail
BUILD="$1"
TESTGEN="$BUILD/tests/ccburst-testgen"
TEST_BIN="$BUILD/agent/vtpm/agent_vtpm_swtpm_test"
WORK="$(mktemp -d /tmp/ccburst-vtpm.XXXXXX)"
source "$(dirname "$0")/swtpm.sh"
cleanup() { swtpm_stop; rm -rf "$WORK"; }
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >/dev/null

for tee in az-tdx-vtpm az-snp-vtpm; do
  case "$tee" in az-tdx-vtpm) dir="$WORK/tdx" ;; *) dir="$WORK/snp" ;; esac
  swtpm_stop
  rm -rf "$WORK/tpm"
  swtpm_start
  swtpm_provision_ak
  swtpm_provision_hcl "$tee" "$dir"
  echo "vtpm_test: $tee ($(stat -c %s "$WORK/hcl.bin")-byte HCL report in NV $AZ_HCL_NV_INDEX)"
  CCB_VTPM_TCTI="$SWTPM_TCTI" CCB_VTPM_TEE="$tee" CCB_VTPM_HIERARCHY="$dir" "$TEST_BIN"
done
echo "vtpm_test: PASS"
