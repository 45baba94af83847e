#include "core/toml_config.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

namespace ccburst::core::config {

absl::StatusOr<toml::table> ParseToml(std::string_view text, std::string_view what) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return absl::InvalidArgumentError(fmt::format("{}: {} at line {}, column {}", what,
                                                  e.description(), begin.line, begin.column));
  }
}

std::string KeyPath(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
}

absl::Status CheckKeys(const toml::table& t, std::string_view where, const Keys& allowed) {
  for (const auto& [k, v] : t) {
    if (!allowed.count(k.str())) {
      return absl::InvalidArgumentError(
          fmt::format("config: unknown key `{}`", KeyPath(where, k.str())));
    }
  }
  return absl::OkStatus();
}

absl::Status TypeError(std::string_view where, std::string_view key, std::string_view want) {
  return absl::InvalidArgumentError(
      fmt::format("config: `{}` must be {}", KeyPath(where, key), want));
}

absl::Status GetString(const toml::table& t, std::string_view where, std::string_view key,
                       std::string& out) {
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  if (!n->is_string()) return TypeError(where, key, "a string");
  out = n->as_string()->get();
  return absl::OkStatus();
}

absl::Status GetOptString(const toml::table& t, std::string_view where, std::string_view key,
                          std::optional<std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  if (!n->is_string()) return TypeError(where, key, "a string");
  out = n->as_string()->get();
  return absl::OkStatus();
}

absl::Status GetBool(const toml::table& t, std::string_view where, std::string_view key,
                     bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  if (!n->is_boolean()) return TypeError(where, key, "a boolean");
  out = n->as_boolean()->get();
  return absl::OkStatus();
}

absl::Status GetInt(const toml::table& t, std::string_view where, std::string_view key, int64_t min,
                    int64_t max, int64_t& out) {
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  if (!n->is_integer()) return TypeError(where, key, "an integer");
  int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    return absl::InvalidArgumentError(
        fmt::format("config: `{}` = {} is outside {}..{}", KeyPath(where, key), v, min, max));
  }
  out = v;
  return absl::OkStatus();
}

absl::Status GetNumber(const toml::table& t, std::string_view where, std::string_view key,
                       double min, double max, double& out) {
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  double v = 0;
  if (n->is_integer()) {
    v = static_cast<double>(n->as_integer()->get());
  } else if (n->is_floating_point()) {
    v = n->as_floating_point()->get();
  } else {
    return TypeError(where, key, "a number");
  }
  if (!std::isfinite(v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        fmt::format("config: `{}` = {} is outside {}..{}", KeyPath(where, key), v, min, max));
  }
  out = v;
  return absl::OkStatus();
}

absl::Status GetStringArray(const toml::table& t, std::string_view where, std::string_view key,
                            std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  if (!n->is_array()) return TypeError(where, key, "an array of strings");
  out.clear();
  for (const auto& e : *n->as_array()) {
    if (!e.is_string()) return TypeError(where, key, "an array of strings");
    out.push_back(e.as_string()->get());
  }
  return absl::OkStatus();
}

absl::StatusOr<const toml::table*> SubTable(const toml::table& t, std::string_view where,
                                            std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) return TypeError(where, key, "a table");
  return n->as_table();
}

std::string ResolvePath(const std::string& base_dir, std::string path) {
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

}  // namespace ccburst::core::config
