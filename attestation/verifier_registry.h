// The verifiers the attestation service can use, by TEE name: one table of {tee, config
// section, parse, build} lines, as Trustee's `to_verifier(tee, config)`. The KBS builds them from
// its [attestation_service.verifier_config] section through this file and never names a TEE
// vendor. Adding a TEE: its verifier in evidence/<tee>/, its collateral sources and a config
// parser + factory in collateral/<tee>/, its config struct in VerifierConfig and one line in
// verifier_registry.cc.
#pragma once

#include <toml++/toml.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collateral/azure/verifiers.h"
#include "collateral/dcap/verifier_factory.h"
#include "collateral/snp/verifier_factory.h"
#include "core/status.h"
#include "evidence/verifier.h"
#include "net/fetch_gate.h"

namespace ccburst::attestation {

// [attestation_service.verifier_config]: one member per configurable verifier, named as the
// TOML sub-table (Trustee's names).
// `nvidia_verifier`: the NVIDIA GPU device verifier (additional evidence `nvidia`).
struct NvidiaVerifierConfig {
  // PEM root to trust instead of the NVIDIA Device Identity CA (test device CAs only).
  std::optional<std::string> trusted_root;
  // GPUs accepted in one request.
  int64_t max_devices = 8;
  // RIM fetching (off by default): NVIDIA's RIM service base URL ("https://rim.attestation.
  // nvidia.com"), the PEM RIM trust anchor its RIMs must chain to (required with the URL), an
  // optional PEM CA for the service's TLS, and the fetch limits (net/fetch_gate_config.h keys).
  std::optional<std::string> rim_service_url;
  std::optional<std::string> rim_root;
  std::optional<std::string> rim_service_ca;
  net::FetchGateOptions rim_limits;
  // OCSP checking of the device chains (off by default): the responder URL ("https://ocsp.ndis.
  // nvidia.com"), whether a nonce is sent and must be echoed, an optional PEM CA for its TLS.
  // The responder has its own gate with the same fetch limits as the RIM service.
  std::optional<std::string> ocsp_url;
  bool ocsp_nonce = true;
  std::optional<std::string> ocsp_ca;
};

struct VerifierConfig {
  collateral::dcap::DcapVerifierConfig dcap_verifier;  // `tdx`
  collateral::snp::SnpVerifierConfig snp_verifier;     // `snp`
  NvidiaVerifierConfig nvidia_verifier;                // `nvidia` device evidence
};

// Reads the [`where`] table (e.g. "attestation_service.verifier_config") into `out`: every
// sub-table must belong to a registered verifier ("config: unknown key `where.x`"), and each is
// parsed by its TEE's parser. Relative paths resolve against `base_dir`; insecure settings add a
// line to `warnings`.
absl::Status ParseVerifierConfig(const toml::table& t, std::string_view where,
                                 const std::string& base_dir, VerifierConfig& out,
                                 std::vector<std::string>& warnings);

// The TEE names that have a verifier here, in registration order ("sample", "tdx", "snp",
// "az-tdx-vtpm", "az-snp-vtpm").
std::vector<std::string_view> RegisteredTees();

// The verifier for `tee` from `config`. NotFound for a TEE without a verifier; a bad setting is
// InvalidArgument naming its full key ("attestation_service.verifier_config.dcap_verifier.
// trusted_root_ca `f`: ..."). Building reads only local files; no network I/O.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> BuildVerifier(std::string_view tee,
                                                                  const VerifierConfig& config);

// Every registered verifier, in registration order; the first error stops.
absl::StatusOr<std::vector<std::unique_ptr<evidence::Verifier>>> BuildVerifiers(
    const VerifierConfig& config);

// The device verifiers (additional evidence: "nvidia"), built from `config`; a bad setting is
// InvalidArgument naming its key.
absl::StatusOr<std::vector<std::unique_ptr<evidence::DeviceVerifier>>> BuildDeviceVerifiers(
    const VerifierConfig& config);

}  // namespace ccburst::attestation
