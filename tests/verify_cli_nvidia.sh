#!/usr/bin/env bash
# `ccburst verify --tee nvidia` over every case in ../shared/testdata/nvidia at its verify_at: the
# report case must verify with its nonce and print Trustee's claims, the measurements and the
# opaque-data facts; every chain case must give its expected result (`valid` or
# `invalid-<check>`); then refusals (nonce of another session, before the chain's validity, a
# report signed by another key, a chain in the wrong order, another FWID) and usage errors.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
CLI="$BUILD/apps/ccburst"
DATA="$(cd "$(dirname "$0")/../../shared/testdata" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fails=0

cases=0
for dir in "$DATA"/nvidia/*/; do
  name="$(basename "$dir")"
  meta="$dir/case.json"
  [ -f "$meta" ] || continue
  cases=$((cases + 1))
  kind="$(field "$meta" "['kind']")"
  at="$(field "$meta" "['verify_at']")"
  want="$(field "$meta" "['expected']['result']")"
  exit_want=1; [ "$want" = valid ] && exit_want=0
  if [ "$kind" = nvidia-gpu-report ]; then
    nonce="$(field "$meta" "['expected']['nonce']")"
    check "$name" "$exit_want" "$CLI" verify --tee nvidia --evidence "$dir/report.bin" \
      --cert-chain "$dir/cert_chain.pem" --nonce "$nonce" --at "$at" --json &&
      expect_json "$name" "r['result'] == e['result'] and r['claims'] == {k: v for k, v in json.load(open('$dir/trustee_claims.json')).items() if k != 'uuid'} and r['opaque_data'] == e['trustee_claims_config'] and r['report']['signature_offset'] == e['response']['signature_offset'] and r['report']['fwid'] == e['leaf']['fwid'] and len(r['measurements']) == e['measurements']['count']" "$meta"
    # The hex text form, human output.
    check "$name (hex, text)" "$exit_want" "$CLI" verify --tee nvidia --evidence "$dir/report.txt" \
      --cert-chain "$dir/cert_chain.pem" --nonce "$nonce" --at "$at" &&
      { head -1 "$WORK/out.json" | grep -q "^nvidia: verified at $at (report and chain)" &&
        grep -q '^measurements: {"1":' "$WORK/out.json" &&
        grep -q '^opaque data: {.*"driver_version":"550.90.07"' "$WORK/out.json" &&
        grep -q '^claims: {"arch":"Hopper"' "$WORK/out.json" ||
        { echo "FAIL $name (text): $(cat "$WORK/out.json")"; fails=$((fails + 1)); }; }
    check "$name other nonce" 1 "$CLI" verify --tee nvidia --evidence "$dir/report.bin" \
      --cert-chain "$dir/cert_chain.pem" --nonce "$(printf '%064d' 7)" --at "$at" --json &&
      expect_json "$name other nonce" "r['result'] == 'invalid-nonce' and 'report nonce' in r['error'] and r['claims'] is None" ""
    check "$name before validity" 1 "$CLI" verify --tee nvidia --evidence "$dir/report.bin" \
      --cert-chain "$dir/cert_chain.pem" --nonce "$nonce" --at 2022-01-01T00:00:00Z --json &&
      expect_json "$name before validity" "r['result'] == 'invalid-chain-expired' and 'is not valid before' in r['error']" ""
    # Signature flipped.
    python3 -c "
import sys; b=bytearray(open('$dir/report.bin','rb').read()); b[4021+10]^=1; open('$WORK/flipped.bin','wb').write(b)"
    check "$name flipped signature" 1 "$CLI" verify --tee nvidia --evidence "$WORK/flipped.bin" \
      --cert-chain "$dir/cert_chain.pem" --nonce "$nonce" --at "$at" --json &&
      expect_json "$name flipped signature" "r['result'] == 'invalid-report-signature'" ""
    # Truncated.
    head -c 3000 "$dir/report.bin" >"$WORK/short.bin"
    check "$name truncated" 1 "$CLI" verify --tee nvidia --evidence "$WORK/short.bin" \
      --cert-chain "$dir/cert_chain.pem" --nonce "$nonce" --at "$at" --json &&
      expect_json "$name truncated" "r['result'] == 'invalid-parse' and r['error'].startswith('nvidia: report: ')" ""
  else
    fwid="$(field "$meta" "['expected']['expected_fwid']")"
    check "$name" "$exit_want" "$CLI" verify --tee nvidia --cert-chain "$dir/cert_chain.pem" \
      --fwid "$fwid" --at "$at" --json &&
      expect_json "$name" "r['result'] == e['result'] and (r['error'] is None) == (e['result'] == 'valid')" "$meta"
  fi
done
[ "$cases" -ge 5 ] || { echo "FAIL: only $cases cases found"; fails=$((fails + 1)); }

N1="$DATA/nvidia/n1-h100-nvtrust-sample"
# A chain in the wrong order (root first).
python3 -c "
import re; t=open('$N1/cert_chain.pem').read()
blocks=re.findall(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', t, re.S)
open('$WORK/reversed.pem','w').write('\n'.join(reversed(blocks))+'\n')"
check "chain reversed" 1 "$CLI" verify --tee nvidia --cert-chain "$WORK/reversed.pem" \
  --at 2026-01-01T00:00:00Z --json &&
  expect_json "chain reversed" "r['result'] == 'invalid-untrusted-root'" ""
check "other fwid" 1 "$CLI" verify --tee nvidia --cert-chain "$N1/cert_chain.pem" \
  --fwid "$(printf '%096d' 1)" --at 2026-01-01T00:00:00Z --json &&
  expect_json "other fwid" "r['result'] == 'invalid-fwid-mismatch'" ""

# RIMs (signed SWID tags) from the test RIM CA of `ccburst-testgen hierarchy --tee nvidia`.
TESTGEN="$BUILD/tests/ccburst-testgen"
mkdir -p "$WORK/gen"
"$TESTGEN" hierarchy --tee nvidia --out "$WORK/gen" >/dev/null
check "rim" 0 "$CLI" verify --tee nvidia --rim "$WORK/gen/rim.xml" --rim-root "$WORK/gen/rim_root.pem" \
  --json &&
  expect_json "rim" "r['result'] == 'valid' and len(r['rim']['reference_measurements']) == 8 and r['rim']['rims'][0]['version'] == '550.90.07'" ""
sed 's/SHA384:Hash0="4/SHA384:Hash0="5/' "$WORK/gen/rim.xml" >"$WORK/edited.xml"
check "rim edited" 1 "$CLI" verify --tee nvidia --rim "$WORK/edited.xml" \
  --rim-root "$WORK/gen/rim_root.pem" --json &&
  expect_json "rim edited" "r['result'] == 'invalid-rim-signature' and 'XML signature does not verify' in r['rim']['error']" ""
check "rim other root" 1 "$CLI" verify --tee nvidia --rim "$WORK/gen/rim.xml" \
  --rim-root "$WORK/gen/root.pem" --json &&
  expect_json "rim other root" "r['result'] == 'invalid-rim-untrusted-root'" ""
python3 -c "
import re; t=open('$WORK/gen/rim.xml').read()
open('$WORK/unsigned.xml','w').write(re.sub(r'<ds:Signature.*</ds:Signature>', '', t, flags=re.S))"
check "rim unsigned" 1 "$CLI" verify --tee nvidia --rim "$WORK/unsigned.xml" \
  --rim-root "$WORK/gen/rim_root.pem" --json &&
  expect_json "rim unsigned" "r['result'] == 'invalid-rim-unsigned'" ""
check "rim expired" 1 "$CLI" verify --tee nvidia --rim "$WORK/gen/rim.xml" \
  --rim-root "$WORK/gen/rim_root.pem" --at 2199-01-01T00:00:00Z --json &&
  expect_json "rim expired" "r['result'] == 'invalid-rim-chain-expired'" ""
# The real H100 report verifies (now: the test RIM CA's window starts at generation), but its measurements are not the test RIM's golden values.
N1_NONCE="$(field "$N1/case.json" "['expected']['nonce']")"
check "n1 against the test rim" 1 "$CLI" verify --tee nvidia --evidence "$N1/report.bin" \
  --cert-chain "$N1/cert_chain.pem" --nonce "$N1_NONCE" \
  --rim "$WORK/gen/rim.xml" --rim-root "$WORK/gen/rim_root.pem" --json &&
  expect_json "n1 against the test rim" "r['result'] == 'invalid-rim-measurements' and r['claims'] is not None and len(r['rim']['mismatched_indices']) > 0" ""
check "usage: rim without root" 2 "$CLI" verify --tee nvidia --rim "$WORK/gen/rim.xml" || true
check "usage: rim for tdx" 2 "$CLI" verify --tee tdx --evidence "$N1/report.bin" \
  --rim "$WORK/gen/rim.xml" || true

check "usage: no chain" 2 "$CLI" verify --tee nvidia --evidence "$N1/report.bin" --nonce 00 || true
check "usage: no nonce" 2 "$CLI" verify --tee nvidia --evidence "$N1/report.bin" \
  --cert-chain "$N1/cert_chain.pem" || true
check "usage: nonce not hex" 2 "$CLI" verify --tee nvidia --evidence "$N1/report.bin" \
  --cert-chain "$N1/cert_chain.pem" --nonce xyz || true
check "usage: chain for snp" 2 "$CLI" verify --tee snp --evidence "$N1/report.bin" \
  --cert-chain "$N1/cert_chain.pem" || true

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "verify_cli_nvidia: all $cases cases as expected"
