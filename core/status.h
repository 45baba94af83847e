// Error currency of ccburst: absl::Status / absl::StatusOr<T> across every module boundary, and
// the macros that keep early returns short.
//
// Both return macros take an optional context, formatted with fmt and put in front of the error's
// message; the status code is kept, so a caller still learns *what kind* of failure it was:
//
//   CCB_ASSIGN_OR_RETURN(auto chain, ParseChain(der), "pck chain");
//   CCB_RETURN_IF_ERROR(CheckCrl(crl, now), "{}: crl `{}`", kTee, name);
//
// turn "certificate 2 is not DER" into "pck chain: certificate 2 is not DER".
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ccburst::core {
// Debian's abseil has its own absl::string_view (not std::string_view): build messages with
// fmt::format and read them back with this.
inline std::string Message(const absl::Status& s) { return std::string(s.message()); }

// `status` with `context: ` in front of its message; the code (and an OK status) is kept.
inline absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok() || context.empty()) return status;
  return absl::Status(status.code(), fmt::format("{}: {}", context, Message(status)));
}

// The same status under another code: a malformed collateral file read by a verifier is the
// verifier's PermissionDenied, say. The message is kept.
inline absl::Status WithCode(const absl::Status& status, absl::StatusCode code) {
  if (status.ok()) return status;
  return absl::Status(code, status.message());
}

namespace internal_status {
// The context of the return macros: empty, or fmt arguments.
inline std::string Context() { return {}; }
template <typename... Args>
std::string Context(fmt::format_string<Args...> f, Args&&... args) {
  return fmt::format(f, std::forward<Args>(args)...);
}
}  // namespace internal_status
}  // namespace ccburst::core

#define CCB_CONCAT_INNER_(a, b) a##b
#define CCB_CONCAT_(a, b) CCB_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK, with the optional
// context (fmt format string and arguments) in front of its message.
#define CCB_RETURN_IF_ERROR(expr, ...)                                                          \
  do {                                                                                          \
    ::absl::Status ccb_status_ = (expr);                                                        \
    if (!ccb_status_.ok()) {                                                                    \
      return ::ccburst::core::Annotate(ccb_status_,                                             \
                                       ::ccburst::core::internal_status::Context(__VA_ARGS__)); \
    }                                                                                           \
  } while (0)

// `CCB_ASSIGN_OR_RETURN(auto x, F())` assigns the value of a StatusOr or returns its error;
// `CCB_ASSIGN_OR_RETURN(auto x, F(), "reading `{}`", path)` puts the context in front of it.
#define CCB_ASSIGN_OR_RETURN(lhs, expr, ...) \
  CCB_ASSIGN_OR_RETURN_IMPL_(CCB_CONCAT_(ccb_statusor_, __LINE__), lhs, expr, __VA_ARGS__)
#define CCB_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr, ...)                                       \
  auto var = (expr);                                                                          \
  if (!var.ok()) {                                                                            \
    return ::ccburst::core::Annotate(std::move(var).status(),                                 \
                                     ::ccburst::core::internal_status::Context(__VA_ARGS__)); \
  }                                                                                           \
  lhs = std::move(var).value()
