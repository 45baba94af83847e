#include "attestation/verifier_registry.h"

#include <fmt/format.h>

#include "collateral/nvidia/ocsp_source.h"
#include "collateral/nvidia/sources.h"
#include "core/file.h"
#include "core/toml_config.h"
#include "evidence/nvidia/device_verifier.h"
#include "evidence/sample/sample.h"
#include "net/fetch_gate_config.h"

namespace ccburst::attestation {
namespace {

constexpr std::string_view kSection = "attestation_service.verifier_config";

using Verifier = std::unique_ptr<evidence::Verifier>;
using ParseFn = absl::Status (*)(const toml::table& t, std::string_view where,
                                 const std::string& base_dir, VerifierConfig& out,
                                 std::vector<std::string>& warnings);
using BuildFn = absl::StatusOr<Verifier> (*)(const VerifierConfig& config, std::string_view where);

struct Entry {
  std::string_view tee;         // the evidence's TEE name
  std::string_view config_key;  // its sub-table of [attestation_service.verifier_config], or ""
  ParseFn parse;                // nullptr when the verifier takes no configuration
  BuildFn build;
};

// The registry: one line per TEE.
constexpr Entry kRegistry[] = {
    {"sample", "", nullptr,
     [](const VerifierConfig&, std::string_view) -> absl::StatusOr<Verifier> {
       return evidence::NewSampleVerifier();
     }},
    {"tdx", "dcap_verifier",
     [](const toml::table& t, std::string_view w, const std::string& base, VerifierConfig& c,
        std::vector<std::string>& warnings) {
       return collateral::dcap::ParseDcapVerifierConfig(t, w, base, c.dcap_verifier, warnings);
     },
     [](const VerifierConfig& c, std::string_view w) {
       return collateral::dcap::NewDcapTdxVerifier(c.dcap_verifier, w);
     }},
    {"snp", "snp_verifier",
     [](const toml::table& t, std::string_view w, const std::string& base, VerifierConfig& c,
        std::vector<std::string>& warnings) {
       return collateral::snp::ParseSnpVerifierConfig(t, w, base, c.snp_verifier, warnings);
     },
     [](const VerifierConfig& c, std::string_view w) {
       return collateral::snp::NewSnpVerifier(c.snp_verifier, w);
     }},
    // Azure CVMs: the same sections as tdx / snp (parsed by their lines above).
    {"az-tdx-vtpm", "dcap_verifier", nullptr,
     [](const VerifierConfig& c, std::string_view w) {
       return collateral::azure::NewAzTdxVtpmVerifier(c.dcap_verifier, w);
     }},
    {"az-snp-vtpm", "snp_verifier", nullptr,
     [](const VerifierConfig& c, std::string_view w) {
       return collateral::azure::NewAzSnpVtpmVerifier(c.snp_verifier, w);
     }},
};

// Device verifiers take no collateral: their (small) configuration is read here.
constexpr std::string_view kNvidiaKey = "nvidia_verifier";

absl::Status ParseNvidiaConfig(const toml::table& t, std::string_view w,
                               const std::string& base_dir, NvidiaVerifierConfig& out,
                               std::vector<std::string>& warnings) {
  core::config::Keys keys{"trusted_root",   "max_devices", "rim_service_url", "rim_root",
                          "rim_service_ca", "ocsp_url",    "ocsp_nonce",      "ocsp_ca"};
  for (std::string_view k : net::kFetchLimitKeys) keys.insert(k);
  CCB_RETURN_IF_ERROR(core::config::CheckKeys(t, w, keys));
  CCB_RETURN_IF_ERROR(core::config::GetOptString(t, w, "rim_service_url", out.rim_service_url));
  CCB_RETURN_IF_ERROR(core::config::GetOptString(t, w, "rim_root", out.rim_root));
  CCB_RETURN_IF_ERROR(core::config::GetOptString(t, w, "rim_service_ca", out.rim_service_ca));
  if (out.rim_root) out.rim_root = core::config::ResolvePath(base_dir, *out.rim_root);
  if (out.rim_service_ca) {
    out.rim_service_ca = core::config::ResolvePath(base_dir, *out.rim_service_ca);
  }
  CCB_RETURN_IF_ERROR(core::config::GetOptString(t, w, "ocsp_url", out.ocsp_url));
  CCB_RETURN_IF_ERROR(core::config::GetBool(t, w, "ocsp_nonce", out.ocsp_nonce));
  CCB_RETURN_IF_ERROR(core::config::GetOptString(t, w, "ocsp_ca", out.ocsp_ca));
  if (out.ocsp_ca) out.ocsp_ca = core::config::ResolvePath(base_dir, *out.ocsp_ca);
  if (out.rim_service_url.has_value() != out.rim_root.has_value()) {
    return absl::InvalidArgumentError(fmt::format(
        "config: `{}.rim_service_url` and `{}.rim_root` go together (RIM fetching needs the RIM "
        "trust anchor)",
        w, w));
  }
  CCB_RETURN_IF_ERROR(net::ParseFetchLimits(t, w, out.rim_limits));
  CCB_RETURN_IF_ERROR(core::config::GetOptString(t, w, "trusted_root", out.trusted_root));
  if (out.trusted_root) {
    out.trusted_root = core::config::ResolvePath(base_dir, *out.trusted_root);
    warnings.push_back(fmt::format(
        "{}.trusted_root = `{}`: GPU evidence is trusted on a root that is not NVIDIA's (test "
        "device CAs only)",
        w, *out.trusted_root));
  }
  return core::config::GetInt(t, w, "max_devices", 1, 64, out.max_devices);
}

std::string Where(const Entry& e) { return fmt::format("{}.{}", kSection, e.config_key); }

absl::StatusOr<Verifier> Build(const Entry& e, const VerifierConfig& config) {
  return e.build(config, e.config_key.empty() ? std::string(kSection) : Where(e));
}

}  // namespace

absl::Status ParseVerifierConfig(const toml::table& t, std::string_view where,
                                 const std::string& base_dir, VerifierConfig& out,
                                 std::vector<std::string>& warnings) {
  core::config::Keys keys{kNvidiaKey};
  for (const Entry& e : kRegistry) {
    if (!e.config_key.empty()) keys.insert(e.config_key);
  }
  CCB_RETURN_IF_ERROR(core::config::CheckKeys(t, where, keys));
  for (const Entry& e : kRegistry) {
    if (e.parse == nullptr) continue;
    CCB_ASSIGN_OR_RETURN(const toml::table* section,
                         core::config::SubTable(t, where, e.config_key));
    if (section == nullptr) continue;
    CCB_RETURN_IF_ERROR(
        e.parse(*section, core::config::KeyPath(where, e.config_key), base_dir, out, warnings));
  }
  CCB_ASSIGN_OR_RETURN(const toml::table* nvidia, core::config::SubTable(t, where, kNvidiaKey));
  if (nvidia != nullptr) {
    CCB_RETURN_IF_ERROR(ParseNvidiaConfig(*nvidia, core::config::KeyPath(where, kNvidiaKey),
                                          base_dir, out.nvidia_verifier, warnings));
  }
  return absl::OkStatus();
}

std::vector<std::string_view> RegisteredTees() {
  std::vector<std::string_view> out;
  for (const Entry& e : kRegistry) out.push_back(e.tee);
  return out;
}

absl::StatusOr<std::unique_ptr<evidence::Verifier>> BuildVerifier(std::string_view tee,
                                                                  const VerifierConfig& config) {
  for (const Entry& e : kRegistry) {
    if (e.tee == tee) return Build(e, config);
  }
  return absl::NotFoundError(fmt::format("no verifier for TEE `{}`", tee));
}

absl::StatusOr<std::vector<std::unique_ptr<evidence::Verifier>>> BuildVerifiers(
    const VerifierConfig& config) {
  std::vector<Verifier> out;
  for (const Entry& e : kRegistry) {
    CCB_ASSIGN_OR_RETURN(Verifier v, Build(e, config));
    out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<std::vector<std::unique_ptr<evidence::DeviceVerifier>>> BuildDeviceVerifiers(
    const VerifierConfig& config) {
  evidence::nvidia::NvidiaDeviceVerifierOptions options;
  options.max_devices = static_cast<size_t>(config.nvidia_verifier.max_devices);
  if (const auto& root = config.nvidia_verifier.trusted_root) {
    CCB_ASSIGN_OR_RETURN(std::string pem, core::ReadFile(*root), "{}.{}.trusted_root", kSection,
                         kNvidiaKey);
    options.verifier.trust_anchors.push_back(std::move(pem));
  }
  const NvidiaVerifierConfig& nv = config.nvidia_verifier;
  if (nv.rim_service_url && nv.rim_root) {
    collateral::nvidia::RimServiceOptions rim;
    rim.base_url = *nv.rim_service_url;
    rim.ca_certificate_file = nv.rim_service_ca;
    rim.limits = nv.rim_limits;
    CCB_ASSIGN_OR_RETURN(options.rim_source, collateral::nvidia::NewRimServiceSource(rim),
                         "{}.{}.rim_service_url", kSection, kNvidiaKey);
    CCB_ASSIGN_OR_RETURN(std::string pem, core::ReadFile(*nv.rim_root), "{}.{}.rim_root", kSection,
                         kNvidiaKey);
    options.rim_trust_anchors.push_back(std::move(pem));
  }
  if (nv.ocsp_url) {
    collateral::nvidia::OcspResponderOptions ocsp;
    ocsp.url = *nv.ocsp_url;
    ocsp.ca_certificate_file = nv.ocsp_ca;
    ocsp.nonce = nv.ocsp_nonce;
    ocsp.limits = nv.rim_limits;
    CCB_ASSIGN_OR_RETURN(options.ocsp_source, collateral::nvidia::NewOcspResponderSource(ocsp),
                         "{}.{}.ocsp_url", kSection, kNvidiaKey);
  }
  CCB_ASSIGN_OR_RETURN(auto nvidia, evidence::nvidia::NvidiaDeviceVerifier::Create(options),
                       "{}.{}", kSection, kNvidiaKey);
  std::vector<std::unique_ptr<evidence::DeviceVerifier>> out;
  out.push_back(std::move(nvidia));
  return out;
}

}  // namespace ccburst::attestation
