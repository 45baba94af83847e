#!/usr/bin/env bash
# End-to-end test of Azure vTPM attestation (az-tdx-vtpm, az-snp-vtpm) through the real binaries:
# ccburst-testgen creates a TDX and an SNP test hierarchy, ccburst-kbs (ephemeral loopback port,
# HTTP) trusts their roots through [attestation_service.verifier_config.dcap_verifier] /
# .snp_verifier (the settings `tdx` and `snp` read), and ccburst-testgen runs /auth + /attest +
# resource with Azure evidence (TPM quote + HCL report around the TD quote / SNP report) bound to
# the session. Refusals: evidence bound to other report data, init-data not bound by PCR8.
# Usage: e2e_tee_azure.sh <build-dir>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
TESTGEN="$BUILD/tests/ccburst-testgen"
WORK="$(mktemp -d /tmp/ccburst-e2e-azure.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$TESTGEN" hierarchy --tee snp --out "$WORK/snp" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
write_test_kbs_toml "$SNP_TEST_VERIFIER"

start_kbs "$KBS" e2e_tee_azure

# /auth accepts both Azure TEE names (it answered 401 UnsupportedTee before they were registered).
for tee in az-tdx-vtpm az-snp-vtpm; do
  code="$(curl -s -o "$WORK/auth.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"version\":\"0.4.0\",\"tee\":\"$tee\",\"extra-params\":{}}" "$URL/kbs/v0/auth")"
  [ "$code" = 200 ] || fail "$tee: /auth answered $code: $(cat "$WORK/auth.json")"
  grep -q '"nonce"' "$WORK/auth.json" || fail "$tee: /auth has no nonce: $(cat "$WORK/auth.json")"
done
echo "e2e_tee_azure: /auth accepts az-tdx-vtpm and az-snp-vtpm"

ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
head -c 2000 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
"${ADMIN[@]}" set-resource-policy --allow-all

printf 'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"aa.toml" = "[token_configs]"\n' \
  >"$WORK/init-data.toml"
INIT_DIGEST="$(sha256sum "$WORK/init-data.toml" | cut -d' ' -f1)"
OTHER_DIGEST="$(printf 'another pod' | sha256sum | cut -d' ' -f1)"

hierarchy_of() { case "$1" in az-tdx-vtpm) echo "$WORK/tdx" ;; *) echo "$WORK/snp" ;; esac; }
attest() {
  local tee="$1"; shift
  "$TESTGEN" attest --url "$URL" --tee "$tee" --hierarchy "$(hierarchy_of "$tee")" \
    --path default/key/model "$@"
}
good_flow() {
  local tee="$1" what="$2"; shift 2
  attest "$tee" "$@" >"$WORK/got.bin" 2>"$WORK/attest.err" || fail "$tee: good flow ($what): $(cat "$WORK/attest.err")"
  cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "$tee: secret bytes differ ($what)"
  echo "e2e_tee_azure: $tee flow returned the exact secret ($what)"
}
refused() {  # tee, what, expected message fragment, attest args...
  local tee="$1" what="$2" want_msg="$3"; shift 3
  local rc=0
  attest "$tee" "$@" >"$WORK/got.bin" 2>"$WORK/attest.err" || rc=$?
  [ "$rc" = 1 ] || fail "$tee: $what: exit $rc, want 1: $(cat "$WORK/attest.err")"
  [ ! -s "$WORK/got.bin" ] || fail "$tee: $what: a resource was printed"
  for want in "HTTP 401" "AttestationError" "$tee: " "$want_msg"; do
    grep -qF -- "$want" "$WORK/attest.err" || fail "$tee: $what: no '$want' in: $(cat "$WORK/attest.err")"
  done
  echo "e2e_tee_azure: $tee $what refused: $(cut -c1-300 "$WORK/attest.err")"
  alive "$tee $what"
}

for tee in az-tdx-vtpm az-snp-vtpm; do
  good_flow "$tee" "first"
  refused "$tee" "wrong report data" "tpm quote: extraData" --wrong-report-data
  grep -qF "does not match the session binding" "$WORK/attest.err" \
    || fail "$tee: wrong report data: the reason does not name the session binding"
  good_flow "$tee" "init-data bound by PCR8" --init-data "$WORK/init-data.toml" \
    --pcr8-init-data-digest "$INIT_DIGEST"
  refused "$tee" "init-data not in PCR8" "init-data: PCR8" --init-data "$WORK/init-data.toml" \
    --pcr8-init-data-digest "$OTHER_DIGEST"
  refused "$tee" "init-data with PCR8 zero" "init-data: PCR8" --init-data "$WORK/init-data.toml"
  good_flow "$tee" "after the refusals"
done

# Metrics count the outcomes per TEE: 3 successes and 3 refusals each, under the TEE's name.
curl -s "$URL/metrics" >"$WORK/metrics"
for tee in az-tdx-vtpm az-snp-vtpm; do
  grep -qx "kbs_attestations_total{outcome=\"success\",tee=\"$tee\"} 3" "$WORK/metrics" \
    || fail "metrics: $tee successes: $(grep "tee=\"$tee\"" "$WORK/metrics")"
  grep -qx "kbs_attestations_total{outcome=\"failure\",tee=\"$tee\"} 3" "$WORK/metrics" \
    || fail "metrics: $tee failures: $(grep "tee=\"$tee\"" "$WORK/metrics")"
done
echo "e2e_tee_azure: PASS"
