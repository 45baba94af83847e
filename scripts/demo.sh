#!/usr/bin/env bash
# The ccburst demo: the whole burst scenario on one machine (docs/bursting.md, "The run"). An
# on-prem cluster runs out of memory, pods go Pending, ccburst-scaler (driven by a KEDA-contract
# driver over gRPC, reading a real Prometheus) bursts Azure TDX confidential VMs (each with its own
# swtpm vTPM and IMDS stand-in), each VM attests as az-tdx-vtpm to the real ccburst-kbs and
# receives the model key (one tampered VM is refused), and the cloud replicas go
# away when demand falls; then the same scenario runs with the reference demo's Pending-count
# ScaledObject and the two are compared. Installs what it needs, builds, runs (about 3 minutes).
# Options: --tee tdx (plain TDX VMs), the rest go to ccburst-burst: --scenario daily-cycle
# --start 0 --duration 3600 --speed 120 ...
source "$(dirname "$0")/lib.sh"

install_deps
# The VMs' guest is the real ccburst-agent: built with the rest (a fresh machine has none yet).
build ccburst-kbs ccburst ccburst-scaler ccburst-burst ccburst-testgen ccburst-agent
exec "$ROOT/scripts/burst.sh" "$@"
