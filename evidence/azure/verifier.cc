#include "evidence/azure/verifier.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace ccburst::evidence::azure {
namespace {

namespace json = boost::json;

constexpr size_t kRuntimeDataCacheEntries = 1024;

// `status` with the TEE name in front; a sub-verifier's own TEE prefix ("snp: ", "tdx: ") is
// replaced by `check`.
absl::Status Named(const absl::Status& status, std::string_view tee, std::string_view check = "",
                   std::string_view strip = "") {
  if (status.ok()) return status;
  std::string_view msg(status.message().data(), status.message().size());
  if (!strip.empty() && msg.substr(0, strip.size()) == strip) msg.remove_prefix(strip.size());
  std::string text =
      check.empty() ? fmt::format("{}: {}", tee, msg) : fmt::format("{}: {}: {}", tee, check, msg);
  return absl::Status(status.code(), text);
}

absl::Status Denied(std::string_view tee, std::string_view what) {
  return absl::PermissionDeniedError(fmt::format("{}: {}", tee, what));
}

// Steps 1-3 and 5-6 of verifier.h, shared by both TEEs. Fills `out` (quote, hcl, runtime data).
struct Common {
  HclReport hcl;
  QuoteAttest quote;
  std::shared_ptr<const RuntimeData> runtime;
};

absl::StatusOr<Common> CheckTpmAndHcl(std::string_view tee, const Evidence& ev,
                                      const ExpectedBinding* binding, HwReportType expected_type,
                                      internal::RuntimeDataCache& cache) {
  Common c;
  auto hcl = ParseHclReport(ev.hcl_report);
  if (!hcl.ok()) return Named(hcl.status(), tee);
  c.hcl = *std::move(hcl);
  if (c.hcl.type != expected_type) {
    return absl::InvalidArgumentError(
        fmt::format("{}: hcl report: carries a {} report, expected {}", tee,
                    HwReportTypeName(c.hcl.type), HwReportTypeName(expected_type)));
  }
  auto rd = cache.Get(c.hcl.var_data);
  if (!rd.ok()) return Named(rd.status(), tee);
  c.runtime = *std::move(rd);

  auto quote = ParseQuoteAttest(ev.tpm_quote.message);
  if (!quote.ok()) return Named(quote.status(), tee);
  c.quote = *std::move(quote);
  CCB_RETURN_IF_ERROR(Named(
      VerifyQuoteSignature(c.runtime->ak_pub, ev.tpm_quote.message, ev.tpm_quote.signature), tee));
  CCB_RETURN_IF_ERROR(Named(CheckPcrs(c.quote, ev.tpm_quote.pcrs), tee));
  if (binding != nullptr && c.quote.extra_data != binding->report_data_digest) {
    return Denied(tee, fmt::format("tpm quote: extraData {} does not match the session binding {}",
                                   core::HexEncode(c.quote.extra_data),
                                   core::HexEncode(binding->report_data_digest)));
  }
  if (c.hcl.hw_report_data().substr(0, 32) != c.hcl.var_data_sha256) {
    return Denied(tee, fmt::format("hcl report: {} report_data[0:32] {} does not match "
                                   "sha256(variable data) {}",
                                   HwReportTypeName(c.hcl.type),
                                   core::HexEncode(c.hcl.hw_report_data().substr(0, 32)),
                                   core::HexEncode(c.hcl.var_data_sha256)));
  }
  return c;
}

absl::Status CheckSessionData(std::string_view tee, const Evidence& ev, const Common& c,
                              const ExpectedBinding* binding) {
  if (binding == nullptr) return absl::OkStatus();
  if (ev.version >= 2) {
    const std::string& want = binding->report_data_digest;
    if (!c.runtime->user_data.has_value()) {
      return Denied(tee, "hcl report: v2 evidence without `user-data`");
    }
    if (c.runtime->user_data->substr(0, want.size()) != want) {
      return Denied(
          tee, "hcl report: `user-data` does not start with the session binding (v2 evidence)");
    }
  }
  const std::string& pcr8 = ev.tpm_quote.pcrs[kInitDataPcr];
  if (binding->init_data_digest.has_value() &&
      pcr8 != InitDataPcrValue(*binding->init_data_digest)) {
    return Denied(tee, fmt::format("init-data: PCR8 {} does not match sha256(32 zero bytes || "
                                   "init-data digest) {}",
                                   core::HexEncode(pcr8),
                                   core::HexEncode(InitDataPcrValue(*binding->init_data_digest))));
  }
  return absl::OkStatus();
}

// Trustee's Azure claim overrides plus the HCL's VM configuration.
void AddAzureClaims(const Evidence& ev, const Common& c, json::object* claims) {
  json::object tpm;
  for (size_t i = 0; i < kPcrCount; ++i) {
    tpm[fmt::format("pcr{:02}", i)] = core::HexEncode(ev.tpm_quote.pcrs[i]);
  }
  (*claims)["tpm"] = std::move(tpm);
  (*claims)["init_data"] = core::HexEncode(ev.tpm_quote.pcrs[kInitDataPcr]);
  (*claims)["report_data"] = core::HexEncode(c.quote.extra_data);
  (*claims)["vm_configuration"] = c.runtime->vm_configuration;
}

}  // namespace

namespace internal {
absl::StatusOr<std::shared_ptr<const RuntimeData>> RuntimeDataCache::Get(
    const std::string& var_data) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(var_data);
    if (it != entries_.end()) return it->second;
  }
  CCB_ASSIGN_OR_RETURN(RuntimeData rd, ParseRuntimeData(var_data));
  auto shared = std::make_shared<const RuntimeData>(std::move(rd));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kRuntimeDataCacheEntries) entries_.clear();
  entries_.emplace(var_data, shared);
  return shared;
}
}  // namespace internal

absl::StatusOr<std::unique_ptr<AzSnpVtpmVerifier>> AzSnpVtpmVerifier::Create(
    snp::SnpVerifierOptions options) {
  options.min_report_version = std::max<uint32_t>(options.min_report_version, 3);
  auto snp = snp::SnpVerifier::Create(std::move(options));
  if (!snp.ok()) return Named(snp.status(), "az-snp-vtpm", "", "snp: ");
  return std::unique_ptr<AzSnpVtpmVerifier>(new AzSnpVtpmVerifier(*std::move(snp)));
}

absl::StatusOr<json::object> AzSnpVtpmVerifier::Verify(const json::value& evidence,
                                                       const ExpectedBinding& binding,
                                                       core::TimePoint now) const {
  auto ev = ParseEvidence(evidence, Platform::kSnp);
  if (!ev.ok()) return Named(ev.status(), tee());
  CCB_ASSIGN_OR_RETURN(AzVerification v, VerifyEvidence(*ev, &binding, now));
  return std::move(v.claims);
}

absl::StatusOr<AzVerification> AzSnpVtpmVerifier::VerifyEvidence(const Evidence& ev,
                                                                 const ExpectedBinding* binding,
                                                                 core::TimePoint now) const {
  constexpr std::string_view kTee = "az-snp-vtpm";
  CCB_ASSIGN_OR_RETURN(Common c,
                       CheckTpmAndHcl(kTee, ev, binding, HwReportType::kSnp, runtime_data_));
  auto report = snp::ParseReport(c.hcl.hw_report);
  if (!report.ok()) return Named(report.status(), kTee, "snp report", "snp: ");
  if (report->version < 3) {
    return Denied(kTee, fmt::format("snp report: version {} has no CPUID fields, so the processor "
                                    "generation is unknown (Azure requires report v3+)",
                                    report->version));
  }
  snp::Evidence sev;
  sev.report = *std::move(report);
  sev.certs.push_back({snp::CertKind::kVcek, ev.vcek, false});
  auto verified = snp_->VerifyEvidence(sev, nullptr, now);
  if (!verified.ok()) return Named(verified.status(), kTee, "snp report", "snp: ");
  CCB_RETURN_IF_ERROR(CheckSessionData(kTee, ev, c, binding));

  AzVerification out;
  out.evidence_version = ev.version;
  out.product = verified->product;
  out.claims = std::move(verified->claims);
  AddAzureClaims(ev, c, &out.claims);
  out.quote = std::move(c.quote);
  out.hcl = std::move(c.hcl);
  return out;
}

absl::StatusOr<std::unique_ptr<AzTdxVtpmVerifier>> AzTdxVtpmVerifier::Create(
    tdx::TdxVerifierOptions options) {
  CCB_ASSIGN_OR_RETURN(auto tdx, tdx::TdxVerifier::Create(std::move(options)), "az-tdx-vtpm");
  return std::unique_ptr<AzTdxVtpmVerifier>(new AzTdxVtpmVerifier(std::move(tdx)));
}

absl::StatusOr<json::object> AzTdxVtpmVerifier::Verify(const json::value& evidence,
                                                       const ExpectedBinding& binding,
                                                       core::TimePoint now) const {
  auto ev = ParseEvidence(evidence, Platform::kTdx);
  if (!ev.ok()) return Named(ev.status(), tee());
  CCB_ASSIGN_OR_RETURN(AzVerification v, VerifyEvidence(*ev, &binding, now));
  return std::move(v.claims);
}

absl::StatusOr<AzVerification> AzTdxVtpmVerifier::VerifyEvidence(const Evidence& ev,
                                                                 const ExpectedBinding* binding,
                                                                 core::TimePoint now) const {
  constexpr std::string_view kTee = "az-tdx-vtpm";
  CCB_ASSIGN_OR_RETURN(Common c,
                       CheckTpmAndHcl(kTee, ev, binding, HwReportType::kTdx, runtime_data_));
  // No binding for the TD quote itself: its report data binds the HCL variable data (checked
  // below), and the session binding is the TPM quote's.
  auto r = tdx_->VerifyEvidence(tdx::Evidence{ev.td_quote, std::nullopt}, nullptr, now);
  if (!r.ok()) return Named(r.status(), kTee, "td quote", "tdx: ");
  if (r->verdict.tcb_status == "Revoked") return Denied(kTee, "td quote: tcb status is Revoked");
  std::string_view quote_rd = r->verdict.quote.body.report_data;
  if (quote_rd.substr(0, 32) != c.hcl.var_data_sha256) {
    return Denied(kTee, fmt::format("td quote: report_data[0:32] {} does not match "
                                    "sha256(hcl variable data) {}",
                                    core::HexEncode(quote_rd.substr(0, 32)),
                                    core::HexEncode(c.hcl.var_data_sha256)));
  }
  CCB_RETURN_IF_ERROR(CheckSessionData(kTee, ev, c, binding));

  AzVerification out;
  out.evidence_version = ev.version;
  out.tcb_status = r->verdict.tcb_status;
  out.advisory_ids = r->verdict.advisory_ids;
  out.claims = std::move(r->claims);
  AddAzureClaims(ev, c, &out.claims);
  out.quote = std::move(c.quote);
  out.hcl = std::move(c.hcl);
  return out;
}

}  // namespace ccburst::evidence::azure
