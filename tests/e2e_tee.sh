#!/usr/bin/env bash
# End-to-end test of TDX and SEV-SNP attestation through the real binaries: ccburst-testgen
# creates a TDX and an SNP test hierarchy, ccburst-kbs (ephemeral loopback port, HTTP) trusts
# their roots through [attestation_service.verifier_config.dcap_verifier] / .snp_verifier, and
# ccburst-testgen runs /auth + /attest + resource with generated evidence bound to the session.
# Usage: e2e_tee.sh <build-dir>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
TESTGEN="$BUILD/tests/ccburst-testgen"
WORK="$(mktemp -d /tmp/ccburst-e2e-tee.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >"$WORK/tdx.files"
"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >"$WORK/snp.files"
for f in tdx/root.pem tdx/collateral/tcb_info.json snp/ark.pem; do
  grep -qx "$WORK/$f" "$WORK/${f%%/*}.files" || fail "ccburst-testgen did not list $f"
done
[ "$(grep -c 'BEGIN CERTIFICATE' "$WORK/snp/ark.pem")" = 3 ] || fail "ark.pem is not ARK+ASK+ASVK"
# Certificates are valid relative to now (notBefore now - 1 day, notAfter now + 365 days), not
# until a fixed date, so this test runs the real KBS on the system clock for as long as it exists.
now="$(date +%s)"
for pem in "$WORK/tdx/root.pem" "$WORK/snp/ark.pem"; do
  nb="$(date -d "$(openssl x509 -in "$pem" -noout -startdate | cut -d= -f2)" +%s)"
  na="$(date -d "$(openssl x509 -in "$pem" -noout -enddate | cut -d= -f2)" +%s)"
  [ $((now - nb)) -ge 86000 ] && [ $((now - nb)) -le 87000 ] || fail "$pem: notBefore is not now - 1 day"
  [ $((na - now)) -ge $((365 * 86400 - 600)) ] && [ $((na - now)) -le $((365 * 86400 + 600)) ] \
    || fail "$pem: notAfter is not now + 365 days"
done
"$TESTGEN" hierarchy --tee snp --out "$WORK/pinned" --not-before 2024-01-01T00:00:00Z \
  --not-after 2030-01-01T00:00:00Z >/dev/null
openssl x509 -inform DER -in "$WORK/pinned/vcek.der" -noout -enddate | grep -q "Jan  1 00:00:00 2030 GMT" \
  || fail "--not-after was not applied"

"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
write_test_kbs_toml "$SNP_TEST_VERIFIER" 'vcek_sources = [{ type = "OfflineStore", path = "kds-store" }]'

start_kbs "$KBS" e2e_tee

# Both test roots are announced as insecure.
for key in dcap_verifier.trusted_root_ca snp_verifier.trusted_ark; do
  grep -q "INSECURE: attestation_service.verifier_config.$key" "$WORK/kbs.log" \
    || fail "no INSECURE warning for $key"
done

ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
head -c 2000 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource-policy --allow-all

attest() {
  local tee="$1"; shift
  "$TESTGEN" attest --url "$URL" --tee "$tee" --hierarchy "$WORK/$tee" --path default/key/model "$@"
}
good_flow() {
  local tee="$1" what="$2"
  attest "$tee" >"$WORK/got.bin" 2>"$WORK/attest.err" || fail "$tee: good flow ($what): $(cat "$WORK/attest.err")"
  cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "$tee: secret bytes differ ($what)"
}

for tee in tdx snp; do
  good_flow "$tee" "first"
  echo "e2e_tee: $tee flow returned the exact secret"

  # Evidence bound to other report data: refused at the binding check with exit 1.
  rc=0
  attest "$tee" --wrong-report-data >"$WORK/got.bin" 2>"$WORK/attest.err" || rc=$?
  [ "$rc" = 1 ] || fail "$tee: wrong report data: exit $rc, want 1: $(cat "$WORK/attest.err")"
  [ ! -s "$WORK/got.bin" ] || fail "$tee: wrong report data: a resource was printed"
  for want in "HTTP 401" "AttestationError" "$tee: " "does not match the session binding"; do
    grep -qF -- "$want" "$WORK/attest.err" || fail "$tee: wrong report data: no '$want' in: $(cat "$WORK/attest.err")"
  done
  echo "e2e_tee: $tee wrong report data refused: $(cat "$WORK/attest.err")"
  alive "$tee wrong report data"

  good_flow "$tee" "after the refusal"
done

# Usage errors exit 2.
rc=0
"$TESTGEN" attest --url "$URL" --tee sample --hierarchy "$WORK/tdx" --path default/key/model 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "usage error: exit $rc, want 2"

# Metrics count the outcomes per TEE: 2 successes and 1 refusal each.
curl -s "$URL/metrics" >"$WORK/metrics"
for tee in tdx snp; do
  grep -qx "kbs_attestations_total{outcome=\"success\",tee=\"$tee\"} 2" "$WORK/metrics" \
    || fail "metrics: $tee successes: $(grep "tee=\"$tee\"" "$WORK/metrics")"
  grep -qx "kbs_attestations_total{outcome=\"failure\",tee=\"$tee\"} 1" "$WORK/metrics" \
    || fail "metrics: $tee failures: $(grep "tee=\"$tee\"" "$WORK/metrics")"
done
echo "e2e_tee: PASS"
