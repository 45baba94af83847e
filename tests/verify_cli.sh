#!/usr/bin/env bash
# `ccburst verify` over every real-hardware TDX and SNP case in ../shared/testdata, each at its
# pinned verify_at: the exit code and the JSON result must match the case's expected result,
# and verifying after the collateral/certificate expired must fail naming the expired item.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
CLI="$BUILD/apps/ccburst"
DATA="$(cd "$(dirname "$0")/../../shared/testdata" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fails=0

for dir in "$DATA"/tdx/*/; do
  case_name="$(basename "$dir")"
  at="$(field "$dir/case.json" "['verify_at']")"
  want="$(field "$dir/case.json" "['expected']['result']")"
  [ -d "$dir/collateral" ] || continue  # parse-only cases carry no collateral
  if [ "$want" = "TCB_NOT_SUPPORTED" ]; then
    check "tdx $case_name" 1 "$CLI" verify --tee tdx --evidence "$dir/quote.bin" \
      --collateral "$dir/collateral" --at "$at" --json &&
      expect_json "tdx $case_name" "r['verified'] is False and 'tcb not supported' in r['error']"
  else
    check "tdx $case_name" 0 "$CLI" verify --tee tdx --evidence "$dir/quote.bin" \
      --collateral "$dir/collateral" --at "$at" --json &&
      expect_json "tdx $case_name" "r['verified'] is True and r['tcb_status'] == '$want' and 'quote' in r['claims']"
  fi
done

# Collateral expires: t3 after its earliest nextUpdate.
check "tdx t3 after nextUpdate" 1 "$CLI" verify --tee tdx --evidence "$DATA/tdx/t3-spr-outofdate/quote.bin" \
  --collateral "$DATA/tdx/t3-spr-outofdate/collateral" --at 2025-03-15T03:39:01Z --json &&
  expect_json "tdx t3 after nextUpdate" "r['verified'] is False and 'expired' in r['error']"

for dir in "$DATA"/snp/*/; do
  case_name="$(basename "$dir")"
  [ -f "$dir/case.json" ] || continue
  at="$(field "$dir/case.json" "['verify_at']")"
  want="$(field "$dir/case.json" "['expected']['result']")"
  certs="$WORK/certs-$case_name"
  mkdir -p "$certs"
  cp "$dir"/*.der "$certs"/ 2>/dev/null || true
  evidence="$dir/report.bin"
  [ -f "$evidence" ] || evidence="$dir/evidence.json"
  vmpl="$(python3 -c "import struct,sys; b=open('$evidence','rb').read(); print(struct.unpack_from('<I', b, 0x30)[0] if len(b) == 1184 else 0)")"
  if [ "$want" = "valid" ]; then
    check "snp $case_name" 0 "$CLI" verify --tee snp --evidence "$evidence" --certs "$certs" \
      --vmpl "$vmpl" --at "$at" --json &&
      expect_json "snp $case_name" "r['verified'] is True and 'measurement' in r['claims']"
  else
    check "snp $case_name" 1 "$CLI" verify --tee snp --evidence "$evidence" --certs "$certs" \
      --vmpl "$vmpl" --at "$at" --json &&
      expect_json "snp $case_name" "r['verified'] is False and 'VCEK signature' in r['error']"
  fi
done

# VMPL 0 is required by default; the VLEK expires on 2025-12-10T22:14:21Z.
VLEK="$DATA/snp/s4-milan-vlek-v3"
mkdir -p "$WORK/vlek" && cp "$VLEK/vlek.der" "$WORK/vlek/"
check "snp vmpl 1 refused by default" 1 "$CLI" verify --tee snp --evidence "$VLEK/report.bin" \
  --certs "$WORK/vlek" --at 2025-06-01T00:00:00Z --json &&
  expect_json "snp vmpl" "'VMPL 1' in r['error']"
check "snp vlek expired" 1 "$CLI" verify --tee snp --evidence "$VLEK/report.bin" \
  --certs "$WORK/vlek" --vmpl 1 --at 2025-12-10T22:14:22Z --json &&
  expect_json "snp vlek expired" "'expired' in r['error']"

# Usage errors exit 2.
check "usage: no --collateral for tdx" 2 "$CLI" verify --tee tdx --evidence "$VLEK/report.bin" || true
check "usage: bad --at" 2 "$CLI" verify --tee snp --evidence "$VLEK/report.bin" --at yesterday || true
check "usage: unknown tee" 2 "$CLI" verify --tee sgx --evidence "$VLEK/report.bin" || true

if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all verify checks passed"
