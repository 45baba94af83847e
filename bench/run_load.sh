#!/usr/bin/env bash
# Starts ccburst-kbs (HTTP and HTTPS in turn) with an allow-all policy and one secret, and runs
# kbs_load against it. Usage:
#   bench/run_load.sh [clients] [seconds] [sample|tdx|snp|az-tdx-vtpm|az-snp-vtpm] [modes] [sample-every]
# With tdx or snp, ccburst-testgen creates a test hierarchy, the KBS trusts its root (dcap_verifier
# / snp_verifier) and the clients send evidence generated from it, so the figures include real
# quote/report verification; az-tdx-vtpm / az-snp-vtpm do the same over a TDX / SNP hierarchy
# with Azure vTPM evidence (TPM quote + HCL report, the TD quote or SNP report inside). `modes` is "http https" (default), "http" or "https",
# or "replicas": in one run, SQLite with one replica, then a throwaway PostgreSQL (tests/pg.sh)
# with two replicas and each flow spread across them (/auth and /resource on one, /attest on the
# other), over HTTP; server CPU is summed over the replicas, and PostgreSQL's own CPU per flow (all
# its processes) is printed after it. ROUNDS=N (environment, default 1) alternates the two setups
# N times in the one run and ends with each round's ratio of PostgreSQL + 2 to SQLite + 1.
# With AUDIT=compare, replicas compares PostgreSQL + 2 with the audit trail off and on instead.
# SHARE_WAIT_US=N sets the replicas' confirm_share_wait_us (docs/configuration.md).
# AUDIT=on (environment) turns on the audit trail ([audit], docs/audit.md) for the HTTP/HTTPS
# modes; AUDIT=compare runs each mode with the trail off, then on (ROUNDS=N alternates them N
# times), and ends with the ratio of flows/s on to off and the audit bytes per flow.
# WORKERS=N (environment) sets the KBS's [http_server] worker_count (every mode);
# AUDIT_DURABILITY=commit|flush sets [audit] durability (default commit), AUDIT_SYNC_MS its
# sync_interval_ms.
source "$(dirname "$0")/../scripts/lib.sh"
CLIENTS="${1:-32}"
SECONDS_="${2:-10}"
TEE="${3:-sample}"
MODES="${4:-http https}"
# Soak: every N seconds kbs_load prints the KBS's RSS and open fds, then the RSS slope.
SAMPLE_EVERY="${5:-0}"
# SESSION_MINUTES=N (environment): the KBS's session lifetime ([attestation_service] timeout;
# default 5). A soak reaches its steady state (as many live sessions as are created per lifetime)
# after one lifetime, so a short one shows within minutes whether memory stays flat after it.
SESSION_TOML=""
[ -n "${SESSION_MINUTES:-}" ] && SESSION_TOML=$'[attestation_service]\ntimeout = '"$SESSION_MINUTES"
BIN="$BUILD_DIR/apps"
WORK="$(mktemp -d /tmp/ccburst-load.XXXXXX)"
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
"$BIN/ccburst" keygen --out-dir "$WORK" >/dev/null
"$BIN/ccburst" make-cert --out-dir "$WORK" >/dev/null
printf 'load-test-secret' >"$WORK/secret.bin"
VERIFIER=""
TEE_ARGS=(--tee "$TEE")
case "$TEE" in
  sample) ;;
  tdx|az-tdx-vtpm)
    "$BUILD_DIR/tests/ccburst-testgen" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
    VERIFIER=$'[attestation_service.verifier_config.dcap_verifier]\ncollateral_service = "file://tdx/collateral"\ntrusted_root_ca = "tdx/root.pem"'
    TEE_ARGS+=(--hierarchy "$WORK/tdx") ;;
  snp|az-snp-vtpm)
    "$BUILD_DIR/tests/ccburst-testgen" hierarchy --tee snp --out "$WORK/snp" >/dev/null
    VERIFIER=$'[attestation_service.verifier_config.snp_verifier]\nvcek_sources = [{ type = "OfflineStore", path = "kds-store" }]\ntrusted_ark = "snp/ark.pem"'
    TEE_ARGS+=(--hierarchy "$WORK/snp") ;;
  *) echo "usage: $0 [clients] [seconds] [sample|tdx|snp|az-tdx-vtpm|az-snp-vtpm] [modes]" >&2; exit 2 ;;
esac
if [ "$MODES" = replicas ]; then
  source "$ROOT/tests/pg.sh"
  trap 'for p in $PID; do kill $p 2>/dev/null; done; wait 2>/dev/null; pg_stop; rm -rf "$WORK"' EXIT
  pg_start "$WORK/pg"
  "$BIN/ccburst" make-kek --id bench --out "$WORK/kek" >/dev/null
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/token.key"
  PG_POSTMASTER="$(head -1 "$PG_DATA/postmaster.pid")"
  # CPU seconds (user + system, in clock ticks) of the postmaster and all its children.
  pg_cpu_ticks() {
    local t=0 p
    for p in "$PG_POSTMASTER" $(pgrep -P "$PG_POSTMASTER"); do
      [ -r "/proc/$p/stat" ] || continue
      t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
  }
  RATIOS=()
  # AUDIT=compare: PostgreSQL + 2 replicas with the audit trail off, then on (one chain across
  # both), instead of SQLite against PostgreSQL.
  SETUPS="sqlite1 postgres2"
  if [ "${AUDIT:-off}" = compare ]; then
    SETUPS="postgres2 postgres2audit"
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/audit.key"
  fi
  for round in $(seq 1 "${ROUNDS:-1}"); do
  for setup in $SETUPS; do
    AUDIT_TOML=""
    if [ "$setup" = postgres2audit ]; then
      AUDIT_TOML=$'[audit]\nenabled = true\nsigning_key = "audit.key"'
      [ -n "${AUDIT_DURABILITY:-}" ] && AUDIT_TOML+=$'\ndurability = "'"$AUDIT_DURABILITY"'"'
    fi
    if [ "$setup" = sqlite1 ]; then
      STORAGE=$'[storage_backend]\nstorage_type = "Sqlite"\n[storage_backend.backends.sqlite]\npath = "kbs.db"\n[storage_backend.encryption]\nkey_file = "kek"'
      N=1
    else
      STORAGE="[storage_backend]
storage_type = \"Postgres\"
[storage_backend.backends.postgres]
host = \"127.0.0.1\"
port = $PG_PORT
sslmode = \"disable\"
${SHARE_WAIT_US:+confirm_share_wait_us = $SHARE_WAIT_US}
[storage_backend.encryption]
key_file = \"kek\""
      N=2
    fi
    cat >"$WORK/kbs.toml" <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
insecure_http = true
${WORKERS:+worker_count = $WORKERS}
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" } ]
[attestation_service.attestation_token_broker.signer]
key_path = "token.key"
$STORAGE
$VERIFIER
$AUDIT_TOML
TOML
    PID=""; URLS=(); PIDARGS=()
    for r in $(seq 1 $N); do
      "$BIN/ccburst-kbs" --config "$WORK/kbs.toml" --log-level warn >"$WORK/out$r" 2>"$WORK/log$r" &
      PID="$PID $!"; PIDARGS+=(--server-pid $!)
      for _ in $(seq 1 100); do grep -q "ready port=" "$WORK/out$r" && break; sleep 0.05; done
      URLS+=(--url "http://127.0.0.1:$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/out$r")")
    done
    CLI=("$BIN/ccburst" --url "${URLS[1]}" config --admin-token-file "$WORK/admin.token")
    "${CLI[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
    "${CLI[@]}" set-resource-policy --allow-all
    echo "== round $round: $setup"
    pg_before="$(pg_cpu_ticks)"
    "$BUILD_DIR/bench/kbs_load" "${URLS[@]}" --clients "$CLIENTS" --seconds "$SECONDS_" \
      "${PIDARGS[@]}" --expect "$(cat "$WORK/secret.bin")" "${TEE_ARGS[@]}" | tee "$WORK/result"
    rate="$(sed -n 's/.*flows_per_s=\([0-9]*\).*/\1/p' "$WORK/result")"
    if [ "$setup" = "${SETUPS%% *}" ]; then  # the baseline: the first setup of the round
      SQLITE_RATE="$rate"
    else
      flows="$(sed -n 's/.* flows=\([0-9]*\).*/\1/p' "$WORK/result")"
      pg_ticks=$(( $(pg_cpu_ticks) - pg_before ))
      echo "postgresql_cpu_us_per_flow=$(( pg_ticks * 1000000 / $(getconf CLK_TCK) / (flows > 0 ? flows : 1) ))"
      RATIOS+=("round $round: $rate / $SQLITE_RATE = $(( rate * 100 / (SQLITE_RATE > 0 ? SQLITE_RATE : 1) )) %")
    fi
    for p in $PID; do kill "$p"; wait "$p" 2>/dev/null || true; done; PID=""
  done
  done
  if [ "$SETUPS" = "sqlite1 postgres2" ]; then
    echo "== PostgreSQL + 2 replicas / SQLite + 1 replica"
  else
    echo "== PostgreSQL + 2 replicas: audit trail on / off"
  fi
  printf '%s\n' "${RATIOS[@]}"
  exit 0
fi
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/audit.key"
case "${AUDIT:-off}" in
  off) AUDITS=(off) ;;
  on) AUDITS=(on) ;;
  compare) AUDITS=(off on) ;;
  *) echo "AUDIT must be off, on or compare" >&2; exit 2 ;;
esac
AUDIT_RATIOS=()
WORKERS_TOML=""
[ -n "${WORKERS:-}" ] && WORKERS_TOML="worker_count = $WORKERS"
for mode in $MODES; do
for round in $(seq 1 "${ROUNDS:-1}"); do
for audit in "${AUDITS[@]}"; do
  if [ "$mode" = https ]; then TLS=$'private_key = "kbs.key"\ncertificate = "kbs.crt"'; else TLS='insecure_http = true'; fi
  AUDIT_TOML=""
  [ "$audit" = on ] && AUDIT_TOML=$'[audit]\nenabled = true\nsigning_key = "audit.key"'
  [ "$audit" = on ] && [ -n "${AUDIT_DURABILITY:-}" ] && AUDIT_TOML+=$'\ndurability = "'"$AUDIT_DURABILITY"'"'
  [ "$audit" = on ] && [ -n "${AUDIT_SYNC_MS:-}" ] && AUDIT_TOML+=$'\nsync_interval_ms = '"$AUDIT_SYNC_MS"
  rm -f "$WORK/kbs-$mode.db"*
  cat >"$WORK/kbs.toml" <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
$WORKERS_TOML
$TLS
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" } ]
[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs-$mode.db"
$SESSION_TOML
$VERIFIER
$AUDIT_TOML
TOML
  [ "${#AUDITS[@]}" -gt 1 ] && echo "== $mode round $round: audit $audit"
  "$BIN/ccburst-kbs" --config "$WORK/kbs.toml" --log-level warn >"$WORK/out" 2>"$WORK/log" &
  PID=$!
  for _ in $(seq 1 100); do grep -q "ready port=" "$WORK/out" && break; sleep 0.05; done
  PORT="$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/out")"
  URL="$mode://127.0.0.1:$PORT"
  CLI=("$BIN/ccburst" --url "$URL" --cert-file "$WORK/kbs.crt" config --admin-token-file "$WORK/admin.token")
  "${CLI[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin"
  "${CLI[@]}" set-resource-policy --allow-all
  "$BUILD_DIR/bench/kbs_load" --url "$URL" --cert-file "$WORK/kbs.crt" --clients "$CLIENTS" \
    --seconds "$SECONDS_" --server-pid "$PID" --sample-every "$SAMPLE_EVERY" --expect "$(cat "$WORK/secret.bin")" "${TEE_ARGS[@]}" | tee "$WORK/result"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  rate="$(sed -n 's/.*flows_per_s=\([0-9]*\).*/\1/p' "$WORK/result")"
  if [ "$audit" = off ]; then
    OFF_RATE="$rate"
  elif [ "${#AUDITS[@]}" -gt 1 ]; then
    # Bytes of audit records per flow (warm-up flows included in the table, so counted per record
    # and scaled by the records per flow).
    per_flow="$(python3 - "$WORK/kbs-$mode.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n, size = db.execute("SELECT count(*), coalesce(sum(length(value)), 0) FROM audit_log").fetchone()
kinds = {}
for (v,) in db.execute("SELECT value FROM audit_log"):
    k = v.decode().split('"kind":"', 1)[1].split('"', 1)[0]
    kinds[k] = kinds.get(k, 0) + 1
flows = kinds.get("release", 0) or 1
print(f"{size // flows} bytes/flow ({n} records, {size} bytes, {flows} releases; {kinds})")
PY
)"
    AUDIT_RATIOS+=("$mode round $round: audit on $rate / off $OFF_RATE flows/s = $(( rate * 100 / (OFF_RATE > 0 ? OFF_RATE : 1) )) %, $per_flow")
  fi
done
done
done
if [ "${#AUDIT_RATIOS[@]}" -gt 0 ]; then
  echo "== audit trail on / off"
  printf '%s\n' "${AUDIT_RATIOS[@]}"
fi
