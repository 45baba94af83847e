#include "agent/init_data.h"

#include <fmt/format.h>

#include "attestation/init_data.h"

namespace ccburst::agent {
namespace {

namespace json = boost::json;

// `doc.table.key` as a string: nullopt when absent, InvalidArgument when not a string.
absl::StatusOr<std::optional<std::string>> NestedString(const json::object& claims,
                                                        std::string_view doc,
                                                        std::string_view table,
                                                        std::string_view key) {
  const json::value* d = claims.if_contains(doc);
  if (d == nullptr || !d->is_object()) return std::nullopt;  // absent, or not TOML: no settings
  const json::value* t = d->get_object().if_contains(table);
  if (t == nullptr) return std::nullopt;
  const json::value* v = t->is_object() ? t->get_object().if_contains(key) : nullptr;
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    return absl::InvalidArgumentError(
        fmt::format("init-data: `{}` {}.{} must be a string", doc, table, key));
  }
  return std::string(v->get_string());
}

}  // namespace

absl::StatusOr<InitData> ParseInitData(std::string_view toml_text) {
  CCB_ASSIGN_OR_RETURN(attestation::InitData parsed, attestation::ParseInitData(toml_text));
  InitData out{std::string(toml_text), parsed.algorithm, std::move(parsed.digest), {}, {}};
  CCB_ASSIGN_OR_RETURN(out.kbs_url, NestedString(parsed.claims, "cdh.toml", "kbc", "url"));
  CCB_ASSIGN_OR_RETURN(out.kbs_cert, NestedString(parsed.claims, "cdh.toml", "kbc", "kbs_cert"));
  if (!out.kbs_url) {
    // aa.toml: [token_configs.kbs] url / cert.
    const json::value* aa = parsed.claims.if_contains("aa.toml");
    if (aa != nullptr && aa->is_object()) {
      const json::value* tc = aa->get_object().if_contains("token_configs");
      if (tc != nullptr && tc->is_object()) {
        json::object wrapper{{"aa.toml", *tc}};
        CCB_ASSIGN_OR_RETURN(out.kbs_url, NestedString(wrapper, "aa.toml", "kbs", "url"));
        if (!out.kbs_cert) {
          CCB_ASSIGN_OR_RETURN(out.kbs_cert, NestedString(wrapper, "aa.toml", "kbs", "cert"));
        }
      }
    }
  }
  return out;
}

}  // namespace ccburst::agent
