// TDX evidence as it arrives at the KBS: the Trustee attester's JSON
// `{"quote":"<standard base64>","cc_eventlog":"<standard base64>"|null}`, plus, for the operator
// command, a raw quote. Decoding only: the quote is parsed by quote.h, the event log by
// evidence/eventlog.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::evidence::tdx {

struct Evidence {
  std::string quote;  // raw quote bytes (trailing bytes allowed)
  std::optional<std::string> cc_eventlog;
};

// Decodes the evidence JSON object. InvalidArgument naming the field ("tdx: missing field
// `quote`", "tdx: `quote` is not standard base64").
absl::StatusOr<Evidence> ParseEvidenceJson(const boost::json::value& evidence);
// Operator input: the JSON text of the evidence (first non-blank byte `{`; "tdx: evidence: ..."
// when it does not parse), else a raw quote.
absl::StatusOr<Evidence> ParseEvidenceBytes(std::string_view bytes);

}  // namespace ccburst::evidence::tdx
