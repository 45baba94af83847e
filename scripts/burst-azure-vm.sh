#!/usr/bin/env bash
# The host side of one burst VM as an Azure TDX confidential VM (az-tdx-vtpm; docs/bursting.md):
# what Azure's paravisor and the host give the guest, started by ccburst-burst for each VM it boots
# (scripts/burst.toml `vm-stub-command`). It runs in the VM's own directory:
#   - the VM's vTPM: its own swtpm (state in DIR/tpm, its own loopback ports), provisioned as the
#     paravisor does (the layout tests/swtpm.sh gives the vTPM tests, in fewer TPM tool runs: the
#     VMs of a burst boot together on a small machine): an RSA-2048 restricted signing AK at
#     0x81000003 and the HCL report in NV 0x01400001 whose TDREPORT carries the TD's MRTD (--mrtd:
#     the tampered VM's differs) and binds the AK; PCR8 extended with the init-data digest
#     (--initdata-digest, SHA-256), as the peer pod's boot does before the agent starts;
#   - the VM's IMDS (169.254.169.254 on Azure, one per VM): `ccburst-testgen imds-stub`, which
#     quotes the TDREPORT the guest posts (its MRTD included) with the TDX test hierarchy.
# Prints one line `ready tpm=<TCTI> imds=<URL>` (ccburst-burst hands both to the guest's agent as
# {tpm} and {imds}) and runs until SIGTERM/SIGINT, then stops the swtpm and the IMDS stand-in and
# exits 0. Any start-up failure stops what was started and exits 1 with the reason on stderr.
# Usage: burst-azure-vm.sh --dir DIR --hierarchy TDX_DIR --testgen BIN --mrtd HEX
#                          [--initdata-digest HEX]
set -euo pipefail
WORK="" HIERARCHY="" TESTGEN="" MRTD="" INITDATA_DIGEST=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) WORK="$2" ;;
    --hierarchy) HIERARCHY="$2" ;;
    --testgen) TESTGEN="$2" ;;
    --mrtd) MRTD="$2" ;;
    --initdata-digest) INITDATA_DIGEST="$2" ;;
    *) echo "burst-azure-vm: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -n "$WORK" ] && [ -n "$HIERARCHY" ] && [ -n "$TESTGEN" ] && [ -n "$MRTD" ] \
  || { echo "burst-azure-vm: --dir, --hierarchy, --testgen and --mrtd are required" >&2; exit 2; }
mkdir -p "$WORK"
AK_HANDLE=0x81000003
HCL_NV_INDEX=0x01400001

SWTPM_PID=""
IMDS_PID=""
stop() {
  local p
  for p in "$IMDS_PID" "$SWTPM_PID"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "$IMDS_PID" "$SWTPM_PID"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  IMDS_PID="" SWTPM_PID=""
}
trap 'stop; exit 0' TERM INT
trap stop EXIT
die() { echo "burst-azure-vm: $*" >&2; exit 1; }

# A fresh vTPM each boot (a VM's vTPM state lives and dies with the VM), on a random port pair
# (P, P+1); a port in use makes swtpm exit, and another pair is tried.
rm -rf "$WORK/tpm"
mkdir -p "$WORK/tpm"
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
  swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
    --server type=tcp,port="$port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port="$((port + 1))",bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear >"$WORK/swtpm.log" 2>&1 &
  SWTPM_PID=$!
  for _ in $(seq 1 200); do
    kill -0 "$SWTPM_PID" 2>/dev/null || break
    (exec 3<>"/dev/tcp/127.0.0.1/$port" 4<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null && break
    sleep 0.02
  done
  kill -0 "$SWTPM_PID" 2>/dev/null && break
  wait "$SWTPM_PID" 2>/dev/null || true
  SWTPM_PID=""
done
[ -n "$SWTPM_PID" ] || die "swtpm did not start: $(cat "$WORK/swtpm.log")"
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

# The AK: a primary key under the owner hierarchy (a new TPM has new seeds, so a new key per VM),
# made persistent; its public key (PEM) for the HCL report.
tpm2_createprimary -Q -C o -G rsa2048:rsassa-sha256:null \
  -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' \
  -c "$WORK/ak.ctx" -f pem -o "$WORK/ak.pem"
tpm2_evictcontrol -Q -C o -c "$WORK/ak.ctx" "$AK_HANDLE"
rm -f "$WORK/ak.ctx"
# The HCL report around the AK, with the TD's TDREPORT (its MRTD), in the NV index.
"$TESTGEN" hcl-report --tee az-tdx-vtpm --hierarchy "$HIERARCHY" --ak-pub "$WORK/ak.pem" \
  --mrtd "$MRTD" --out "$WORK/hcl.bin"
tpm2_nvdefine -Q -C o -s "$(stat -c %s "$WORK/hcl.bin")" \
  -a 'ownerread|ownerwrite|authread|authwrite' "$HCL_NV_INDEX"
tpm2_nvwrite -Q -C o -i "$WORK/hcl.bin" "$HCL_NV_INDEX"
if [ -n "$INITDATA_DIGEST" ]; then
  tpm2_pcrextend "8:sha256=$INITDATA_DIGEST"
fi

"$TESTGEN" imds-stub --tdx-hierarchy "$HIERARCHY" >"$WORK/imds.out" 2>"$WORK/imds.log" &
IMDS_PID=$!
IMDS_URL=""
for _ in $(seq 1 200); do
  IMDS_URL="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/imds.out")"
  [ -n "$IMDS_URL" ] && break
  kill -0 "$IMDS_PID" 2>/dev/null || die "imds-stub exited: $(cat "$WORK/imds.log")"
  sleep 0.05
done
[ -n "$IMDS_URL" ] || die "imds-stub did not start"

echo "ready tpm=$TPM2TOOLS_TCTI imds=$IMDS_URL"
# `wait` returns as soon as a trapped signal arrives (a foreground `sleep` would delay the trap).
while kill -0 "$SWTPM_PID" 2>/dev/null && kill -0 "$IMDS_PID" 2>/dev/null; do
  wait -n "$SWTPM_PID" "$IMDS_PID" || true
done
die "the VM's swtpm or IMDS stand-in exited"
