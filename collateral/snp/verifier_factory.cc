#include "collateral/snp/verifier_factory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

#include "collateral/snp/sources.h"
#include "core/file.h"
#include "core/toml_config.h"
#include "evidence/snp/certificates.h"
#include "evidence/snp/verifier.h"
#include "net/fetch_gate_config.h"

namespace ccburst::collateral::snp {
namespace {

namespace esnp = evidence::snp;
using core::config::CheckKeys;
using core::config::GetInt;
using core::config::GetOptString;
using core::config::GetString;
using core::config::ResolvePath;
using core::config::TypeError;

}  // namespace

absl::StatusOr<std::vector<esnp::ProductAnchor>> LoadArkBundle(const std::string& path,
                                                               std::string_view where) {
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(fmt::format("{}.trusted_ark `{}`: {}", where, path, why));
  };
  auto text = core::ReadFile(path);
  if (!text.ok()) return fail(core::Message(text.status()));
  auto ders = esnp::SplitCertificates(*text);
  if (!ders.ok()) return fail(core::Message(ders.status()));
  std::map<esnp::Generation, esnp::ProductAnchor> by_product;
  std::vector<std::pair<std::string, std::string>> issued;  // (subject CN, DER)
  for (const std::string& der : *ders) {
    auto cert = esnp::Certificate::Parse(der, "trusted_ark");
    if (!cert.ok()) return fail(core::Message(cert.status()));
    const std::string& cn = cert->subject_cn();
    if (cn.rfind("ARK-", 0) == 0) {
      esnp::Generation g = esnp::GenerationFromName(cn.substr(4));
      if (g == esnp::Generation::kUnknown) return fail(fmt::format("unknown ARK product `{}`", cn));
      by_product[g].product = g;
      by_product[g].ark = der;
    } else {
      issued.emplace_back(cn, der);
    }
  }
  for (const auto& [cn, der] : issued) {
    bool vlek = cn.rfind("SEV-VLEK-", 0) == 0;
    std::string product = vlek ? cn.substr(9) : cn.rfind("SEV-", 0) == 0 ? cn.substr(4) : "";
    auto it = by_product.find(esnp::GenerationFromName(product));
    if (product.empty() || it == by_product.end()) {
      return fail(
          fmt::format("certificate `{}` is not an ARK, ASK or ASVK of an ARK in the file", cn));
    }
    (vlek ? it->second.asvk : it->second.ask) = der;
  }
  if (by_product.empty()) return fail("no ARK certificate (subject `ARK-<product>`)");
  std::vector<esnp::ProductAnchor> out;
  for (auto& [g, a] : by_product) out.push_back(std::move(a));
  return out;
}

absl::Status ParseSnpVerifierConfig(const toml::table& t, std::string_view w,
                                    const std::string& base, SnpVerifierConfig& s,
                                    std::vector<std::string>& warnings) {
  core::config::Keys keys{"vcek_sources", "required_vmpl", "trusted_ark", "cache_dir"};
  keys.insert(std::begin(net::kFetchLimitKeys), std::end(net::kFetchLimitKeys));
  CCB_RETURN_IF_ERROR(CheckKeys(t, w, keys));
  CCB_RETURN_IF_ERROR(net::ParseFetchLimits(t, w, s.limits));
  if (const toml::node* n = t.get("vcek_sources")) {
    if (!n->is_array()) return TypeError(w, "vcek_sources", "an array of tables");
    s.vcek_sources.clear();
    size_t i = 0;
    for (const auto& e : *n->as_array()) {
      std::string ew = fmt::format("{}.vcek_sources[{}]", w, i++);
      if (!e.is_table()) return absl::InvalidArgumentError("config: `" + ew + "` must be a table");
      const auto& et = *e.as_table();
      SnpVerifierConfig::VcekSource src;
      CCB_RETURN_IF_ERROR(GetString(et, ew, "type", src.type));
      if (src.type == "KDS") {
        CCB_RETURN_IF_ERROR(CheckKeys(et, ew, {"type", "base_url"}));
        src.base_url = "https://kdsintf.amd.com";
        CCB_RETURN_IF_ERROR(GetString(et, ew, "base_url", src.base_url));
        if (src.base_url.rfind("https://", 0) != 0 && src.base_url.rfind("http://", 0) != 0) {
          return absl::InvalidArgumentError(
              fmt::format("config: `{}.base_url` = `{}` is not an http(s) URL", ew, src.base_url));
        }
      } else if (src.type == "OfflineStore") {
        CCB_RETURN_IF_ERROR(CheckKeys(et, ew, {"type", "path"}));
        src.path = "/opt/confidential-containers/attestation-service/kds-store";
        CCB_RETURN_IF_ERROR(GetString(et, ew, "path", src.path));
        if (src.path.empty()) {
          return absl::InvalidArgumentError(fmt::format("config: `{}.path` is empty", ew));
        }
        src.path = ResolvePath(base, src.path);
      } else if (src.type.empty()) {
        return absl::InvalidArgumentError(fmt::format("config: `{}.type` is required", ew));
      } else {
        return absl::InvalidArgumentError(
            fmt::format("config: `{}.type` = `{}` is not `KDS` or `OfflineStore`", ew, src.type));
      }
      s.vcek_sources.push_back(std::move(src));
    }
  }
  int64_t vmpl = s.required_vmpl;
  CCB_RETURN_IF_ERROR(GetInt(t, w, "required_vmpl", 0, 3, vmpl));
  s.required_vmpl = static_cast<uint32_t>(vmpl);
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "cache_dir", s.cache_dir));
  if (s.cache_dir) s.cache_dir = ResolvePath(base, *s.cache_dir);
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "trusted_ark", s.trusted_ark));
  if (s.trusted_ark) {
    s.trusted_ark = ResolvePath(base, *s.trusted_ark);
    warnings.push_back(fmt::format(
        "{}.trusted_ark = `{}`: SNP reports are trusted on an ARK that is not AMD's (test "
        "hierarchies only)",
        w, *s.trusted_ark));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewSnpVerifier(const SnpVerifierConfig& config,
                                                                   std::string_view where) {
  esnp::SnpVerifierOptions options;
  options.required_vmpl = config.required_vmpl;
  if (config.trusted_ark) {
    CCB_ASSIGN_OR_RETURN(options.anchors, LoadArkBundle(*config.trusted_ark, where));
    options.allow_unpinned_arks = true;
  }
  std::vector<std::shared_ptr<const esnp::CertSource>> sources;
  for (size_t i = 0; i < config.vcek_sources.size(); ++i) {
    const auto& src = config.vcek_sources[i];
    if (src.type == "OfflineStore") {
      sources.push_back(NewOfflineStoreCertSource(src.path));
      continue;
    }
    KdsOptions kds;
    kds.base_url = src.base_url;
    if (config.cache_dir) kds.cache_dir = *config.cache_dir;
    kds.limits = config.limits;
    auto s = NewKdsCertSource(std::move(kds));
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}.vcek_sources[{}]: {}", where, i, core::Message(s.status())));
    }
    sources.push_back(*std::move(s));
  }
  std::string names;
  for (const auto& src : config.vcek_sources) {
    names += fmt::format("{}{} {}", names.empty() ? "" : ", ", src.type,
                         src.type == "KDS" ? src.base_url : src.path);
  }
  spdlog::info("snp verifier: VCEKs from the evidence{}{}", names.empty() ? "" : ", then ", names);
  if (!sources.empty()) options.cert_source = NewChainedCertSource(std::move(sources));
  auto v = esnp::SnpVerifier::Create(std::move(options));
  if (!v.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", where, core::Message(v.status())));
  }
  return std::unique_ptr<evidence::Verifier>(*std::move(v));
}

}  // namespace ccburst::collateral::snp
