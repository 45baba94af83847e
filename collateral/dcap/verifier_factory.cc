#include "collateral/dcap/verifier_factory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "collateral/dcap/sources.h"
#include "core/toml_config.h"
#include "crypto/key.h"
#include "evidence/dcap/certificates.h"
#include "evidence/tdx/verifier.h"
#include "net/fetch_gate_config.h"

namespace ccburst::collateral::dcap {
namespace {

using core::config::CheckKeys;
using core::config::GetOptString;
using core::config::GetString;
using core::config::ResolvePath;

// "https://host[:port]/sgx/certification/v4/" (Trustee's form) -> "https://host[:port]": the PCS
// client appends the per-item paths itself.
std::string PcsBaseUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  for (std::string_view suffix : {"/sgx/certification/v4", "/tdx/certification/v4"}) {
    if (url.size() >= suffix.size() &&
        url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0) {
      url.resize(url.size() - suffix.size());
      break;
    }
  }
  return url;
}

}  // namespace

absl::Status ParseDcapVerifierConfig(const toml::table& t, std::string_view w,
                                     const std::string& base, DcapVerifierConfig& d,
                                     std::vector<std::string>& warnings) {
  CCB_RETURN_IF_ERROR(CheckKeys(t, w, [] {
    core::config::Keys keys{"collateral_service", "tcb_update_type", "cache_dir",
                            "trusted_root_ca"};
    keys.insert(std::begin(net::kFetchLimitKeys), std::end(net::kFetchLimitKeys));
    return keys;
  }()));
  CCB_RETURN_IF_ERROR(net::ParseFetchLimits(t, w, d.limits));
  CCB_RETURN_IF_ERROR(GetString(t, w, "collateral_service", d.collateral_service));
  const std::string& url = d.collateral_service;
  if (url.rfind("file://", 0) == 0) {
    if (url.size() == 7) {
      return absl::InvalidArgumentError(
          fmt::format("config: `{}.collateral_service` = `{}` names no directory", w, url));
    }
    d.collateral_dir = ResolvePath(base, url);
  } else if (url.rfind("https://", 0) != 0 || url.size() == 8) {
    return absl::InvalidArgumentError(fmt::format(
        "config: `{}.collateral_service` = `{}` is neither an https:// PCS/PCCS URL nor a "
        "file:// collateral directory",
        w, url));
  }
  CCB_RETURN_IF_ERROR(GetString(t, w, "tcb_update_type", d.tcb_update_type));
  if (!d.tcb_update_type.empty() && d.tcb_update_type != "early" &&
      d.tcb_update_type != "standard") {
    return absl::InvalidArgumentError(fmt::format(
        "config: `{}.tcb_update_type` = `{}` is not `early` or `standard`", w, d.tcb_update_type));
  }
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "cache_dir", d.cache_dir));
  if (d.cache_dir) d.cache_dir = ResolvePath(base, *d.cache_dir);
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "trusted_root_ca", d.trusted_root_ca));
  if (d.trusted_root_ca) {
    d.trusted_root_ca = ResolvePath(base, *d.trusted_root_ca);
    warnings.push_back(fmt::format(
        "{}.trusted_root_ca = `{}`: TDX quotes are trusted on a root that is not Intel's (test "
        "hierarchies only)",
        w, *d.trusted_root_ca));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const evidence::dcap::CollateralSource>> NewDcapCollateralSource(
    const DcapVerifierConfig& config, std::string_view where) {
  std::shared_ptr<const evidence::dcap::CollateralSource> inner;
  if (config.collateral_dir) {
    inner = std::make_shared<OfflineDirCollateralSource>(*config.collateral_dir);
  } else {
    PcsOptions pcs;
    pcs.base_url = PcsBaseUrl(config.collateral_service);
    // Only Intel's PCS needs the Root CA CRL from Intel's certificate site; a PCCS serves it.
    if (pcs.base_url != "https://api.trustedservices.intel.com") pcs.root_ca_crl_url.clear();
    // Trustee's `tcb_update_type` is PCS v4's `update` parameter; unset means standard.
    if (!config.tcb_update_type.empty()) {
      CCB_ASSIGN_OR_RETURN(pcs.tcb_update_type, ParseTcbUpdateType(config.tcb_update_type),
                           "{}.tcb_update_type", where);
    }
    inner = std::make_shared<PcsCollateralSource>(std::move(pcs));
  }
  CachingOptions caching;
  caching.disk_dir = config.cache_dir;
  caching.limits = config.limits;
  return std::make_shared<CachingCollateralSource>(std::move(inner), caching);
}

absl::StatusOr<std::optional<evidence::dcap::TrustAnchor>> LoadDcapTrustAnchor(
    const DcapVerifierConfig& config, std::string_view where) {
  if (!config.trusted_root_ca) return std::nullopt;
  auto key = crypto::PublicKey::LoadPemFile(*config.trusted_root_ca);
  if (!key.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}.trusted_root_ca `{}`: {}", where,
                                                  *config.trusted_root_ca,
                                                  core::Message(key.status())));
  }
  return evidence::dcap::TrustAnchor(*std::move(key));
}

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewDcapTdxVerifier(
    const DcapVerifierConfig& config, std::string_view where) {
  CCB_ASSIGN_OR_RETURN(auto source, NewDcapCollateralSource(config, where));
  std::string update =
      config.collateral_dir
          ? ""
          : fmt::format(" (update={})",
                        config.tcb_update_type.empty() ? "standard" : config.tcb_update_type);
  spdlog::info("tdx verifier: collateral from {}{}{}{}", config.collateral_service, update,
               config.cache_dir ? ", disk cache " : "", config.cache_dir.value_or(""));
  CCB_ASSIGN_OR_RETURN(auto anchor, LoadDcapTrustAnchor(config, where));
  return evidence::tdx::TdxVerifier::Create({std::move(source), std::move(anchor)});
}

}  // namespace ccburst::collateral::dcap
