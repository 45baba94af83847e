// JSON helpers over Boost.JSON: bounded parsing of untrusted text with positioned errors, typed
// field access that names the missing or mistyped member, and RFC 8785 canonical serialization
// (JCS), which the KBS protocol hashes to bind evidence to a session.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/status.h"

namespace ccburst::core {

namespace json = boost::json;

struct JsonLimits {
  size_t max_depth = 64;
};

// Parses exactly one JSON text (trailing whitespace allowed). Errors are InvalidArgument:
// "json: <reason> at offset N".
absl::StatusOr<json::value> ParseJson(std::string_view text, JsonLimits limits = {});

// RFC 8785 JSON Canonicalization Scheme: object members sorted by UTF-16 code units, no
// whitespace, ECMAScript number formatting, minimal string escaping.
std::string Jcs(const json::value& value);

// Compact serialization (member order preserved).
inline std::string Serialize(const json::value& value) { return json::serialize(value); }

// Typed access. `what` names the enclosing document in error messages, e.g. "attestation".
absl::StatusOr<const json::object*> AsObject(const json::value& v, std::string_view what);
absl::StatusOr<const json::value*> GetMember(const json::object& o, std::string_view key,
                                             std::string_view what);
absl::StatusOr<std::string_view> GetString(const json::object& o, std::string_view key,
                                           std::string_view what);
absl::StatusOr<const json::object*> GetObject(const json::object& o, std::string_view key,
                                              std::string_view what);

// Follows a '/'-separated path of object members; nullptr when any step is missing.
const json::value* FindPath(const json::value& root, std::string_view slash_path);

}  // namespace ccburst::core
