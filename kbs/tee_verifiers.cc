#include "kbs/tee_verifiers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

#include "collateral/dcap/sources.h"
#include "collateral/snp/sources.h"
#include "core/file.h"
#include "crypto/key.h"
#include "evidence/dcap/certificates.h"
#include "evidence/snp/certificates.h"
#include "evidence/snp/verifier.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::kbs {
namespace {

constexpr std::string_view kDcap = "attestation_service.verifier_config.dcap_verifier";
constexpr std::string_view kSnp = "attestation_service.verifier_config.snp_verifier";

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

// Groups a PEM bundle into per-generation anchors by subject CN, as AMD names them.
absl::StatusOr<std::vector<evidence::snp::ProductAnchor>> LoadArkBundle(const std::string& path) {
  namespace snp = evidence::snp;
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(fmt::format("{}.trusted_ark `{}`: {}", kSnp, path, why));
  };
  auto text = core::ReadFile(path);
  if (!text.ok()) return fail(core::Message(text.status()));
  auto ders = snp::SplitCertificates(*text);
  if (!ders.ok()) return fail(core::Message(ders.status()));
  std::map<snp::Generation, snp::ProductAnchor> by_product;
  std::vector<std::pair<std::string, std::string>> issued;  // (subject CN, DER)
  for (const std::string& der : *ders) {
    auto cert = snp::Certificate::Parse(der, "trusted_ark");
    if (!cert.ok()) return fail(core::Message(cert.status()));
    const std::string& cn = cert->subject_cn();
    if (cn.rfind("ARK-", 0) == 0) {
      snp::Generation g = snp::GenerationFromName(cn.substr(4));
      if (g == snp::Generation::kUnknown) return fail(fmt::format("unknown ARK product `{}`", cn));
      by_product[g].product = g;
      by_product[g].ark = der;
    } else {
      issued.emplace_back(cn, der);
    }
  }
  for (const auto& [cn, der] : issued) {
    bool vlek = cn.rfind("SEV-VLEK-", 0) == 0;
    std::string product = vlek ? cn.substr(9) : cn.rfind("SEV-", 0) == 0 ? cn.substr(4) : "";
    auto it = by_product.find(snp::GenerationFromName(product));
    if (product.empty() || it == by_product.end()) {
      return fail(
          fmt::format("certificate `{}` is not an ARK, ASK or ASVK of an ARK in the file", cn));
    }
    (vlek ? it->second.asvk : it->second.ask) = der;
  }
  if (by_product.empty()) return fail("no ARK certificate (subject `ARK-<product>`)");
  std::vector<snp::ProductAnchor> out;
  for (auto& [g, a] : by_product) out.push_back(std::move(a));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewTdxVerifier(
    const KbsConfig::AttestationService::DcapVerifier& config) {
  namespace cdcap = collateral::dcap;
  std::shared_ptr<const evidence::dcap::CollateralSource> inner;
  if (config.collateral_dir) {
    inner = std::make_shared<cdcap::OfflineDirCollateralSource>(*config.collateral_dir);
  } else {
    cdcap::PcsOptions pcs;
    pcs.base_url = PcsBaseUrl(config.collateral_service);
    // Only Intel's PCS needs the Root CA CRL from Intel's certificate site; a PCCS serves it.
    if (pcs.base_url != "https://api.trustedservices.intel.com") pcs.root_ca_crl_url.clear();
    // Trustee's `tcb_update_type` is PCS v4's `update` parameter; unset means standard.
    if (!config.tcb_update_type.empty()) {
      auto update = cdcap::ParseTcbUpdateType(config.tcb_update_type);
      if (!update.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("{}.tcb_update_type: {}", kDcap, core::Message(update.status())));
      }
      pcs.tcb_update_type = *update;
    }
    inner = std::make_shared<cdcap::PcsCollateralSource>(std::move(pcs));
  }
  std::string update =
      config.collateral_dir
          ? ""
          : fmt::format(" (update={})",
                        config.tcb_update_type.empty() ? "standard" : config.tcb_update_type);
  spdlog::info("tdx verifier: collateral from {}{}{}{}", config.collateral_service, update,
               config.cache_dir ? ", disk cache " : "", config.cache_dir.value_or(""));
  cdcap::CachingOptions caching;
  caching.disk_dir = config.cache_dir;
  auto source = std::make_shared<cdcap::CachingCollateralSource>(std::move(inner), caching);
  if (!config.trusted_root_ca) return evidence::tdx::TdxVerifier::Create({std::move(source)});
  auto key = crypto::PublicKey::LoadPemFile(*config.trusted_root_ca);
  if (!key.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}.trusted_root_ca `{}`: {}", kDcap,
                                                  *config.trusted_root_ca,
                                                  core::Message(key.status())));
  }
  return evidence::tdx::TdxVerifier::Create(
      {std::move(source), evidence::dcap::TrustAnchor(*std::move(key))});
}

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewSnpVerifier(
    const KbsConfig::AttestationService::SnpVerifier& config) {
  namespace csnp = collateral::snp;
  evidence::snp::SnpVerifierOptions options;
  options.required_vmpl = config.required_vmpl;
  if (config.trusted_ark) {
    CCB_ASSIGN_OR_RETURN(options.anchors, LoadArkBundle(*config.trusted_ark));
    options.allow_unpinned_arks = true;
  }
  std::vector<std::shared_ptr<const evidence::snp::CertSource>> sources;
  for (size_t i = 0; i < config.vcek_sources.size(); ++i) {
    const auto& src = config.vcek_sources[i];
    if (src.type == "OfflineStore") {
      sources.push_back(csnp::NewOfflineStoreCertSource(src.path));
      continue;
    }
    csnp::KdsOptions kds;
    kds.base_url = src.base_url;
    if (config.cache_dir) kds.cache_dir = *config.cache_dir;
    auto s = csnp::NewKdsCertSource(std::move(kds));
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}.vcek_sources[{}]: {}", kSnp, i, core::Message(s.status())));
    }
    sources.push_back(*std::move(s));
  }
  std::string names;
  for (const auto& src : config.vcek_sources) {
    names += fmt::format("{}{} {}", names.empty() ? "" : ", ", src.type,
                         src.type == "KDS" ? src.base_url : src.path);
  }
  spdlog::info("snp verifier: VCEKs from the evidence{}{}", names.empty() ? "" : ", then ", names);
  if (!sources.empty()) options.cert_source = csnp::NewChainedCertSource(std::move(sources));
  auto v = evidence::snp::SnpVerifier::Create(std::move(options));
  if (!v.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", kSnp, core::Message(v.status())));
  }
  return std::unique_ptr<evidence::Verifier>(*std::move(v));
}

}  // namespace ccburst::kbs
