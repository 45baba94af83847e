#include "scaler/tee_names.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <string>

namespace ccburst::scaler {
namespace {

constexpr std::array<std::string_view, 9> kNames = {
    "sample", "tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm", "sgx", "cca", "csv", "se"};

// Lower case without '-' and '_': "AzTdxVtpm", "az_tdx_vtpm" and "az-tdx-vtpm" all fold the same.
std::string Fold(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_') continue;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

}  // namespace

std::span<const std::string_view> KbsTeeNames() { return kNames; }

absl::Status CheckTeeName(std::string_view name, std::string_view where) {
  for (std::string_view known : kNames) {
    if (name == known) return absl::OkStatus();
  }
  for (std::string_view known : kNames) {
    if (Fold(name) == Fold(known)) {
      return absl::InvalidArgumentError(fmt::format(
          "config: `{}` `{}` is not a KBS TEE name (did you mean `{}`?)", where, name, known));
    }
  }
  return absl::InvalidArgumentError(fmt::format(
      "config: `{}` `{}` is not a KBS TEE name (one of {})", where, name, fmt::join(kNames, ", ")));
}

}  // namespace ccburst::scaler
