// URL pieces every HTTP user in ccburst needs: percent-decoding (one strict decoder for the two
// places a URL escapes bytes), percent-encoding, query strings and path segments. Pure string
// functions, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ccburst::net {

// Where the escaped text comes from. The only difference: in a query (and in form bodies,
// application/x-www-form-urlencoded) `+` stands for a space; in a path segment or a header
// value (Intel PCS issuer-chain headers) it is a plain `+`.
enum class PercentForm { kPath, kQuery };

// Replaces each `%XX` (two hex digits, either case) by its byte. Strict: a `%` not followed by
// two hex digits is InvalidArgument "percent escape at offset N is truncated" / "... is not
// hexadecimal"; the input is never partly decoded.
absl::StatusOr<std::string> PercentDecode(std::string_view text,
                                          PercentForm form = PercentForm::kPath);

// Escapes every byte except RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~) as `%XX`
// (upper-case hex), so the result is safe in a path segment and in a query value.
std::string PercentEncode(std::string_view text);

// "a=1&b=x%20y&c" -> {("a","1"), ("b","x y"), ("c","")}, names and values decoded in the kQuery
// form, in order (a repeated name appears twice), empty parts skipped. A bad escape is
// InvalidArgument naming the part.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// "a/b/c" -> {"a", "b", "c"}; "" -> {""}; "a//b/" -> {"a", "", "b", ""}: every `/` separates, so
// callers can reject empty segments. Views into `path`, valid while it is.
std::vector<std::string_view> SplitPath(std::string_view path);

// The one canonical form of a request path, the form every access decision and every handler
// sees: each segment percent-decoded (kPath form); empty segments are kept. Paths that could be
// read two ways are refused rather than guessed at: InvalidArgument when the path does not start
// with `/`, holds `?` or `#` (a query never belongs to the path), an escape is bad, a decoded
// segment holds `/`, `\`, NUL or another control byte (it would change the segmentation or a
// log line), or a segment is `.` or `..` (also when encoded, `%2e%2e`): clients resolve dot
// segments before sending, so one that arrives is an attempt to make a path look like another.
absl::StatusOr<std::string> NormalizePath(std::string_view path);

}  // namespace ccburst::net
