#include "evidence/tdx/verifier.h"

#include <fmt/format.h>

#include "evidence/tdx/claims.h"

namespace ccburst::evidence::tdx {
namespace {

namespace json = boost::json;

constexpr size_t kMaxCachedCollateral = 64;

// Trustee's regularize_data: zero-pad or truncate to the hardware field size.
std::string Regularize(std::string_view data, size_t len) {
  std::string out(data.substr(0, std::min(data.size(), len)));
  out.resize(len, '\0');
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TdxVerifier>> TdxVerifier::Create(TdxVerifierOptions options) {
  if (options.collateral_source == nullptr) {
    return absl::InvalidArgumentError("tdx: verifier needs a collateral source");
  }
  dcap::TrustAnchor anchor =
      options.anchor ? *std::move(options.anchor) : dcap::TrustAnchor::IntelSgxRootCa();
  return std::unique_ptr<TdxVerifier>(new TdxVerifier(std::move(options.collateral_source),
                                                      std::move(anchor),
                                                      std::move(options.certificate_cache)));
}

TdxVerifier::TdxVerifier(std::shared_ptr<const dcap::CollateralSource> source,
                         dcap::TrustAnchor anchor, std::shared_ptr<crypto::CertificateCache> certs)
    : source_(std::move(source)),
      anchor_(std::move(anchor)),
      certs_(certs != nullptr ? std::move(certs) : std::make_shared<crypto::CertificateCache>()),
      chains_(4096, certs_) {}

absl::StatusOr<std::shared_ptr<const dcap::VerifiedCollateral>> TdxVerifier::VerifiedCollateralFor(
    const std::shared_ptr<const dcap::Collateral>& raw, core::TimePoint now) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_object_.find(raw.get());
    if (it != by_object_.end() && it->second.raw.lock() == raw &&
        dcap::CheckCollateralTime(*it->second.verified, now).ok()) {
      return it->second.verified;
    }
  }
  std::string key = dcap::CollateralFingerprint(*raw);
  std::shared_ptr<const dcap::VerifiedCollateral> verified;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && dcap::CheckCollateralTime(*it->second, now).ok()) {
      verified = it->second;
    }
  }
  if (verified == nullptr) {
    CCB_ASSIGN_OR_RETURN(verified, dcap::VerifyCollateral(*raw, anchor_, now, certs_.get()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= kMaxCachedCollateral) cache_.clear();
  if (by_object_.size() >= kMaxCachedCollateral) by_object_.clear();
  cache_[key] = verified;
  by_object_[raw.get()] = ByObject{raw, verified};
  return verified;
}

absl::StatusOr<Verification> TdxVerifier::VerifyEvidence(const Evidence& evidence,
                                                         const ExpectedBinding* binding,
                                                         core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(Quote quote, ParseQuote(evidence.quote));
  // The session binding before collateral is looked up: a quote that cannot be for this session
  // must not cost a PCS/PCCS request. The quote signature checked below covers these fields.
  if (binding != nullptr) {
    const TdReport& body = quote.body;
    if (Regularize(binding->report_data_digest, 64) != body.report_data) {
      return absl::PermissionDeniedError("tdx: report_data does not match the session binding");
    }
    if (binding->init_data_digest &&
        Regularize(*binding->init_data_digest, 48) != body.mr_config_id) {
      return absl::PermissionDeniedError("tdx: mr_config_id does not match the init-data digest");
    }
  }
  CCB_ASSIGN_OR_RETURN(dcap::PckInfo pck, dcap::ReadPckInfo(quote.pck_chain_pem, &chains_));
  CCB_ASSIGN_OR_RETURN(std::shared_ptr<const dcap::Collateral> raw,
                       source_->Get(pck.ext.fmspc, pck.ca, now), "tdx: collateral");
  CCB_ASSIGN_OR_RETURN(auto collateral, VerifiedCollateralFor(raw, now));
  Verification result;
  CCB_ASSIGN_OR_RETURN(result.verdict, VerifyQuote(quote, *collateral, anchor_, now, &chains_));
  if (evidence.cc_eventlog.has_value()) {
    auto log = eventlog::ParseCcel(*evidence.cc_eventlog);
    if (!log.ok()) {
      return core::WithCode(core::Annotate(log.status(), "tdx: cc_eventlog"),
                            absl::StatusCode::kInvalidArgument);
    }
    CCB_RETURN_IF_ERROR(core::WithCode(eventlog::CheckRtmrs(*log, quote.body.rtmr),
                                       absl::StatusCode::kPermissionDenied),
                        "tdx");
    result.eventlog = *std::move(log);
  }
  result.claims =
      ParsedQuoteClaims(quote, result.verdict.pck, result.eventlog ? &*result.eventlog : nullptr);
  AddVerdictClaims(result.verdict, *collateral, &result.claims);
  if (binding == nullptr) return result;

  if (result.verdict.tcb_status == "Revoked") {
    return absl::PermissionDeniedError("tdx: tcb status is Revoked");
  }
  return result;
}

absl::StatusOr<json::object> TdxVerifier::Verify(const json::value& evidence,
                                                 const ExpectedBinding& binding,
                                                 core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(Evidence ev, ParseEvidenceJson(evidence));
  CCB_ASSIGN_OR_RETURN(Verification r, VerifyEvidence(ev, &binding, now));
  return std::move(r.claims);
}

}  // namespace ccburst::evidence::tdx
