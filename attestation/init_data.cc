#include "attestation/init_data.h"

#include <fmt/format.h>

#include <sstream>

#include "core/json.h"
#include "core/toml_config.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(fmt::format("init-data: {}", message));
}

json::value ToJson(const toml::node& node);

json::object TableToJson(const toml::table& table) {
  json::object out;
  for (const auto& [key, value] : table) out[key.str()] = ToJson(value);
  return out;
}

json::value ToJson(const toml::node& node) {
  if (const auto* t = node.as_table()) return TableToJson(*t);
  if (const auto* a = node.as_array()) {
    json::array out;
    for (const auto& element : *a) out.push_back(ToJson(element));
    return out;
  }
  if (const auto* s = node.as_string()) return json::value(s->get());
  if (const auto* i = node.as_integer()) return json::value(i->get());
  if (const auto* f = node.as_floating_point()) return json::value(f->get());
  if (const auto* b = node.as_boolean()) return json::value(b->get());
  // Dates and times keep their TOML text form.
  std::string text;
  node.visit([&](const auto& v) {
    std::ostringstream os;
    os << v;
    text = os.str();
  });
  return json::value(text);
}

// The agent policy in init-data ends with `policy_data := {...}`; its JSON is what policies need.
std::optional<json::value> ExtractPolicyData(std::string_view rego) {
  constexpr std::string_view kStart = "policy_data := {";
  size_t pos = rego.find(kStart);
  if (pos == std::string_view::npos) return std::nullopt;
  auto parsed = core::ParseJson(rego.substr(pos + kStart.size() - 1));
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

}  // namespace

absl::StatusOr<InitData> ParseInitData(std::string_view toml_text) {
  CCB_ASSIGN_OR_RETURN(toml::table doc, core::config::ParseToml(toml_text, "init-data"));

  const toml::node* version = doc.get("version");
  if (version == nullptr) return Invalid("missing `version`");
  if (!version->is_string()) return Invalid("`version` must be a string");

  const toml::node* algorithm = doc.get("algorithm");
  if (algorithm == nullptr) return Invalid("missing `algorithm`");
  if (!algorithm->is_string()) return Invalid("`algorithm` must be a string");
  const std::string& alg_name = algorithm->as_string()->get();
  auto alg = crypto::ParseHashAlg(alg_name);
  if (!alg.ok()) return Invalid(fmt::format("unsupported algorithm `{}`", alg_name));

  const toml::node* data = doc.get("data");
  if (data == nullptr) return Invalid("missing `data`");
  if (!data->is_table()) return Invalid("`data` must be a table");

  InitData out{*alg, crypto::Hash(*alg, toml_text), {}};
  for (const auto& [key, value] : *data->as_table()) {
    if (!value.is_string()) return Invalid(fmt::format("`data.{}` must be a string", key.str()));
    out.claims[key.str()] = value.as_string()->get();
  }
  for (std::string_view key : {"cdh.toml", "aa.toml"}) {
    json::value* v = out.claims.if_contains(key);
    if (v == nullptr) continue;
    auto nested = core::config::ParseToml(std::string_view(v->as_string()), key);
    if (nested.ok()) *v = TableToJson(*nested);
  }
  if (json::value* rego = out.claims.if_contains("policy.rego")) {
    if (auto policy_data = ExtractPolicyData(std::string_view(rego->as_string()))) {
      out.claims.erase("policy.rego");
      out.claims["agent_policy_claims"] = std::move(*policy_data);
    }
  }
  return out;
}

}  // namespace ccburst::attestation
