#include "kbs/token_verifier.h"

#include <fmt/format.h>

#include "core/file.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"

namespace ccburst::kbs {
namespace {

constexpr std::string_view kDefaultTeePubkeyPath =
    "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey";

// Public members only, so a JWK with extra members (`alg`, `kid`, `use`) compares equal.
core::json::object PublicPart(const core::json::object& jwk) {
  core::json::object out;
  for (const char* k : {"kty", "crv", "x", "y", "n", "e"}) {
    if (auto it = jwk.find(k); it != jwk.end()) out[k] = it->value();
  }
  return out;
}

}  // namespace

TokenVerifier::TokenVerifier(const core::Clock& clock, std::vector<crypto::PublicKey> trusted_keys,
                             bool insecure_header_jwk)
    : clock_(clock), insecure_header_jwk_(insecure_header_jwk) {
  for (auto& k : trusted_keys) {
    core::json::object jwk = PublicPart(k.ToJwk());
    trusted_.push_back(Trusted{std::move(k), std::move(jwk)});
  }
}

absl::StatusOr<std::vector<crypto::PublicKey>> TokenVerifier::LoadJwks(const std::string& path) {
  auto text = core::ReadFile(path);
  if (!text.ok()) return absl::NotFoundError("jwks: " + core::Message(text.status()));
  auto doc = core::ParseJson(*text);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("jwks `{}`: {}", path, core::Message(doc.status())));
  }
  const core::json::value* keys = core::FindPath(*doc, "keys");
  if (!keys || !keys->is_array()) {
    return absl::InvalidArgumentError(fmt::format("jwks `{}`: missing `keys` array", path));
  }
  std::vector<crypto::PublicKey> out;
  size_t i = 0;
  for (const auto& k : keys->get_array()) {
    if (!k.is_object()) {
      return absl::InvalidArgumentError(
          fmt::format("jwks `{}`: keys[{}] is not an object", path, i));
    }
    auto key = crypto::PublicKey::FromJwk(k.get_object());
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("jwks `{}`: keys[{}]: {}", path, i, core::Message(key.status())));
    }
    out.push_back(*key);
    ++i;
  }
  return out;
}

absl::StatusOr<core::json::object> TokenVerifier::Verify(std::string_view token) const {
  auto jwt = crypto::DecodeJwt(token);
  if (!jwt.ok()) {
    return absl::PermissionDeniedError(
        fmt::format("token: malformed: {}", core::Message(jwt.status())));
  }
  const crypto::PublicKey* key = nullptr;
  std::optional<crypto::PublicKey> header_key;
  auto jwk_it = jwt->header.find("jwk");
  if (jwk_it != jwt->header.end() && jwk_it->value().is_object()) {
    core::json::object pub = PublicPart(jwk_it->value().get_object());
    for (const auto& t : trusted_) {
      if (t.jwk == pub) {
        key = &t.key;
        break;
      }
    }
    if (!key && insecure_header_jwk_) {
      auto k = crypto::PublicKey::FromJwk(jwk_it->value().get_object());
      if (!k.ok()) {
        return absl::PermissionDeniedError(
            fmt::format("token: header jwk: {}", core::Message(k.status())));
      }
      header_key = *k;
      key = &*header_key;
    }
    if (!key) return absl::PermissionDeniedError("token: signing key is not trusted");
  }
  absl::Status sig = absl::PermissionDeniedError("token: signing key is not trusted");
  if (key) {
    sig = crypto::VerifyJwtSignature(*jwt, *key);
  } else {
    // No key in the header: try every trusted key (JWKS-signed tokens carry only `kid`).
    for (const auto& t : trusted_) {
      sig = crypto::VerifyJwtSignature(*jwt, t.key);
      if (sig.ok()) break;
    }
  }
  if (!sig.ok()) {
    return absl::PermissionDeniedError(fmt::format("token: {}", core::Message(sig)));
  }
  CCB_RETURN_IF_ERROR(
      core::WithCode(crypto::CheckJwtTimeClaims(jwt->claims, core::ToUnixSeconds(clock_.Now())),
                     absl::StatusCode::kPermissionDenied),
      "token");
  return std::move(jwt->claims);
}

absl::StatusOr<const core::json::object*> ExtractTeePubkey(
    const core::json::value& claims, const std::vector<std::string>& extra_paths) {
  std::vector<std::string_view> paths{kDefaultTeePubkeyPath};
  for (const auto& p : extra_paths) paths.push_back(p);
  for (std::string_view p : paths) {
    boost::system::error_code ec;
    const core::json::value* v = claims.find_pointer(p, ec);
    if (v && !ec && v->is_object()) return &v->get_object();
  }
  return absl::NotFoundError(
      fmt::format("token: no TEE public key at `{}`", kDefaultTeePubkeyPath));
}

}  // namespace ccburst::kbs
