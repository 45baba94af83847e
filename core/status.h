// Error currency of ccburst: absl::Status / absl::StatusOr<T> across every module boundary, and
// the two macros that keep early returns short.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CCB_CONCAT_INNER_(a, b) a##b
#define CCB_CONCAT_(a, b) CCB_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define CCB_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status ccb_status_ = (expr);       \
    if (!ccb_status_.ok()) return ccb_status_; \
  } while (0)

// `CCB_ASSIGN_OR_RETURN(auto x, F())` assigns the value of a StatusOr or returns its error.
#define CCB_ASSIGN_OR_RETURN(lhs, expr) \
  CCB_ASSIGN_OR_RETURN_IMPL_(CCB_CONCAT_(ccb_statusor_, __LINE__), lhs, expr)
#define CCB_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                               \
  if (!var.ok()) return std::move(var).status();   \
  lhs = std::move(var).value()

#include <string>

namespace ccburst::core {
// Debian's abseil has its own absl::string_view (not std::string_view): build messages with
// fmt::format and read them back with this.
inline std::string Message(const absl::Status& s) { return std::string(s.message()); }
}  // namespace ccburst::core
