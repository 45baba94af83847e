#include "evidence/tdx/evidence.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"

namespace ccburst::evidence::tdx {
namespace {

namespace json = boost::json;

absl::StatusOr<std::string> DecodeB64(std::string_view text, std::string_view field) {
  auto raw =
      core::Base64Decode(text, core::Base64Alphabet::kStandard, core::Base64Padding::kOptional);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(fmt::format("tdx: `{}` is not standard base64", field));
  }
  return raw;
}

}  // namespace

absl::StatusOr<Evidence> ParseEvidenceJson(const json::value& evidence) {
  if (!evidence.is_object())
    return absl::InvalidArgumentError("tdx: evidence is not a JSON object");
  const json::object& o = evidence.as_object();
  Evidence out;
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

absl::StatusOr<Evidence> ParseEvidenceBytes(std::string_view bytes) {
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || bytes[first] != '{') {
    Evidence raw;
    raw.quote.assign(bytes);
    return raw;
  }
  CCB_ASSIGN_OR_RETURN(json::value parsed, core::ParseJson(bytes), "tdx: evidence");
  return ParseEvidenceJson(parsed);
}

}  // namespace ccburst::evidence::tdx
