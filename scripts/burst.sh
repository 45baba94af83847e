#!/usr/bin/env bash
# The burst, end to end on one machine (issue 14; docs/bursting.md "The run"): starts the real
# ccburst-kbs (HTTPS, SQLite, TDX test root), a real Prometheus scraping the on-prem cluster
# model, the real ccburst-scaler, then ccburst-burst (the KEDA-contract driver, the cluster model
# and the peer-pod cloud of confidential VMs), and stops all of it again.
# Each cloud VM is an Azure TDX confidential VM (az-tdx-vtpm: its own swtpm vTPM and IMDS stand-in,
# scripts/burst-azure-vm.sh); `--tee tdx` boots plain TDX VMs instead (configfs-tsm stand-in).
# Usage: scripts/burst.sh [--tee az-tdx-vtpm|tdx] [ccburst-burst options, e.g. --scenario
#        daily-cycle --speed 60]
# Env: BUILD_DIR (default build), BURST_WORK (the run's files, logs, plot and summary; default
# /tmp/ccburst-burst, emptied at the start of each run), BURST_SPEED (default 30; also scales the
# scaler's cool-down), AGENT / TESTGEN (the guest's binaries; default from BUILD_DIR).
source "$(dirname "$0")/lib.sh"
TEE=az-tdx-vtpm
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tee) TEE="${2:-}"; shift 2 ;;
    --tee=*) TEE="${1#--tee=}"; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
case "$TEE" in
  az-tdx-vtpm | tdx) ;;
  *) echo "burst: --tee must be az-tdx-vtpm or tdx, not '$TEE'" >&2; exit 2 ;;
esac
BIN="$BUILD_DIR/apps"
TESTGEN="${TESTGEN:-$BUILD_DIR/tests/ccburst-testgen}"
AGENT="${AGENT:-$BIN/ccburst-agent}"
PROMETHEUS="${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}"
SPEED="${BURST_SPEED:-30}"
WORK="${BURST_WORK:-/tmp/ccburst-burst}"
rm -rf "$WORK"
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK/prom-data"
  printf '%s\n' "${PIDS[@]}" >"$WORK/pids"
}
trap cleanup EXIT
die() {
  echo "burst: $*" >&2
  for f in kbs.log prometheus.log scaler.log; do [ -f "$WORK/$f" ] && { echo "--- $f" >&2; tail -15 "$WORK/$f" >&2; }; done
  exit 1
}
wait_for() {  # wait_for FILE REGEX PID WHAT
  for _ in $(seq 1 300); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || die "$4 exited at start-up"
    sleep 0.1
  done
  die "$4 did not start"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "1. the KBS: HTTPS on loopback, SQLite, trusting the TDX test hierarchy's root"
"$TESTGEN" hierarchy --tee tdx --out "$WORK/tdx" >/dev/null
"$BIN/ccburst" keygen --out-dir "$WORK" >/dev/null
"$BIN/ccburst" make-cert --out-dir "$WORK" --host 127.0.0.1 >/dev/null
cat >"$WORK/kbs.toml" <<'TOML'
[http_server]
sockets = ["127.0.0.1:0"]
private_key = "kbs.key"
certificate = "kbs.crt"
[attestation_service.attestation_token_broker]
duration_min = 5
issuer_name = "ccburst-burst-kbs"
[attestation_service.verifier_config.dcap_verifier]
collateral_service = "file://tdx/collateral"
trusted_root_ca = "tdx/root.pem"
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+$" } ]
[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "kbs.db"
TOML
(cd "$WORK" && exec "$BIN/ccburst-kbs" --config kbs.toml >kbs.out 2>kbs.log) &
PIDS+=($!)
wait_for "$WORK/kbs.out" "ready port=" "${PIDS[-1]}" "ccburst-kbs"
KBS_URL="https://127.0.0.1:$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/kbs.out")"
ADMIN=("$BIN/ccburst" --url "$KBS_URL" --cert-file "$WORK/kbs.crt" config --admin-token-file "$WORK/admin.token")
note "ccburst-kbs at $KBS_URL"

say "2. the owner stores the model key and the reference values (MRTD, the TD's RTMRs/XFAM, the vTPM's PCR11)"
head -c 32 /dev/urandom >"$WORK/model.key"
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/model.key"
GOOD_MRTD="$(sed -n 's/^good-mrtd = "\([0-9a-f]*\)"/\1/p' "$ROOT/scripts/burst.toml")"
ZERO48="$(printf '0%.0s' $(seq 1 96))"
"${ADMIN[@]}" set-sample-reference-value mr_td "[\"$GOOD_MRTD\"]" --json
for rv in rtmr_1 rtmr_2; do "${ADMIN[@]}" set-sample-reference-value "$rv" "[\"$ZERO48\"]" --json; done
# az-tdx-vtpm: PCR11 (the guest's unified kernel image on Azure) as the VMs' vTPMs report it.
"${ADMIN[@]}" set-sample-reference-value tdx_pcr11 "[\"$(printf '0%.0s' $(seq 1 64))\"]" --json
"${ADMIN[@]}" set-sample-reference-value xfam '["e702060000000000"]' --json
"${ADMIN[@]}" set-resource-policy --affirming
note "default/key/model: 32 bytes; mr_td accepted: ${GOOD_MRTD:0:16}...; resource policy: affirming"
note "the cloud VMs attest as $TEE"

say "3. the on-prem cluster model's exporter and a real Prometheus scraping it every second"
mkdir -p "$WORK/cluster"
: >"$WORK/cluster/ksm.prom"
python3 "$ROOT/scaler/tests/fake_cluster.py" "$WORK/cluster" >"$WORK/exporter.out" 2>"$WORK/exporter.log" &
PIDS+=($!)
wait_for "$WORK/exporter.out" '^port=' "${PIDS[-1]}" "cluster exporter"
EXPORTER="$(sed -n 's/^port=//p' "$WORK/exporter.out")"
PROM_PORT="$(free_port)"
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kube-state-metrics
    static_configs:
      - targets: ["127.0.0.1:$EXPORTER"]
YML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM="http://127.0.0.1:$PROM_PORT"
for _ in $(seq 1 300); do curl -fsS "$PROM/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$PROM/-/ready" >/dev/null || die "prometheus did not become ready"
note "prometheus at $PROM, scraping the cluster model at 127.0.0.1:$EXPORTER"

say "4. ccburst-scaler: KEDA external scaler over gRPC, reading Prometheus and the KBS"
COOLDOWN="$(python3 -c "import math; print(max(1, math.ceil(300 / $SPEED)))")"
TREND="$(python3 -c "import math; print(max(1, math.ceil(60 / $SPEED)))")"
cat >"$WORK/scaler.toml" <<TOML
[server]
grpc_address = "127.0.0.1:0"
http_address = "127.0.0.1:0"
stream_interval_seconds = 1
signal_refresh_seconds = 1   # the background signal snapshot, as fresh as the 1 s scrape

[prometheus]
address = "$PROM"
timeout_ms = 2000

[kbs]
url = "$KBS_URL"
ca_file = "$WORK/kbs.crt"
refresh_seconds = 1

[profiles.tdx-4x16]
vcpu = 4
memory_gib = 16
price_per_hour = 0.83
tee = "$TEE"
region = "westeurope"

[workloads.on-prem-deployment]
profile = "tdx-4x16"
namespace = "default"
pod_regex = "on-prem-deployment-.*"
node_regex = "node-.*"
cloud_deployment = "cloud-deployment"
max_replicas = 4
scale_in_cooldown_seconds = $COOLDOWN   # 300 simulated seconds at speed $SPEED
trend_window_seconds = $TREND   # rule 7's 60 simulated seconds at speed $SPEED
headroom_pods = 1
pod_cpu = 2
pod_memory_gib = 6
allowed_regions = ["westeurope"]
allowed_tees = ["$TEE"]
[workloads.on-prem-deployment.queries]
cloud_replicas = 'sum(kube_deployment_status_replicas{namespace="\$namespace",deployment="\$cloud_deployment"})'
TOML
"$BIN/ccburst-scaler" --config "$WORK/scaler.toml" >"$WORK/scaler.out" 2>"$WORK/scaler.log" &
PIDS+=($!)
wait_for "$WORK/scaler.out" '^ready grpc_port=' "${PIDS[-1]}" "ccburst-scaler"
GRPC="$(sed -n 's/^ready grpc_port=\([0-9]*\).*/\1/p' "$WORK/scaler.out")"
HTTP="$(sed -n 's/.*http_port=\([0-9]*\).*/\1/p' "$WORK/scaler.out")"
note "ccburst-scaler gRPC 127.0.0.1:$GRPC, metrics http://127.0.0.1:$HTTP/metrics"

say "5. the burst: KEDA-contract driver + cluster model + confidential VMs ($TEE; guest: ccburst-agent)"
mkdir -p "$WORK/run"
VM=()  # burst.toml's VMs are Azure TDX CVMs; the plain-TDX guest instead:
if [ "$TEE" = tdx ]; then
  VM=(--vm-initdata-algorithm sha384
    --vm-stub-command "{testgen} tsm-stub --root {vm_dir}/tsm --tee tdx --hierarchy {hierarchy} --mrtd {mrtd} --mrconfigid {initdata_digest}"
    --vm-agent-command "{agent} --tee tdx --kbs-url {kbs_url} --configfs-root {vm_dir}/tsm --kbs-cert {kbs_cert} --initdata {initdata} serve --listen 127.0.0.1:0")
fi
"$BIN/ccburst-burst" --config "$ROOT/scripts/burst.toml" --traces-dir "$ROOT/scaler/traces" \
  --out "$WORK/run" --exposition-file "$WORK/cluster/ksm.prom" --speed "$SPEED" \
  --scaler-grpc "127.0.0.1:$GRPC" --scaler-http "http://127.0.0.1:$HTTP" --prometheus "$PROM" \
  --model-key "$WORK/model.key" --kbs-url "$KBS_URL" --kbs-cert "$WORK/kbs.crt" \
  --hierarchy "$WORK/tdx" --bin "$BIN" --agent "$AGENT" --testgen "$TESTGEN" --var "root=$ROOT" \
  ${VM[@]+"${VM[@]}"} ${ARGS[@]+"${ARGS[@]}"} || die "ccburst-burst failed"

# What the components themselves counted (the test reads these).
curl -fsS "http://127.0.0.1:$HTTP/metrics" >"$WORK/scaler.metrics" || true
curl -fsS "$PROM/metrics" >"$WORK/prometheus.metrics" || true
curl -fsS --cacert "$WORK/kbs.crt" "$KBS_URL/metrics" >"$WORK/kbs.metrics" || true
say "6. the KBS's own counters"
grep -E '^kbs_(attestations_total|resource_releases_total|resource_denials_total)' "$WORK/kbs.metrics" | sed 's/^/    /' || true
say "done: stopping the scaler, Prometheus, the exporter and the KBS"
