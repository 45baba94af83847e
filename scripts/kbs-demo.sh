#!/usr/bin/env bash
# The key-broker walk-through (formerly scripts/demo.sh): a KBS on loopback releases a secret to an
# attested (sample) TEE. The main demo, the whole burst, is scripts/demo.sh.
# Installs what it needs, builds, then narrates each step. Safe to run again.
source "$(dirname "$0")/lib.sh"

install_deps
build ccburst-kbs ccburst

BIN="$BUILD_DIR/apps"
WORK="$(mktemp -d /tmp/ccburst-demo.XXXXXX)"
KBS_PID=""
cleanup() {
  [ -n "$KBS_PID" ] && kill "$KBS_PID" 2>/dev/null && wait "$KBS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say "1. keys: an admin Ed25519 key pair + signed admin token, and a self-signed TLS certificate"
"$BIN/ccburst" keygen --out-dir "$WORK" | sed 's/^/    /'
"$BIN/ccburst" make-cert --out-dir "$WORK" --host 127.0.0.1 | sed 's/^/    /'

say "2. configuration: HTTPS, admin API locked to our admin key, state in one SQLite file"
cat >"$WORK/kbs.toml" <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
private_key = "kbs.key"
certificate = "kbs.crt"

[attestation_service]
timeout = 5

[attestation_service.attestation_token_broker]
duration_min = 5
issuer_name = "ccburst-demo-kbs"

[admin]
authorization_mode = "AuthenticatedAuthorization"

[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]

[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" } ]

[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs.db"
TOML
sed 's/^/    /' "$WORK/kbs.toml"

say "3. starting ccburst-kbs on an ephemeral loopback port"
"$BIN/ccburst-kbs" --config "$WORK/kbs.toml" >"$WORK/kbs.out" 2>"$WORK/kbs.log" &
KBS_PID=$!
for _ in $(seq 1 100); do
  grep -q "ready port=" "$WORK/kbs.out" 2>/dev/null && break
  kill -0 "$KBS_PID" 2>/dev/null || { cat "$WORK/kbs.log"; exit 1; }
  sleep 0.1
done
PORT="$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/kbs.out")"
URL="https://127.0.0.1:$PORT"
note "KBS is up at $URL (pid $KBS_PID)"
CLI=("$BIN/ccburst" --url "$URL" --cert-file "$WORK/kbs.crt")
ADMIN=("${CLI[@]}" config --admin-token-file "$WORK/admin.token")

say "4. the owner stores a secret (a model decryption key) under default/key/model"
printf 'model-key-%s' "$(openssl rand -hex 8)" >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
note "stored $(wc -c <"$WORK/secret.bin") bytes"

say "5. reference values for the sample TEE, and a resource policy that wants 'affirming'"
"${ADMIN[@]}" set-sample-reference-value svn 1
"${ADMIN[@]}" set-sample-reference-value launch_digest abcde
note "svn -> $("${ADMIN[@]}" get-reference-value --id svn)"
"${ADMIN[@]}" set-resource-policy --affirming
note "resource policy: release only when every appraised submodule is affirming"

say "6. an admin request without a token is refused"
if "${CLI[@]}" config set-resource-policy --allow-all 2>"$WORK/err.txt"; then
  echo "unexpected: unauthenticated admin request succeeded"; exit 1
fi
note "$(cat "$WORK/err.txt")"

say "7. a workload attests as a sample TEE and receives an EAR token"
TOKEN="$("${CLI[@]}" attest)"
note "token: ${TOKEN:0:48}... ($(printf %s "$TOKEN" | wc -c) bytes)"
CLAIMS="$(printf %s "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null || true)"
note "ear.status: $(printf %s "$CLAIMS" | grep -o '"ear.status":"[a-z]*"' | head -1)"

say "8. the workload attests again and fetches the secret (JWE-wrapped to its TEE key)"
"${CLI[@]}" get-resource --path default/key/model --output "$WORK/fetched.bin"
if cmp -s "$WORK/secret.bin" "$WORK/fetched.bin"; then
  note "secret received and decrypted: $(cat "$WORK/fetched.bin")"
else
  echo "secret mismatch"; exit 1
fi

say "9. the policy says no: with --deny-all the same request is refused"
"${ADMIN[@]}" set-resource-policy --deny-all
if "${CLI[@]}" get-resource --path default/key/model 2>"$WORK/err.txt"; then
  echo "unexpected: secret released under deny-all"; exit 1
fi
note "$(cat "$WORK/err.txt")"

say "10. metrics the burst scaler watches"
curl -s --cacert "$WORK/kbs.crt" "$URL/metrics" 2>/dev/null | grep -E '^kbs_(attestations_total|resource_releases_total|resource_denials_total)' | sed 's/^/    /' || true

say "done: stopping the KBS"
