// The one adapter between ccburst and toml++ (which throws): ParseToml turns a syntax error into
// a Status, and the strict readers below serve every TOML reader (ccburst-kbs and ccburst-scaler
// configuration, the verifier configuration in attestation/, init-data): every table is checked
// against the keys it may hold, every value against its type and range, and each error names the
// full key ("config: unknown key `http_server.tls`", "config: `server.port` must be an integer"). A
// missing key leaves the output untouched, so callers pre-fill defaults.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ccburst::core::config {

using Keys = std::set<std::string_view>;

// Parses TOML text. A syntax error is InvalidArgument "<what>: <description> at line L, column
// C" (`what` names the document: "config", "init-data"); nothing is thrown.
absl::StatusOr<toml::table> ParseToml(std::string_view text, std::string_view what);

// "where.key", or "key" at the top level (`where` empty).
std::string KeyPath(std::string_view where, std::string_view key);

// InvalidArgument "config: unknown key `where.key`" for the first key of `t` not in `allowed`.
absl::Status CheckKeys(const toml::table& t, std::string_view where, const Keys& allowed);

// InvalidArgument "config: `where.key` must be <want>".
absl::Status TypeError(std::string_view where, std::string_view key, std::string_view want);

absl::Status GetString(const toml::table& t, std::string_view where, std::string_view key,
                       std::string& out);
absl::Status GetOptString(const toml::table& t, std::string_view where, std::string_view key,
                          std::optional<std::string>& out);
absl::Status GetBool(const toml::table& t, std::string_view where, std::string_view key, bool& out);
// An integer in [min, max]; outside is InvalidArgument "config: `where.key` = v is outside
// min..max".
absl::Status GetInt(const toml::table& t, std::string_view where, std::string_view key, int64_t min,
                    int64_t max, int64_t& out);
// A finite number in [min, max]; integers are accepted where a number is wanted (`vcpu = 4`).
absl::Status GetNumber(const toml::table& t, std::string_view where, std::string_view key,
                       double min, double max, double& out);
absl::Status GetStringArray(const toml::table& t, std::string_view where, std::string_view key,
                            std::vector<std::string>& out);
// The sub-table `key`, nullptr when absent, InvalidArgument when it is not a table.
absl::StatusOr<const toml::table*> SubTable(const toml::table& t, std::string_view where,
                                            std::string_view key);

// A path from the file resolved against the file's directory; absolute paths stay, and a
// `file://` prefix is dropped.
std::string ResolvePath(const std::string& base_dir, std::string path);

}  // namespace ccburst::core::config
