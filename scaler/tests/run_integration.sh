#!/usr/bin/env bash
# Integration test of ccburst-scaler: a real Prometheus (Debian's `prometheus`) on loopback scrapes
# a test exporter (fake_cluster.py, which also plays the KBS's /healthz and /metrics), the scaler
# reads that Prometheus, and scaler_integration_test plays KEDA over gRPC.
# With CCB_IT_KBS (a ccburst-kbs) and CCB_IT_TESTGEN (ccburst-testgen) and CCB_IT_CLI (ccburst) set,
# a real KBS on a test TDX hierarchy is started too and the `realkbs` workload gates on it; that
# KBS keeps the audit trail, the scalers send it their burst decisions ([audit], with a token whose
# role may only do that), and at the end the trail, exported and verified with `ccburst audit`,
# must hold the decisions the scaler made.
# Usage: run_integration.sh <ccburst-scaler> <scaler_integration_test|scaler_load> [client args]
set -euo pipefail
source "$(dirname "$0")/../../tests/lib.sh"  # write_test_kbs_toml, start_kbs (fail is ours, below)
SCALER="$1"
CLIENT="$2"
shift 2
HERE="$(cd "$(dirname "$0")" && pwd)"
PROMETHEUS="${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}"
WORK="$(mktemp -d /tmp/ccburst-scaler-it.XXXXXX)"
PIDS=()
fail() {
  echo "FAIL: $*" >&2
  for f in scaler.log prometheus.log; do [ -f "$WORK/$f" ] && { echo "--- $f" >&2; tail -30 "$WORK/$f" >&2; }; done
  exit 1
}
cleanup() {
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${CCB_IT_KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

wait_for() {  # wait_for <file> <regex>
  for _ in $(seq 1 300); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

python3 "$HERE/fake_cluster.py" "$WORK" >"$WORK/fake.out" 2>"$WORK/fake.log" &
PIDS+=($!)
wait_for "$WORK/fake.out" '^port=' || fail "fake cluster did not start"
FAKE=$(sed -n 's/^port=//p' "$WORK/fake.out")

REALKBS_TOML=""
AUDIT_TOML=""
if [ -n "${CCB_IT_KBS:-}" ]; then
  "$CCB_IT_TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
  "$CCB_IT_CLI" keygen --out-dir "$WORK" >/dev/null
  "$CCB_IT_CLI" keygen --out-dir "$WORK/scaler" --role scaler --private-key "$WORK/admin.key" >/dev/null
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
    openssl pkcs8 -topk8 -nocrypt -out "$WORK/audit.key"
  "$CCB_IT_CLI" audit public-key --signing-key "$WORK/audit.key" --out "$WORK/audit.pub" 2>/dev/null
  write_test_kbs_toml '[audit]' 'enabled = true' 'signing_key = "audit.key"'
  # The scalers' token may only post burst decisions.
  sed -i 's|^acls = \[ { role = "admin", allowed_endpoints = "^/kbs/.+\$" } \]$|acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+$" }, { role = "scaler", allowed_endpoints = "^/kbs/v0/audit/burst-decision$" } ]|' \
    "$WORK/kbs.toml"
  grep -q 'role = "scaler"' "$WORK/kbs.toml" || fail "no scaler ACL in kbs.toml"
  start_kbs "$CCB_IT_KBS" scaler_integration
  PIDS+=("$PID")
  "$CCB_IT_CLI" --url "$URL" config --admin-token-file "$WORK/admin.token" set-resource \
    --path default/key/model --resource-file "$WORK/admin.pub" >/dev/null
  "$CCB_IT_CLI" --url "$URL" config --admin-token-file "$WORK/admin.token" set-resource-policy \
    --allow-all >/dev/null
  export CCB_IT_KBS_ATTEST="$CCB_IT_TESTGEN attest --url $URL --tee tdx --hierarchy $WORK/tdx --path default/key/model"
  REALKBS_TOML="[workloads.realkbs]
profile = \"tdx-4x16\"
max_replicas = 50
warm_pods = 0
kbs_url = \"$URL\""
  AUDIT_TOML="[audit]
enabled = true
token_file = \"scaler/admin.token\"
kbs_url = \"$URL\""
fi

PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kube-state-metrics
    static_configs:
      - targets: ["127.0.0.1:$FAKE"]
YML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
PIDS+=($PROM_PID)
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null || fail "prometheus did not become ready"

cat >"$WORK/scaler.toml" <<TOML
[server]
grpc_address = "127.0.0.1:0"
http_address = "127.0.0.1:0"
stream_interval_seconds = 1
signal_refresh_seconds = 1
signal_max_age_seconds = 10

[prometheus]
address = "http://127.0.0.1:$PROM_PORT"
timeout_ms = 1000

[kbs]
url = "http://127.0.0.1:$FAKE/kbs"
refresh_seconds = 1
min_attestations = 3
max_failure_ratio = 0.5

[profiles.tdx-4x16]
vcpu = 4
memory_gib = 16
price_per_hour = 0.83
tee = "tdx"
region = "westeurope"

[workloads.web]
profile = "tdx-4x16"
node_regex = "node-.*"
max_replicas = 4
scale_in_cooldown_seconds = 3
# Rules 1-5 over the wire: the test's on-prem node is full, which would start the default warm VM
# (rule 6, pinned in decision_test.cc).
warm_pods = 0
allowed_regions = ["westeurope"]
allowed_tees = ["tdx"]

[workloads.seed]
profile = "tdx-4x16"
mode = "pending"

[workloads.noseries]
profile = "tdx-4x16"
[workloads.noseries.queries]
unschedulable_pods = "sum(kube_no_such_metric)"

[workloads.multi]
profile = "tdx-4x16"
[workloads.multi.queries]
unschedulable_pods = "kube_pod_status_unschedulable"

[workloads.nan]
profile = "tdx-4x16"
[workloads.nan.queries]
unschedulable_pods = "vector(0) / 0"

[workloads.garbage]
profile = "tdx-4x16"
prometheus_address = "http://127.0.0.1:$FAKE/garbage"

[workloads.slowprom]
profile = "tdx-4x16"
prometheus_address = "http://127.0.0.1:$FAKE/slow"

[workloads.kbsdown]
profile = "tdx-4x16"
kbs_url = "http://127.0.0.1:1"

[workloads.sovereign]
profile = "tdx-4x16"
allowed_regions = ["germanywestcentral"]

# Placement across profiles (one ScaledObject per profile) and a GPU burst gated on its devices.
[profiles.tdx-8x32]
vcpu = 8
memory_gib = 32
price_per_hour = 1.5
tee = "tdx"
region = "westeurope"

[profiles.gpu-h100]
vcpu = 16
memory_gib = 64
gpus = 1
gpu_arch = "hopper"
price_per_hour = 4.0
tee = "tdx"
region = "westeurope"

[workloads.placed]
profiles = ["tdx-4x16", "tdx-8x32"]
max_replicas = 10
warm_pods = 0
scale_in_cooldown_seconds = 3

[workloads.gpu]
profiles = ["gpu-h100", "tdx-4x16"]
max_replicas = 4
warm_pods = 0
scale_in_cooldown_seconds = 3
kbs_url = "http://127.0.0.1:$FAKE/gpukbs"
[workloads.gpu.queries]
pending_gpus = 'sum(kube_pod_status_unschedulable{namespace="default",pod=~"on-prem-deployment.*"}) or vector(0)'

$REALKBS_TOML
$AUDIT_TOML
TOML
# The stand-in KBS's counters exist before the scaler starts (its background refresh reads the gate
# at once, and counters from before it started do not count), as the test's first step sets them.
printf '%s\n' '# TYPE kbs_attestations_total counter' \
  'kbs_attestations_total{tee="tdx",outcome="success"} 50' \
  'kbs_attestations_total{tee="tdx",outcome="failure"} 0' \
  'kbs_attestations_total{tee="snp",outcome="failure"} 1000' >"$WORK/kbs.prom"
printf '%s\n' 'kbs_attestations_total{tee="tdx",outcome="success"} 50' \
  'kbs_device_attestations_total{arch="HOPPER",outcome="success"} 10' \
  'kbs_device_attestations_total{arch="HOPPER",outcome="failure"} 0' >"$WORK/gpukbs.prom"
"$SCALER" --config "$WORK/scaler.toml" >"$WORK/scaler.out" 2>"$WORK/scaler.log" &
PIDS+=($!)
wait_for "$WORK/scaler.out" '^ready grpc_port=' || fail "scaler did not start"
GRPC=$(sed -n 's/^ready grpc_port=\([0-9]*\).*/\1/p' "$WORK/scaler.out")
HTTP=$(sed -n 's/.*http_port=\([0-9]*\).*/\1/p' "$WORK/scaler.out")

# A second scaler on the same configuration with gRPC over mutual TLS, as KEDA's `enableTLS` +
# TriggerAuthentication (caCert, tlsClientCert, tlsClientKey) meet it: self-signed P-256 certificates
# for the server (127.0.0.1), KEDA's client, and a client the scaler does not trust.
for who in server client stranger; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$who" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/$who.key" -out "$WORK/$who.crt" 2>/dev/null \
    || fail "openssl could not make the $who certificate"
done
sed -e 's/^stream_interval_seconds = 1$/stream_interval_seconds = 1\ntls_cert_file = "server.crt"\ntls_key_file = "server.key"\ntls_client_ca_file = "client.crt"/' \
  "$WORK/scaler.toml" >"$WORK/scaler-tls.toml"
grep -q '^tls_client_ca_file' "$WORK/scaler-tls.toml" || fail "no TLS keys in scaler-tls.toml"
"$SCALER" --config "$WORK/scaler-tls.toml" >"$WORK/scaler-tls.out" 2>"$WORK/scaler-tls.log" &
PIDS+=($!)
wait_for "$WORK/scaler-tls.out" '^ready grpc_port=' || fail "the TLS scaler did not start: $(cat "$WORK/scaler-tls.log")"
grep -q 'mutual TLS' "$WORK/scaler-tls.log" || fail "the TLS scaler does not say it serves mutual TLS"
GRPC_TLS=$(sed -n 's/^ready grpc_port=\([0-9]*\).*/\1/p' "$WORK/scaler-tls.out")

CCB_IT_SCALER="127.0.0.1:$GRPC" CCB_IT_SCALER_HTTP="http://127.0.0.1:$HTTP" CCB_IT_DIR="$WORK" \
  CCB_IT_SCALER_TLS="127.0.0.1:$GRPC_TLS" \
  CCB_IT_PROM_PID="$PROM_PID" "$CLIENT" "$@" || fail "$(basename "$CLIENT") failed"
if [ "$(basename "$CLIENT")" = scaler_integration_test ]; then
  # Decisions are explained in the structured log too.
  grep -q 'reason=gate_attestation_failing' "$WORK/scaler.log" || fail "no gate decision in the log"
  grep -q 'reason=signal_error.*detail="prometheus: query `vector(0) / 0`: value `NaN`' \
    "$WORK/scaler.log" || fail "no NaN fault in the log"
  if [ -n "${CCB_IT_KBS:-}" ]; then
    # The decisions the scaler logged reached the real KBS's audit trail, signed into its chain.
    "$CCB_IT_CLI" --url "$URL" audit export --admin-token-file "$WORK/admin.token" \
      --out "$WORK/audit.jsonl" 2>/dev/null || fail "audit export"
    "$CCB_IT_CLI" audit verify --file "$WORK/audit.jsonl" --key "$WORK/audit.pub" \
      >"$WORK/verify.out" 2>&1 || fail "audit verify: $(cat "$WORK/verify.out")"
    python3 - "$WORK/audit.jsonl" "$WORK/scaler.log" <<'PY' || fail "burst decisions in the audit trail"
import json, re, sys
records = [json.loads(l) for l in open(sys.argv[1])]
decisions = [r for r in records if r["kind"] == "burst_decision"]
assert decisions, "no burst_decision record"
for d in decisions:
    for field in ["workload", "reason", "from_replicas", "to_replicas", "signals", "gate"]:
        assert field in d, f"burst_decision without {field}: {d}"
    assert d["from_replicas"] != d["to_replicas"], f"a decision that changed nothing: {d}"
web = [d for d in decisions if d["workload"] == "web"]
assert web, f"no decision of workload web: {sorted({d['workload'] for d in decisions})}"
assert any(d["to_replicas"] > d["from_replicas"] for d in web), "web never scaled out"
print(f"audit trail: {len(decisions)} burst decisions of {len({d['workload'] for d in decisions})} workloads")
PY
  fi
  echo "scaler integration: ok"
fi
