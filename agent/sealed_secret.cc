#include "agent/sealed_secret.h"

#include <fmt/format.h>

#include <vector>

#include "agent/kbs_client.h"
#include "core/encoding.h"
#include "core/json.h"

namespace ccburst::agent {
namespace {

namespace json = core::json;

absl::Status Invalid(std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("sealed secret: {}", why));
}

absl::StatusOr<std::string> Member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Invalid(fmt::format("missing `{}`", key));
  if (!v->is_string()) return Invalid(fmt::format("`{}` must be a string", key));
  return std::string(v->get_string());
}

}  // namespace

absl::StatusOr<SealedSecret> ParseSealedSecret(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.remove_prefix(1);
  if (text.size() > kMaxSealedSecretBytes) {
    return Invalid(fmt::format("{} bytes exceed {}", text.size(), kMaxSealedSecretBytes));
  }
  constexpr std::string_view kPrefix = "sealed.";
  if (text.substr(0, kPrefix.size()) != kPrefix) return Invalid("missing `sealed.` prefix");
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 4) {
    return Invalid(fmt::format("{} dot-separated parts, want 4 (sealed.header.payload.signature)",
                               parts.size()));
  }
  auto payload =
      core::Base64Decode(parts[2], core::Base64Alphabet::kUrl, core::Base64Padding::kOptional);
  if (!payload.ok()) return Invalid("payload is not base64url");
  auto doc = core::ParseJson(*payload);
  if (!doc.ok()) return Invalid(fmt::format("payload: {}", core::Message(doc.status())));
  if (!doc->is_object()) return Invalid("payload is not a JSON object");
  const json::object& o = doc->get_object();
  SealedSecret out;
  CCB_ASSIGN_OR_RETURN(out.version, Member(o, "version"));
  if (out.version != "0.1.0") return Invalid(fmt::format("unsupported version `{}`", out.version));
  CCB_ASSIGN_OR_RETURN(out.type, Member(o, "type"));
  CCB_ASSIGN_OR_RETURN(out.provider, Member(o, "provider"));
  if (out.type == "vault") {
    CCB_ASSIGN_OR_RETURN(out.name, Member(o, "name"));
  } else if (out.type != "envelope") {
    return Invalid(fmt::format("unknown type `{}` (vault or envelope)", out.type));
  }
  return out;
}

absl::StatusOr<std::string> SealVaultSecret(std::string_view resource_uri) {
  CCB_RETURN_IF_ERROR(ParseResourceUri(resource_uri).status());
  json::object payload{{"version", "0.1.0"},
                       {"type", "vault"},
                       {"name", resource_uri},
                       {"provider", "kbs"},
                       {"provider_settings", json::object{}},
                       {"annotations", json::object{}}};
  return fmt::format("sealed.{}.{}.", core::Base64UrlEncode(R"({"alg":"none"})"),
                     core::Base64UrlEncode(json::serialize(payload)));
}

}  // namespace ccburst::agent
