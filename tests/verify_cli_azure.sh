#!/usr/bin/env bash
# `ccburst verify --tee az-tdx-vtpm|az-snp-vtpm` over every real-hardware Azure case in
# ../shared/testdata/azure at its verify_at with the case's expected nonce: the verdict, the TD
# quote's TCB status and advisories, the PCR values, the checks and the claims must match
# case.json; then refusals (wrong nonce, missing collateral, time outside the collateral, a
# flipped PCR, TEE/evidence mismatch) and usage errors.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
CLI="$BUILD/apps/ccburst"
DATA="$(cd "$(dirname "$0")/../../shared/testdata" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fails=0

TDX_COMMON="r['tcb_status'] == e['td_quote']['tcb_status'] and r['advisory_ids'] == e['td_quote']['advisory_ids'] and r['claims']['quote']['body']['mr_td'] == e['td_quote']['mr_td']"
SNP_COMMON="r['tcb_status'] is None and r['claims']['measurement'] == e['snp_report']['measurement'] and r['claims']['chip_id'] == e['snp_report']['chip_id']"
AZ_COMMON="r['verified'] is True and r['error'] is None and r['evidence_version'] == e['evidence_format_version'] and r['claims']['report_data'] == e['tpm_quote']['nonce_hex'] and r['claims']['tpm']['pcr00'] == e['pcr00'] and r['claims']['tpm']['pcr08'] == e['pcr08'] and r['claims']['init_data'] == e['pcr08'] and len(r['claims']['tpm']) == 24 and r['claims']['vm_configuration'] == e['vm_configuration'] and any('HCLAkPub' in c for c in r['checks'])"

cases=0
for dir in "$DATA"/azure/*/; do
  case_name="$(basename "$dir")"
  meta="$dir/case.json"
  [ -f "$meta" ] || continue
  cases=$((cases + 1))
  tee="$(field "$meta" "['kind']")"
  at="$(field "$meta" "['verify_at']")"
  nonce="$(field "$meta" "['expected']['expected_report_data']['hex']")"
  [ "$(field "$meta" "['expected']['result']")" = valid ] || { echo "FAIL $case_name: not a valid case"; fails=$((fails + 1)); continue; }
  if [ "$tee" = az-tdx-vtpm ]; then
    collateral="$(cd "$dir" && cd "$(field "$meta" "['collateral']")" && pwd)"
    check "$case_name" 0 "$CLI" verify --tee "$tee" --evidence "$dir/evidence.json" \
      --collateral "$collateral" --at "$at" --nonce "$nonce" --json &&
      expect_json "$case_name" "$AZ_COMMON and $TDX_COMMON" "$meta"
    # Human output: the verdict line carries the TCB status and the advisories.
    check "$case_name (text)" 0 "$CLI" verify --tee "$tee" --evidence "$dir/evidence.json" \
      --collateral "$collateral" --at "$at" --report-data "$nonce" &&
      { head -1 "$WORK/out.json" | grep -q "^az-tdx-vtpm: verified at $at (evidence v[01]), tcb_status $(field "$meta" "['expected']['td_quote']['tcb_status']"), advisories \[\"INTEL-SA" &&
        grep -q "^checks passed:" "$WORK/out.json" && grep -q '^claims: {' "$WORK/out.json" ||
        { echo "FAIL $case_name (text): $(cat "$WORK/out.json")"; fails=$((fails + 1)); }; }
    # Wrong nonce; time after the collateral's nextUpdate.
    check "$case_name wrong nonce" 1 "$CLI" verify --tee "$tee" --evidence "$dir/evidence.json" \
      --collateral "$collateral" --at "$at" --nonce 00 --json &&
      expect_json "$case_name wrong nonce" "r['verified'] is False and r['error'].startswith('az-tdx-vtpm: tpm quote: extraData') and r['claims'] is None" ""
    check "$case_name collateral expired" 1 "$CLI" verify --tee "$tee" --evidence "$dir/evidence.json" \
      --collateral "$collateral" --at 2027-01-01T00:00:00Z --nonce "$nonce" --json &&
      expect_json "$case_name collateral expired" "r['verified'] is False and 'az-tdx-vtpm: td quote' in r['error'] and 'expired' in r['error']" ""
  else
    check "$case_name" 0 "$CLI" verify --tee "$tee" --evidence "$dir/evidence.json" \
      --at "$at" --report-data "$nonce" --json &&
      expect_json "$case_name" "$AZ_COMMON and $SNP_COMMON and any('Milan' in c for c in r['checks'])" "$meta"
    check "$case_name wrong nonce" 1 "$CLI" verify --tee "$tee" --evidence "$dir/evidence.json" \
      --at "$at" --report-data 6368616c6c656e6766 --json &&
      expect_json "$case_name wrong nonce" "r['verified'] is False and r['error'].startswith('az-snp-vtpm: tpm quote: extraData')" ""
  fi
done
[ "$cases" = 5 ] || { echo "FAIL: $cases Azure cases, want 5"; fails=$((fails + 1)); }

# A flipped PCR no longer matches the quote's pcrDigest.
SNP1="$DATA/azure/a1-az-snp-vtpm-v1"
python3 - "$SNP1/evidence.json" "$WORK/flipped.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["tpm_quote"]["pcrs"][11]
d["tpm_quote"]["pcrs"][11] = ("0" if p[0] != "0" else "1") + p[1:]
json.dump(d, open(sys.argv[2], "w"))
PY
check "snp v1 flipped pcr11" 1 "$CLI" verify --tee az-snp-vtpm --evidence "$WORK/flipped.json" \
  --at 2026-01-01T00:00:00Z --nonce 6368616c6c656e6765 --json &&
  expect_json "snp v1 flipped pcr11" "r['verified'] is False and 'pcrDigest' in r['error']" ""

# SNP evidence presented as TDX: refused by the evidence parser, naming the member.
TDX1="$DATA/azure/a4-az-tdx-vtpm-v1"
check "snp evidence as az-tdx-vtpm" 1 "$CLI" verify --tee az-tdx-vtpm --evidence "$SNP1/evidence.json" \
  --collateral "$DATA/tdx/t3-spr-outofdate/collateral" --at 2025-03-10T00:00:00Z --nonce 6368616c6c656e6765 --json &&
  expect_json "snp evidence as az-tdx-vtpm" "r['verified'] is False and r['error'].startswith('az-tdx-vtpm: evidence')" ""

# Usage errors exit 2: no nonce, both, not hex, collateral missing for TDX, collateral for SNP.
check "usage: no nonce" 2 "$CLI" verify --tee az-tdx-vtpm --evidence "$TDX1/evidence.json" \
  --collateral "$DATA/tdx/t3-spr-outofdate/collateral"
check "usage: nonce and report data" 2 "$CLI" verify --tee az-snp-vtpm --evidence "$SNP1/evidence.json" \
  --nonce 00 --report-data 00
check "usage: nonce not hex" 2 "$CLI" verify --tee az-snp-vtpm --evidence "$SNP1/evidence.json" --nonce xyz
check "usage: tdx without collateral" 2 "$CLI" verify --tee az-tdx-vtpm --evidence "$TDX1/evidence.json" --nonce 00
check "usage: snp with collateral" 2 "$CLI" verify --tee az-snp-vtpm --evidence "$SNP1/evidence.json" \
  --nonce 00 --collateral "$DATA/tdx/t3-spr-outofdate/collateral"
check "usage: nonce for tdx" 2 "$CLI" verify --tee tdx --evidence "$TDX1/td-quote.bin" \
  --collateral "$DATA/tdx/t3-spr-outofdate/collateral" --nonce 00

if [ "$fails" != 0 ]; then echo "verify_cli_azure: $fails failure(s)"; exit 1; fi
echo "verify_cli_azure: PASS"
