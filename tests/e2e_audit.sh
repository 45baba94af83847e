#!/usr/bin/env bash
# End-to-end test of the audit trail (issue 18) through the real binaries: a ccburst-kbs with
# [audit] on (SQLite, or PostgreSQL with `postgres` when tests/pg.sh provides CCB_TEST_PG_URL)
# records an admin change, an attestation, a release, a refusal and a scaler's burst decision
# (POSTed with a token whose role may only do that); `ccburst audit export` fetches the trail,
# `audit verify` accepts it, `query` and `report` read it; then each tampering case on a copy of
# the export (edit, delete, duplicate, reorder, truncate, bad checkpoint signature, wrong key) must
# fail verify with the record number in the message.
# Usage: e2e_audit.sh <build-dir> [sqlite|postgres]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BUILD="$1"
BACKEND="${2:-sqlite}"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
WORK="$(mktemp -d /tmp/ccburst-e2e-audit.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
"$CLI_BIN" keygen --out-dir "$WORK/scaler" --role scaler --private-key "$WORK/admin.key" >/dev/null
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/audit.key"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/other.key"
"$CLI_BIN" audit public-key --signing-key "$WORK/audit.key" --out "$WORK/audit.pub" 2>/dev/null
"$CLI_BIN" audit public-key --signing-key "$WORK/other.key" --out "$WORK/other.pub" 2>/dev/null
grep -q "BEGIN PUBLIC KEY" "$WORK/audit.pub" || fail "audit public-key"

if [ "$BACKEND" = postgres ]; then
  [ -n "${CCB_TEST_PG_URL:-}" ] || fail "postgres: run through tests/pg.sh (CCB_TEST_PG_URL)"
  "$CLI_BIN" make-kek --id e2e --out "$WORK/kek" >/dev/null
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/token.key"
  STORAGE="[attestation_service.attestation_token_broker.signer]
key_path = \"token.key\"
[storage_backend]
storage_type = \"Postgres\"
[storage_backend.encryption]
key_file = \"kek\""
  export POSTGRES_URL="$CCB_TEST_PG_URL"
else
  STORAGE='[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs.db"'
fi
cat >"$WORK/kbs.toml" <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
insecure_http = true
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" },
         { role = "scaler", allowed_endpoints = "^/kbs/v0/audit/burst-decision\$" } ]
$STORAGE
[audit]
enabled = true
checkpoint_every = 4
signing_key = "audit.key"
TOML

start_kbs "$KBS" "e2e_audit ($BACKEND)"
CLI=("$CLI_BIN" --url "$URL")
ADMIN=("${CLI[@]}" config --admin-token-file "$WORK/admin.token")

# The events: two admin changes, an attestation and a release, a refusal, a burst decision.
head -c 64 /dev/urandom >"$WORK/secret.bin"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin" >/dev/null
"${ADMIN[@]}" set-resource-policy --allow-all >/dev/null
"${CLI[@]}" get-resource --path default/key/model --output "$WORK/got.bin" >/dev/null
cmp -s "$WORK/secret.bin" "$WORK/got.bin" || fail "secret bytes differ"
if "${CLI[@]}" get-resource --path default/key/absent >/dev/null 2>&1; then fail "absent resource released"; fi
DECISION='{"workload":"web","scaledobject":"default/web","from_replicas":0,"to_replicas":3,"direction":"out","reason":"scale_up","signals":{"pending_pods":11.0,"onprem_free_pods":0.0},"profile":"tdx-4x16","region":"westeurope","tee":"tdx","gate":"open"}'
code="$(curl -s -o "$WORK/post.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$WORK/scaler/admin.token")" \
  -H 'Content-Type: application/json' -d "$DECISION" "$URL/kbs/v0/audit/burst-decision")"
[ "$code" = 200 ] || fail "burst decision: HTTP $code $(cat "$WORK/post.out")"
# The scaler's role may not read the trail; nobody unauthenticated may.
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORK/scaler/admin.token")" "$URL/kbs/v0/audit")"
[ "$code" = 403 ] || fail "scaler role reading the trail: HTTP $code, want 403"
code="$(curl -s -o /dev/null -w '%{http_code}' "$URL/kbs/v0/audit")"
[ "$code" = 401 ] || fail "unauthenticated export: HTTP $code, want 401"

"${CLI[@]}" audit export --admin-token-file "$WORK/admin.token" --out "$WORK/export.jsonl" 2>/dev/null
echo "exported $(wc -l <"$WORK/export.jsonl") lines"
[ -n "${CCB_AUDIT_KEEP:-}" ] && cp "$WORK/export.jsonl" "$WORK/audit.pub" "$CCB_AUDIT_KEEP/"
fails=0
check "verify the export" 0 "$CLI_BIN" audit verify --file "$WORK/export.jsonl" --key "$WORK/audit.pub"
grep -q "audit verify: OK" "$WORK/out.json" || fail "verify: $(cat "$WORK/out.json")"

# Every record kind is there, with its fields (digests, never values).
python3 - "$WORK/export.jsonl" "$WORK/secret.bin" <<'PY' || fail "record contents"
import hashlib, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
secret = open(sys.argv[2], "rb").read()
kinds = [l["kind"] for l in lines]
for k in ["admin", "attestation", "release", "refusal", "burst_decision", "checkpoint", "export"]:
    assert k in kinds, f"no {k} record: {kinds}"
rel = next(l for l in lines if l["kind"] == "release")
assert rel["resource"] == "default/key/model" and rel["decision"] == "allow", rel
assert rel["resource_digest"] == "sha256:" + hashlib.sha256(secret).hexdigest(), rel
att = next(l for l in lines if l["kind"] == "attestation")
assert att["verdict"] == "success" and att["tee"] == "sample", att
assert att["evidence_digest"].startswith("sha256:") and att["policy_digest"].startswith("sha256:"), att
assert "tcb_status" in att and "trust_vector" in att and "token_exp" in att, att
ref = next(l for l in lines if l["kind"] == "refusal")
assert ref["resource"] == "default/key/absent" and ref["decision"] == "deny", ref
adm = [l for l in lines if l["kind"] == "admin"]
assert adm[0]["action"] == "resource.write" and adm[0]["role"] == "admin", adm[0]
assert adm[0]["new_digest"] == "sha256:" + hashlib.sha256(secret).hexdigest() and adm[0]["old_digest"] is None, adm[0]
assert adm[1]["action"] == "resource-policy.set" and adm[1]["old_digest"] != adm[1]["new_digest"], adm[1]
bd = next(l for l in lines if l["kind"] == "burst_decision")
assert bd["workload"] == "web" and bd["to_replicas"] == 3 and bd["submitted_by"]["role"] == "scaler", bd
raw = open(sys.argv[1], "rb").read()
assert secret not in raw and secret.hex().encode() not in raw, "the secret is in the export"
print("records: every kind present with digests, no secret")
PY

check "query releases" 0 "$CLI_BIN" audit query --file "$WORK/export.jsonl" --kind release
[ "$(wc -l <"$WORK/out.json")" = 1 ] || fail "query --kind release: $(cat "$WORK/out.json")"
check "query workload" 0 "$CLI_BIN" audit query --file "$WORK/export.jsonl" --workload web
grep -q '"to_replicas":3' "$WORK/out.json" || fail "query --workload web: $(cat "$WORK/out.json")"
check "query refusals" 0 "$CLI_BIN" audit query --file "$WORK/export.jsonl" --outcome deny --resource default/key/absent
[ "$(wc -l <"$WORK/out.json")" = 1 ] || fail "query --outcome deny: $(cat "$WORK/out.json")"
check "report" 0 "$CLI_BIN" audit report --file "$WORK/export.jsonl" --from 2000-01-01T00:00:00Z \
  --to 2100-01-01T00:00:00Z --html "$WORK/report.html"
for want in "Burst decisions" "Attestations by TEE" "default/key/model" "resource-policy.set" "scale_up"; do
  grep -qF "$want" "$WORK/out.json" || fail "report lacks '$want': $(cat "$WORK/out.json")"
done
grep -q "<table>" "$WORK/report.html" || fail "report.html has no table"

# Tampering: each case on a copy must fail verify, naming the record.
tamper() {  # tamper NAME EXPECTED_SUBSTRING PYTHON (edits `lines`, a list of strings)
  python3 - "$WORK/export.jsonl" "$WORK/t.jsonl" <<PY
import json, sys
lines = open(sys.argv[1]).read().splitlines()
$3
open(sys.argv[2], "w").write("".join(l + "\n" for l in lines))
PY
  if check "tamper: $1" 1 "$CLI_BIN" audit verify --file "$WORK/t.jsonl" --key "${KEY:-$WORK/audit.pub}"; then
    grep -qF -- "$2" "$WORK/err.txt" || { echo "FAIL tamper $1: want '$2' in: $(cat "$WORK/err.txt")"; fails=$((fails + 1)); }
  fi
}
tamper edit "record 3 (line 3, seq 3): digest does not match" \
  'r = json.loads(lines[2]); r["client"] = "10.6.6.6"; lines[2] = json.dumps(r, separators=(",", ":"))'
tamper delete "record 3 (line 3, seq 4): seq 4 where 3 was expected" 'del lines[2]'
tamper duplicate "record 3 (line 3, seq 2): seq 2 where 3 was expected (a duplicate" 'lines.insert(2, lines[1])'
tamper reorder "record 2 (line 2, seq 3): seq 3 where 2 was expected" 'lines[1], lines[2] = lines[2], lines[1]'
N="$(($(wc -l <"$WORK/export.jsonl") - 2))"
tamper truncate "missing: the export ends after record $N" 'lines = lines[:-2]'
tamper truncate-mid-line "): not a JSON object" 'lines[-1] = lines[-1][:40]'
tamper checkpoint-signature "record 4 (line 4, seq 4): checkpoint signature does not verify" '
r = json.loads(lines[3]); assert r["kind"] == "checkpoint"
s = r["signature"]; r["signature"] = ("B" if s[0] == "A" else "A") + s[1:]
lines[3] = json.dumps(r, separators=(",", ":"))'
KEY="$WORK/other.pub" tamper wrong-key "record 4 (line 4, seq 4): checkpoint signed by key" 'pass'
[ "$fails" = 0 ] || fail "$fails check(s) failed"

# Fail closed: with the trail's table unwritable, releases stop (503) and nothing leaks.
if [ "$BACKEND" = sqlite ]; then
  stop_kbs
  python3 - "$WORK/kbs.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit store down'); END")
db.commit()
PY
  start_kbs "$KBS" "e2e_audit (audit store failing)"
  CLI=("$CLI_BIN" --url "$URL")
  if "${CLI[@]}" get-resource --path default/key/model --output "$WORK/got2.bin" 2>"$WORK/cli.err"; then
    fail "released without an audit record"
  fi
  grep -q "could not be recorded" "$WORK/cli.err" || fail "fail-closed detail: $(cat "$WORK/cli.err")"
  echo "ok   fail closed: release withheld when the trail cannot be written"
fi
echo "e2e_audit ($BACKEND): all checks passed"
