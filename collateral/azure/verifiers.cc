#include "collateral/azure/verifiers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

#include "collateral/tdx/sources.h"
#include "core/file.h"
#include "crypto/key.h"
#include "evidence/azure/verifier.h"
#include "evidence/snp/cert.h"
#include "evidence/tdx/x509.h"

namespace ccburst::collateral::azure {
namespace {

constexpr std::string_view kDcap = "attestation_service.verifier_config.dcap_verifier";
constexpr std::string_view kSnp = "attestation_service.verifier_config.snp_verifier";

}  // namespace

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

absl::StatusOr<std::shared_ptr<const evidence::tdx::TdxCollateralSource>> NewDcapCollateralSource(
    const DcapSettings& settings, std::string_view setting_name) {
  namespace ctdx = collateral::tdx;
  std::shared_ptr<const evidence::tdx::TdxCollateralSource> inner;
  if (settings.collateral_dir) {
    inner = std::make_shared<ctdx::OfflineDirCollateralSource>(*settings.collateral_dir);
  } else {
    ctdx::PcsOptions pcs;
    pcs.base_url = PcsBaseUrl(settings.collateral_service);
    // Only Intel's PCS needs the Root CA CRL from Intel's certificate site; a PCCS serves it.
    if (pcs.base_url != "https://api.trustedservices.intel.com") pcs.root_ca_crl_url.clear();
    if (!settings.tcb_update_type.empty()) {
      CCB_ASSIGN_OR_RETURN(pcs.tcb_update_type, ctdx::ParseTcbUpdateType(settings.tcb_update_type),
                           "{}.tcb_update_type", setting_name);
    }
    inner = std::make_shared<ctdx::PcsCollateralSource>(std::move(pcs));
  }
  ctdx::CachingOptions caching;
  caching.disk_dir = settings.cache_dir;
  return std::make_shared<ctdx::CachingCollateralSource>(std::move(inner), caching);
}

absl::StatusOr<std::vector<evidence::snp::ProductAnchor>> LoadArkBundle(
    const std::string& path, std::string_view setting_name) {
  namespace snp = evidence::snp;
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        fmt::format("{}.trusted_ark `{}`: {}", setting_name, path, why));
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

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzTdxVtpmVerifier(
    const DcapSettings& settings) {
  CCB_ASSIGN_OR_RETURN(auto source, NewDcapCollateralSource(settings, kDcap));
  spdlog::info("az-tdx-vtpm verifier: TD quote collateral from {}{}{}",
               settings.collateral_dir ? *settings.collateral_dir : settings.collateral_service,
               settings.cache_dir ? ", disk cache " : "", settings.cache_dir.value_or(""));
  if (!settings.trusted_root_ca) {
    return std::make_unique<evidence::azure::AzTdxVtpmVerifier>(std::move(source));
  }
  auto key = crypto::PublicKey::LoadPemFile(*settings.trusted_root_ca);
  if (!key.ok()) {
    return core::WithCode(core::Annotate(key.status(), fmt::format("{}.trusted_root_ca `{}`", kDcap,
                                                                   *settings.trusted_root_ca)),
                          absl::StatusCode::kInvalidArgument);
  }
  return std::make_unique<evidence::azure::AzTdxVtpmVerifier>(
      std::move(source), evidence::tdx::TrustAnchor(*std::move(key)));
}

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzSnpVtpmVerifier(
    const std::optional<std::string>& trusted_ark) {
  evidence::snp::SnpVerifierOptions options;
  if (trusted_ark) {
    CCB_ASSIGN_OR_RETURN(options.anchors, LoadArkBundle(*trusted_ark, kSnp));
    options.allow_unpinned_arks = true;
  }
  spdlog::info("az-snp-vtpm verifier: VCEKs from the evidence, {}",
               trusted_ark ? "test ARK bundle " + *trusted_ark : std::string("AMD's pinned ARKs"));
  CCB_ASSIGN_OR_RETURN(auto v, evidence::azure::AzSnpVtpmVerifier::Create(std::move(options)), "{}",
                       kSnp);
  return std::unique_ptr<evidence::Verifier>(std::move(v));
}

}  // namespace ccburst::collateral::azure
