#include "evidence/tdx/tdx_verifier.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"
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

absl::StatusOr<std::string> DecodeB64(std::string_view text, std::string_view field) {
  auto raw =
      core::Base64Decode(text, core::Base64Alphabet::kStandard, core::Base64Padding::kOptional);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(fmt::format("tdx: `{}` is not standard base64", field));
  }
  return raw;
}

}  // namespace

absl::StatusOr<TdxEvidence> ParseTdxEvidence(const json::value& evidence) {
  if (!evidence.is_object())
    return absl::InvalidArgumentError("tdx: evidence is not a JSON object");
  const json::object& o = evidence.as_object();
  TdxEvidence out;
  const json::value* quote = o.if_contains("quote");
  if (quote == nullptr) return absl::InvalidArgumentError("tdx: missing field `quote`");
  if (!quote->is_string()) return absl::InvalidArgumentError("tdx: `quote` must be a string");
  if (quote->as_string().empty()) return absl::InvalidArgumentError("tdx: `quote` is empty");
  CCB_ASSIGN_OR_RETURN(out.quote, DecodeB64(quote->as_string(), "quote"));
  if (const json::value* log = o.if_contains("cc_eventlog"); log != nullptr && !log->is_null()) {
    if (!log->is_string()) {
      return absl::InvalidArgumentError("tdx: `cc_eventlog` must be a string or null");
    }
    if (!log->as_string().empty()) {
      CCB_ASSIGN_OR_RETURN(out.cc_eventlog, DecodeB64(log->as_string(), "cc_eventlog"));
    }
  }
  return out;
}

TdxVerifier::TdxVerifier(std::shared_ptr<const TdxCollateralSource> source, TrustAnchor anchor,
                         std::shared_ptr<crypto::CertificateCache> certs)
    : source_(std::move(source)),
      anchor_(std::move(anchor)),
      certs_(certs != nullptr ? std::move(certs) : std::make_shared<crypto::CertificateCache>()),
      chains_(4096, certs_) {}

absl::StatusOr<std::shared_ptr<const VerifiedCollateral>> TdxVerifier::Collateral(
    const std::shared_ptr<const TdxCollateral>& raw, core::TimePoint now) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_object_.find(raw.get());
    if (it != by_object_.end() && it->second.raw.lock() == raw &&
        CheckCollateralTime(*it->second.verified, now).ok()) {
      return it->second.verified;
    }
  }
  std::string key = CollateralFingerprint(*raw);
  std::shared_ptr<const VerifiedCollateral> verified;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && CheckCollateralTime(*it->second, now).ok()) verified = it->second;
  }
  if (verified == nullptr) {
    CCB_ASSIGN_OR_RETURN(verified, VerifyCollateral(*raw, anchor_, now, certs_.get()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= kMaxCachedCollateral) cache_.clear();
  if (by_object_.size() >= kMaxCachedCollateral) by_object_.clear();
  cache_[key] = verified;
  by_object_[raw.get()] = ByObject{raw, verified};
  return verified;
}

absl::StatusOr<TdxResult> TdxVerifier::VerifyQuoteAndLog(std::string_view quote_bytes,
                                                         std::optional<std::string_view> ccel,
                                                         core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(Quote quote, ParseQuote(quote_bytes));
  CCB_ASSIGN_OR_RETURN(PckInfo pck, ReadPckInfo(quote, &chains_));
  auto raw = source_->Get(pck.ext.fmspc, pck.ca, now);
  if (!raw.ok()) {
    return absl::Status(raw.status().code(),
                        fmt::format("tdx: collateral: {}", core::Message(raw.status())));
  }
  CCB_ASSIGN_OR_RETURN(auto collateral, Collateral(*raw, now));
  TdxResult result;
  CCB_ASSIGN_OR_RETURN(result.verdict, VerifyQuote(quote, *collateral, anchor_, now, &chains_));
  if (ccel.has_value()) {
    auto log = eventlog::ParseCcel(*ccel);
    if (!log.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("tdx: cc_eventlog: {}", core::Message(log.status())));
    }
    auto match = eventlog::CheckRtmrs(*log, quote.body.rtmr);
    if (!match.ok()) {
      return absl::PermissionDeniedError(fmt::format("tdx: {}", core::Message(match)));
    }
    result.eventlog = *std::move(log);
  }
  result.claims =
      ParsedQuoteClaims(quote, result.verdict.pck, result.eventlog ? &*result.eventlog : nullptr);
  AddVerdictClaims(result.verdict, *collateral, &result.claims);
  return result;
}

absl::StatusOr<json::object> TdxVerifier::Verify(const json::value& evidence,
                                                 const ExpectedBinding& binding,
                                                 core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(TdxEvidence ev, ParseTdxEvidence(evidence));
  std::optional<std::string_view> log;
  if (ev.cc_eventlog) log = *ev.cc_eventlog;
  CCB_ASSIGN_OR_RETURN(TdxResult r, VerifyQuoteAndLog(ev.quote, log, now));
  if (r.verdict.tcb_status == "Revoked") {
    return absl::PermissionDeniedError("tdx: tcb status is Revoked");
  }
  const TdReport& body = r.verdict.quote.body;
  if (Regularize(binding.report_data_digest, 64) != body.report_data) {
    return absl::PermissionDeniedError("tdx: report_data does not match the session binding");
  }
  if (binding.init_data_digest && Regularize(*binding.init_data_digest, 48) != body.mr_config_id) {
    return absl::PermissionDeniedError("tdx: mr_config_id does not match the init-data digest");
  }
  return std::move(r.claims);
}

json::object VerifyTdxEvidence(std::string_view evidence,
                               std::shared_ptr<const TdxCollateralSource> source,
                               const TrustAnchor& anchor, core::TimePoint at) {
  json::object out{{"verified", false},
                   {"tcb_status", nullptr},
                   {"advisory_ids", json::array{}},
                   {"claims", nullptr}};
  std::string quote;
  std::optional<std::string> log;
  size_t first = evidence.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && evidence[first] == '{') {
    auto parsed = core::ParseJson(evidence);
    absl::StatusOr<TdxEvidence> ev =
        parsed.ok() ? ParseTdxEvidence(*parsed)
                    : absl::StatusOr<TdxEvidence>(absl::InvalidArgumentError(
                          fmt::format("tdx: evidence: {}", core::Message(parsed.status()))));
    if (!ev.ok()) {
      out["error"] = core::Message(ev.status());
      return out;
    }
    quote = std::move(ev->quote);
    log = std::move(ev->cc_eventlog);
  } else {
    quote.assign(evidence);
  }
  TdxVerifier verifier(std::move(source), anchor);
  std::optional<std::string_view> log_view;
  if (log) log_view = *log;
  auto r = verifier.VerifyQuoteAndLog(quote, log_view, at);
  if (!r.ok()) {
    out["error"] = core::Message(r.status());
    return out;
  }
  out["tcb_status"] = r->verdict.tcb_status;
  json::array advisories;
  for (const auto& a : r->verdict.advisory_ids) advisories.emplace_back(a);
  out["advisory_ids"] = std::move(advisories);
  out["claims"] = std::move(r->claims);
  if (r->verdict.tcb_status == "Revoked") {
    out["error"] = "tdx: tcb status is Revoked";
    return out;
  }
  out["verified"] = true;
  return out;
}

}  // namespace ccburst::evidence::tdx
