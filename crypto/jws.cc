#include "crypto/jws.h"

#include <fmt/format.h>

#include <optional>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/signature.h"

namespace ccburst::crypto {
namespace {

namespace json = boost::json;

absl::StatusOr<std::string> DecodePart(std::string_view text, std::string_view part) {
  CCB_ASSIGN_OR_RETURN(
      std::string bytes,
      core::Base64Decode(text, core::Base64Alphabet::kUrl, core::Base64Padding::kForbidden),
      "jwt: {} is not valid base64url", part);
  return bytes;
}

absl::StatusOr<json::object> DecodeObject(std::string_view text, std::string_view part,
                                          size_t max_depth) {
  CCB_ASSIGN_OR_RETURN(std::string bytes, DecodePart(text, part));
  CCB_ASSIGN_OR_RETURN(json::value value, core::ParseJson(bytes, core::JsonLimits{max_depth}),
                       "jwt: {} is not valid JSON", part);
  if (!value.is_object()) {
    return absl::InvalidArgumentError(fmt::format("jwt: {} is not a JSON object", part));
  }
  return std::move(value.as_object());
}

// What verifying an `alg` takes: the key type(s) it fits and the signature scheme.
enum class Scheme { kEcdsa, kEd25519, kRsaPkcs1, kRsaPss };
struct AlgSpec {
  Scheme scheme;
  HashAlg hash;
  KeyType key;
};

std::optional<AlgSpec> LookupAlg(std::string_view alg) {
  if (alg == "ES256") return AlgSpec{Scheme::kEcdsa, HashAlg::kSha256, KeyType::kEcP256};
  if (alg == "ES384") return AlgSpec{Scheme::kEcdsa, HashAlg::kSha384, KeyType::kEcP384};
  if (alg == "ES512") return AlgSpec{Scheme::kEcdsa, HashAlg::kSha512, KeyType::kEcP521};
  if (alg == "EdDSA") return AlgSpec{Scheme::kEd25519, HashAlg::kSha512, KeyType::kEd25519};
  if (alg == "RS256") return AlgSpec{Scheme::kRsaPkcs1, HashAlg::kSha256, KeyType::kRsa};
  if (alg == "RS384") return AlgSpec{Scheme::kRsaPkcs1, HashAlg::kSha384, KeyType::kRsa};
  if (alg == "RS512") return AlgSpec{Scheme::kRsaPkcs1, HashAlg::kSha512, KeyType::kRsa};
  if (alg == "PS256") return AlgSpec{Scheme::kRsaPss, HashAlg::kSha256, KeyType::kRsa};
  if (alg == "PS384") return AlgSpec{Scheme::kRsaPss, HashAlg::kSha384, KeyType::kRsa};
  if (alg == "PS512") return AlgSpec{Scheme::kRsaPss, HashAlg::kSha512, KeyType::kRsa};
  return std::nullopt;
}

}  // namespace

std::string_view JwsAlgorithm(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "ES256";
    case KeyType::kEcP384:
      return "ES384";
    case KeyType::kEcP521:
      return "ES512";
    case KeyType::kEd25519:
      return "EdDSA";
    case KeyType::kRsa:
      return "RS256";
  }
  return "";
}

absl::StatusOr<std::string> SignJwt(const PrivateKey& key, const json::object& claims,
                                    const json::object& extra_header) {
  if (extra_header.contains("alg")) {
    return absl::InvalidArgumentError("jwt: extra header must not set `alg`");
  }
  json::object header;
  header["alg"] = JwsAlgorithm(key.type());
  header["typ"] = "JWT";
  for (const auto& member : extra_header) header[member.key()] = member.value();
  // json::serialize of the objects themselves: core::Serialize takes a json::value, and
  // converting the claims to one would copy them first.
  std::string signing_input = core::Base64UrlEncode(json::serialize(header)) + "." +
                              core::Base64UrlEncode(json::serialize(claims));
  absl::StatusOr<std::string> sig;
  switch (key.type()) {
    case KeyType::kEcP256:
      sig = SignEcdsa(key, HashAlg::kSha256, signing_input);
      break;
    case KeyType::kEcP384:
      sig = SignEcdsa(key, HashAlg::kSha384, signing_input);
      break;
    case KeyType::kEcP521:
      sig = SignEcdsa(key, HashAlg::kSha512, signing_input);
      break;
    case KeyType::kEd25519:
      sig = SignEd25519(key, signing_input);
      break;
    case KeyType::kRsa:
      sig = SignRsaPkcs1(key, HashAlg::kSha256, signing_input);
      break;
  }
  CCB_RETURN_IF_ERROR(sig.status());
  return signing_input + "." + core::Base64UrlEncode(*sig);
}

absl::StatusOr<Jwt> DecodeJwt(std::string_view compact, JwtLimits limits) {
  if (compact.size() > limits.max_size) {
    return absl::InvalidArgumentError(
        fmt::format("jwt: token of {} bytes exceeds limit of {}", compact.size(), limits.max_size));
  }
  size_t dot1 = compact.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError("jwt: expected 3 dot-separated parts");
  }
  Jwt jwt;
  CCB_ASSIGN_OR_RETURN(jwt.header,
                       DecodeObject(compact.substr(0, dot1), "header", limits.max_depth));
  CCB_ASSIGN_OR_RETURN(jwt.claims, DecodeObject(compact.substr(dot1 + 1, dot2 - dot1 - 1),
                                                "payload", limits.max_depth));
  CCB_ASSIGN_OR_RETURN(jwt.signature, DecodePart(compact.substr(dot2 + 1), "signature"));
  const json::value* alg = jwt.header.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return absl::InvalidArgumentError("jwt: header has no string `alg`");
  }
  jwt.signing_input = std::string(compact.substr(0, dot2));
  return jwt;
}

absl::Status VerifyJwtSignature(const Jwt& jwt, const PublicKey& key) {
  const json::value* alg_value = jwt.header.if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) {
    return absl::PermissionDeniedError("jwt: header has no string `alg`");
  }
  std::string alg(alg_value->get_string());
  if (jwt.header.contains("crit")) {
    return absl::PermissionDeniedError("jwt: critical header parameters are not supported");
  }
  std::optional<AlgSpec> spec = LookupAlg(alg);
  if (!spec) {
    return absl::PermissionDeniedError(fmt::format("jwt: algorithm `{}` is not accepted", alg));
  }
  if (spec->key != key.type()) {
    return absl::PermissionDeniedError(
        fmt::format("jwt: algorithm `{}` does not match the key type", alg));
  }
  absl::Status status;
  switch (spec->scheme) {
    case Scheme::kEcdsa:
      if (jwt.signature.size() != 2 * EcFieldBytes(key.type())) {
        return absl::PermissionDeniedError(
            fmt::format("jwt: {} signature must be {} bytes (raw r||s), got {}", alg,
                        2 * EcFieldBytes(key.type()), jwt.signature.size()));
      }
      status = VerifyEcdsa(key, spec->hash, jwt.signing_input, jwt.signature);
      break;
    case Scheme::kEd25519:
      status = VerifyEd25519(key, jwt.signing_input, jwt.signature);
      break;
    case Scheme::kRsaPkcs1:
      status = VerifyRsaPkcs1(key, spec->hash, jwt.signing_input, jwt.signature);
      break;
    case Scheme::kRsaPss:
      status = VerifyRsaPss(key, spec->hash, jwt.signing_input, jwt.signature);
      break;
  }
  if (!status.ok()) return absl::PermissionDeniedError("jwt: signature verification failed");
  return absl::OkStatus();
}

absl::StatusOr<Jwt> DecodeAndVerifyJwt(std::string_view compact, const PublicKey& key,
                                       JwtLimits limits) {
  CCB_ASSIGN_OR_RETURN(Jwt jwt, DecodeJwt(compact, limits));
  CCB_RETURN_IF_ERROR(VerifyJwtSignature(jwt, key));
  return jwt;
}

}  // namespace ccburst::crypto
