#!/usr/bin/env bash
# Creates the KBS's four Secrets in namespace ccburst-kbs from freshly generated keys, for a TEST
# cluster (production: your secret manager, docs/deploy.md "Secrets"). The keys are written to
# OUT_DIR (default ./kbs-secrets, mode 0700) and nowhere else; keep admin.key and the keyring.
#   deploy/kbs/secrets/make-secrets.sh KBS_HOSTNAME [OUT_DIR]
set -euo pipefail
host="${1:?usage: make-secrets.sh KBS_HOSTNAME [OUT_DIR]}"
out="${2:-./kbs-secrets}"
umask 077
mkdir -p "$out"
ccburst make-cert --out-dir "$out" --host "$host" --valid-days 365      # kbs.key, kbs.crt
ccburst keygen --out-dir "$out"                                         # admin.key/.pub/.token
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$out/token.key"
echo "$(date -u +%Y-%m) $(openssl rand -base64 32)" >"$out/keyring"     # = ccburst make-kek
apply() { kubectl apply -f -; }
kubectl create namespace ccburst-kbs --dry-run=client -o yaml | apply
kubectl -n ccburst-kbs create secret tls ccburst-kbs-tls --cert "$out/kbs.crt" --key "$out/kbs.key" \
  --dry-run=client -o yaml | apply
kubectl -n ccburst-kbs create secret generic ccburst-kbs-admin --from-file=admin.pub="$out/admin.pub" \
  --dry-run=client -o yaml | apply
kubectl -n ccburst-kbs create secret generic ccburst-kbs-token-key --from-file=token.key="$out/token.key" \
  --dry-run=client -o yaml | apply
kubectl -n ccburst-kbs create secret generic ccburst-kbs-kek --from-file=keyring="$out/keyring" \
  --dry-run=client -o yaml | apply
echo "created; the KBS certificate to pin in the pods' init-data is $out/kbs.crt"
