#!/usr/bin/env bash
# End-to-end test of the Azure vTPM attesters (az-tdx-vtpm, az-snp-vtpm) against a real software
# TPM: ccburst-kbs (ephemeral loopback port, HTTP) trusts a TDX and an SNP test hierarchy; for each
# TEE a fresh swtpm is provisioned as an Azure CVM's vTPM (AK at 0x81000003, HCL report from the
# hierarchy in NV 0x01400001), `ccburst-testgen imds-stub` stands in for Azure IMDS (TD quote for
# the TDREPORT, VCEK); `ccburst-agent --tee auto` (CDH API + curl, get-resource) and `ccburst-testgen attest --tpm` run the real attester through
# agent::KbsClient (auth, attest, resource). Checked: the exact secret; init-data refused while
# PCR8 does not bind it and accepted once PCR8 is extended with its digest; a TPM without the AK,
# without the HCL report, or whose HCL report names another AK gives a clear error and no secret.
# Until `ccburst-agent get-resource --tee az-*-vtpm --tpm TCTI` is on this branch the flow runs
# through `ccburst-testgen attest --tpm` (same attester, same client).
# Usage: e2e_agent_azure.sh <build-dir>   (TIMING_RUNS=N: N more timed flows per TEE, the
# median start-to-secret time printed, for docs/performance.md)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
TESTGEN="$BUILD/tests/ccburst-testgen"
AGENT="$BUILD/apps/ccburst-agent"
WORK="$(mktemp -d /tmp/ccburst-e2e-agent-azure.XXXXXX)"
source "$(dirname "$0")/swtpm.sh"
PID=""
IMDS_PID=""
APID=""
cleanup() {
  [ -n "$APID" ] && kill "$APID" 2>/dev/null
  swtpm_stop
  [ -n "$IMDS_PID" ] && kill "$IMDS_PID" 2>/dev/null
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
write_test_kbs_toml "$SNP_TEST_VERIFIER"
start_kbs "$KBS" e2e_agent_azure

"$TESTGEN" imds-stub --tdx-hierarchy "$WORK/tdx" --snp-hierarchy "$WORK/snp" >"$WORK/imds.out" &
IMDS_PID=$!
for _ in $(seq 1 200); do grep -q "listening on" "$WORK/imds.out" && break; sleep 0.05; done
IMDS_URL="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/imds.out")"
[ -n "$IMDS_URL" ] || fail "imds-stub did not start"
echo "e2e_agent_azure: IMDS stand-in on $IMDS_URL"

ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
head -c 2000 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource-policy --allow-all

printf 'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"aa.toml" = "[token_configs]"\n' \
  >"$WORK/init-data.toml"
INIT_DIGEST="$(sha256sum "$WORK/init-data.toml" | cut -d' ' -f1)"

attest() {
  local tee="$1"; shift
  "$TESTGEN" attest --url "$URL" --tee "$tee" --tpm "$SWTPM_TCTI" --imds-url "$IMDS_URL" \
    --path default/key/model "$@"
}
good_flow() {
  local tee="$1" what="$2"; shift 2
  local t0 t1
  t0="$(date +%s%N)"
  attest "$tee" "$@" >"$WORK/got.bin" 2>"$WORK/attest.err" || fail "$tee: good flow ($what): $(cat "$WORK/attest.err")"
  t1="$(date +%s%N)"
  cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "$tee: secret bytes differ ($what)"
  echo "e2e_agent_azure: $tee from swtpm returned the exact secret ($what; start to secret $(( (t1 - t0) / 1000000 )) ms)"
}
refused() {  # tee, what, expected message fragments...
  local tee="$1" what="$2"; shift 2
  local rc=0
  attest "$tee" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} >"$WORK/got.bin" 2>"$WORK/attest.err" || rc=$?
  [ "$rc" = 1 ] || fail "$tee: $what: exit $rc, want 1: $(cat "$WORK/attest.err")"
  [ ! -s "$WORK/got.bin" ] || fail "$tee: $what: a resource was printed"
  for want in "$@"; do
    grep -qF -- "$want" "$WORK/attest.err" || fail "$tee: $what: no '$want' in: $(cat "$WORK/attest.err")"
  done
  echo "e2e_agent_azure: $tee $what refused: $(grep -v '^WARNING:\|^ERROR:' "$WORK/attest.err" | cut -c1-240)"
  alive "$tee $what"
}

for tee in az-tdx-vtpm az-snp-vtpm; do
  case "$tee" in az-tdx-vtpm) dir="$WORK/tdx" ;; *) dir="$WORK/snp" ;; esac
  swtpm_stop
  rm -rf "$WORK/tpm"
  swtpm_start
  swtpm_provision_ak
  swtpm_provision_hcl "$tee" "$dir"

  good_flow "$tee" "first"

  # The same through the real binary as a pod uses it: `ccburst-agent --tee auto serve` detects the
  # Azure vTPM (TPM + HCL report type), and curl asks the CDH API for the secret; then
  # `get-resource --output` as an init container would.
  "$AGENT" --tee auto --tpm "$SWTPM_TCTI" --imds-url "$IMDS_URL" --kbs-url "$URL" \
    serve --listen 127.0.0.1:0 >"$WORK/agent.out" 2>"$WORK/agent.log" &
  APID=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$WORK/agent.out" && break
    kill -0 "$APID" 2>/dev/null || fail "$tee: ccburst-agent exited: $(cat "$WORK/agent.log")"
    sleep 0.05
  done
  API="$(sed -n 's|^ccburst-agent: listening on \(http://127.0.0.1:[0-9]*\)$|\1|p' "$WORK/agent.out")"
  [ -n "$API" ] || fail "$tee: ccburst-agent printed no listening line"
  code="$(curl -s -o "$WORK/got.bin" -w '%{http_code}' "$API/cdh/resource/default/key/model")"
  [ "$code" = 200 ] || fail "$tee: CDH API answered $code: $(cat "$WORK/got.bin"; cat "$WORK/agent.log")"
  cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "$tee: CDH API secret bytes differ"
  grep -q "$tee" "$WORK/agent.log" || fail "$tee: the agent's log does not name the detected TEE"
  kill "$APID"; wait "$APID" 2>/dev/null || true; APID=""
  rm -f "$WORK/agent-out.bin"
  "$AGENT" --tee "$tee" --tpm "$SWTPM_TCTI" --imds-url "$IMDS_URL" --kbs-url "$URL" \
    get-resource kbs:///default/key/model --output "$WORK/agent-out.bin" 2>"$WORK/agent.log" \
    || fail "$tee: ccburst-agent get-resource: $(cat "$WORK/agent.log")"
  cmp -s "$WORK/secret.bin" "$WORK/agent-out.bin" || fail "$tee: get-resource bytes differ"
  [ "$(stat -c %a "$WORK/agent-out.bin")" = 600 ] || fail "$tee: get-resource output is not 0600"
  echo "e2e_agent_azure: $tee through ccburst-agent (auto-detected, CDH API and get-resource) returned the exact secret"
  if [ -n "${TIMING_RUNS:-}" ]; then
    # The same flow with generated evidence (no TPM, no IMDS) for comparison.
    for how in swtpm generated; do
      : >"$WORK/times"
      for _ in $(seq 1 "$TIMING_RUNS"); do
        t0="$(date +%s%N)"
        if [ "$how" = swtpm ]; then
          attest "$tee" >/dev/null 2>&1 || fail "$tee: timed flow failed"
        else
          "$TESTGEN" attest --url "$URL" --tee "$tee" --hierarchy "$dir" --path default/key/model \
            >/dev/null 2>&1 || fail "$tee: timed generated flow failed"
        fi
        echo "$(( ($(date +%s%N) - t0) / 1000 ))" >>"$WORK/times"
      done
      sort -n -o "$WORK/times" "$WORK/times"
      echo "e2e_agent_azure: $tee ($how) start to secret over $TIMING_RUNS runs (us):" \
        "median $(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' "$WORK/times")," \
        "min $(head -1 "$WORK/times"), max $(tail -1 "$WORK/times")"
    done
  fi

  # Init-data: refused by the KBS while PCR8 is zero, accepted once PCR8 is extended with its
  # digest (what the agent, or the host, does at boot).
  EXTRA_ARGS=(--init-data "$WORK/init-data.toml")
  refused "$tee" "init-data not in PCR8" "HTTP 401" "AttestationError" "init-data: PCR8"
  tpm2_pcrextend "8:sha256=$INIT_DIGEST"
  good_flow "$tee" "init-data bound by PCR8" --init-data "$WORK/init-data.toml"
  EXTRA_ARGS=()

  # A TPM that cannot quote: no AK at the persistent handle (the attester fails before /attest).
  tpm2_evictcontrol -Q -C o -c "$AZ_AK_HANDLE"
  refused "$tee" "no AK" "$tee: tpm: no attestation key at handle 0x81000003"
  swtpm_provision_ak
  # The HCL report still names the evicted key: the attester's own check says so.
  refused "$tee" "AK is not HCLAkPub" "$tee: the key at 0x81000003 is not the HCL report's HCLAkPub"
  swtpm_provision_hcl "$tee" "$dir"
  good_flow "$tee" "after re-provisioning"

  # No HCL report in the NV index.
  tpm2_nvundefine -Q -C o "$AZ_HCL_NV_INDEX"
  refused "$tee" "no HCL report" "$tee: reading the HCL report: tpm: no NV index at handle 0x01400001"
done
echo "e2e_agent_azure: PASS"
