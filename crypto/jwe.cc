#include "crypto/jwe.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/internal/evp_cache.h"
#include "crypto/internal/openssl.h"
#include "crypto/random.h"

namespace ccburst::crypto {
namespace {

namespace json = boost::json;
using internal::CipherCtxPtr;
using internal::OpensslError;
using internal::PkeyCtxPtr;

constexpr std::string_view kEcdhEsA256kw = "ECDH-ES+A256KW";
constexpr std::string_view kRsaOaep256 = "RSA-OAEP-256";
constexpr std::string_view kRsa15 = "RSA1_5";
constexpr std::string_view kA256gcm = "A256GCM";
constexpr size_t kCekSize = 32;
constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = kAes256GcmTagSize;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string U32be(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  return out;
}

std::string LengthPrefixed(std::string_view data) {
  return U32be(static_cast<uint32_t>(data.size())) + std::string(data);
}

// Wipes a secret buffer when it goes out of scope.
struct Wipe {
  std::string& s;
  ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
};

bool IsTeeCurve(KeyType t) { return t == KeyType::kEcP256 || t == KeyType::kEcP521; }

// RFC 7518 section 4.6.2: Concat KDF (NIST SP 800-56A) with SHA-256, one round for a 256-bit
// key; AlgorithmID is the `alg`, PartyUInfo/PartyVInfo the decoded apu/apv (empty by default).
std::string ConcatKdf(std::string_view z, std::string_view apu, std::string_view apv) {
  std::string input = U32be(1) + std::string(z) + LengthPrefixed(kEcdhEsA256kw) +
                      LengthPrefixed(apu) + LengthPrefixed(apv) + U32be(256);
  Wipe wipe{input};
  return Sha256(input);
}

// `peer` must come from PublicKey::FromJwk, which already checked that it is on the curve.
absl::StatusOr<std::string> Ecdh(EVP_PKEY* own, EVP_PKEY* peer) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  size_t len = 0;
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, /*validate_peer=*/0) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return absl::InvalidArgumentError(fmt::format("jwe: ECDH failed: {}", OpensslError()));
  }
  std::string z(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), U(z), &len) != 1) {
    return absl::InvalidArgumentError(fmt::format("jwe: ECDH failed: {}", OpensslError()));
  }
  z.resize(len);
  return z;
}

// RFC 3394 AES-256 key wrap (encrypt = true) or unwrap.
absl::StatusOr<std::string> AesKeyWrap(std::string_view kek, std::string_view in, bool encrypt) {
  // Fetched once: OpenSSL 3 algorithm fetches by name are slow enough to show in profiles.
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-WRAP", nullptr);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || ctx == nullptr) internal::Fatal("AES-256-WRAP");
  if (EVP_CipherInit_ex2(ctx.get(), cipher, U(kek), nullptr, encrypt ? 1 : 0, nullptr) != 1) {
    return absl::InternalError(fmt::format("jwe: key wrap init: {}", OpensslError()));
  }
  std::string out(in.size() + 16, '\0');
  int len = 0;
  int fin = 0;
  if (EVP_CipherUpdate(ctx.get(), U(out), &len, U(in), static_cast<int>(in.size())) != 1 ||
      len < 0 || EVP_CipherFinal_ex(ctx.get(), U(out) + len, &fin) != 1) {
    OpensslError();
    if (encrypt) internal::Fatal("AES key wrap");
    return absl::PermissionDeniedError("jwe: key unwrap failed: integrity check mismatch");
  }
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

absl::StatusOr<std::string> RsaCrypt(EVP_PKEY* pkey, std::string_view alg, std::string_view in,
                                     bool encrypt) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (ctx == nullptr ||
      (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1) {
    return absl::InternalError(fmt::format("jwe: RSA init: {}", OpensslError()));
  }
  bool oaep = alg == kRsaOaep256;
  if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), oaep ? RSA_PKCS1_OAEP_PADDING : RSA_PKCS1_PADDING) !=
          1 ||
      (oaep && (EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1))) {
    return absl::InternalError(fmt::format("jwe: RSA padding setup: {}", OpensslError()));
  }
  size_t len = 0;
  auto run = [&](unsigned char* out) {
    return encrypt ? EVP_PKEY_encrypt(ctx.get(), out, &len, U(in), in.size())
                   : EVP_PKEY_decrypt(ctx.get(), out, &len, U(in), in.size());
  };
  if (run(nullptr) != 1) {
    return absl::InvalidArgumentError(fmt::format(
        "jwe: {} {} failed: {}", alg, encrypt ? "encryption" : "decryption", OpensslError()));
  }
  std::string out(len, '\0');
  if (run(U(out)) != 1) {
    std::string reason = OpensslError();
    if (encrypt) {
      return absl::InvalidArgumentError(fmt::format("jwe: {} encryption failed: {}", alg, reason));
    }
    return absl::PermissionDeniedError(
        fmt::format("jwe: {} key decryption failed: {}", alg, reason));
  }
  out.resize(len);
  return out;
}

absl::StatusOr<std::string> DecodeMember(const json::object& o, std::string_view name,
                                         std::string_view what) {
  CCB_ASSIGN_OR_RETURN(std::string_view text, core::GetString(o, name, what));
  CCB_ASSIGN_OR_RETURN(
      std::string bytes,
      core::Base64Decode(text, core::Base64Alphabet::kUrl, core::Base64Padding::kForbidden),
      "{}: `{}` is not valid base64url", what, name);
  return bytes;
}

absl::Status CheckSize(std::string_view value, size_t want, std::string_view name) {
  if (value.size() == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("jwe: `{}` must be {} bytes, got {}", name, want, value.size()));
}

}  // namespace

absl::StatusOr<json::object> JweEncrypt(const json::object& tee_pubkey,
                                        std::string_view plaintext) {
  constexpr std::string_view kWhat = "jwe: tee-pubkey";
  CCB_ASSIGN_OR_RETURN(std::string_view kty, core::GetString(tee_pubkey, "kty", kWhat));
  CCB_ASSIGN_OR_RETURN(std::string_view alg, core::GetString(tee_pubkey, "alg", kWhat));
  if (kty != "EC" && kty != "RSA") {
    return absl::InvalidArgumentError(fmt::format("jwe: unsupported key type `{}`", kty));
  }
  if (alg != kEcdhEsA256kw && alg != kRsaOaep256 && alg != kRsa15) {
    return absl::InvalidArgumentError(fmt::format("jwe: unsupported key algorithm `{}`", alg));
  }
  if ((kty == "EC") != (alg == kEcdhEsA256kw)) {
    return absl::InvalidArgumentError(
        fmt::format("jwe: key algorithm `{}` does not fit key type `{}`", alg, kty));
  }
  if (kty == "EC") {
    CCB_ASSIGN_OR_RETURN(std::string_view crv, core::GetString(tee_pubkey, "crv", kWhat));
    if (crv != "P-256" && crv != "P-521") {
      return absl::InvalidArgumentError(fmt::format("jwe: unsupported curve `{}`", crv));
    }
  }
  CCB_ASSIGN_OR_RETURN(PublicKey recipient, PublicKey::FromJwk(tee_pubkey),
                       "jwe: invalid tee-pubkey");

  std::string cek = RandomBytes(kCekSize);
  Wipe wipe_cek{cek};
  std::string protected_header;
  std::string encrypted_key;
  if (alg == kEcdhEsA256kw) {
    internal::PkeyPtr ephemeral = internal::GenerateEc(recipient.type());
    CCB_ASSIGN_OR_RETURN(std::string z, Ecdh(ephemeral.get(), recipient.get()));
    Wipe wipe_z{z};
    std::string kek = ConcatKdf(z, "", "");
    Wipe wipe_kek{kek};
    CCB_ASSIGN_OR_RETURN(encrypted_key, AesKeyWrap(kek, cek, true));
    internal::EcCoordinates epk = internal::EcPublicCoordinates(ephemeral.get(), recipient.type());
    protected_header = fmt::format(
        R"({{"alg":"{}","enc":"{}","epk":{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}}})", alg,
        kA256gcm, JwkCurveName(recipient.type()), core::Base64UrlEncode(epk.x),
        core::Base64UrlEncode(epk.y));
  } else {
    CCB_ASSIGN_OR_RETURN(encrypted_key, RsaCrypt(recipient.get(), alg, cek, true));
    protected_header = fmt::format(R"({{"alg":"{}","enc":"{}"}})", alg, kA256gcm);
  }

  std::string protected_b64 = core::Base64UrlEncode(protected_header);
  std::string iv = RandomBytes(kIvSize);
  GcmSealed sealed = Aes256GcmSeal(cek, iv, protected_b64, plaintext);
  json::object jwe;
  jwe["protected"] = protected_b64;
  jwe["encrypted_key"] = core::Base64UrlEncode(encrypted_key);
  jwe["iv"] = core::Base64UrlEncode(iv);
  jwe["ciphertext"] = core::Base64UrlEncode(sealed.ciphertext);
  jwe["tag"] = core::Base64UrlEncode(sealed.tag);
  return jwe;
}

absl::StatusOr<std::string> JweDecrypt(const PrivateKey& key, const json::object& jwe) {
  CCB_ASSIGN_OR_RETURN(std::string_view protected_b64, core::GetString(jwe, "protected", "jwe"));
  CCB_ASSIGN_OR_RETURN(std::string header_bytes, DecodeMember(jwe, "protected", "jwe"));
  CCB_ASSIGN_OR_RETURN(json::value header_value, core::ParseJson(header_bytes, core::JsonLimits{8}),
                       "jwe: protected header is not valid JSON");
  if (!header_value.is_object()) {
    return absl::InvalidArgumentError("jwe: protected header is not a JSON object");
  }
  // The JOSE header is the union of the protected, shared unprotected and per-recipient
  // headers (RFC 7516 section 7.2.1); some libraries put `epk` in the per-recipient one.
  json::object header = std::move(header_value.as_object());
  for (const char* member : {"unprotected", "header"}) {
    const json::value* extra = jwe.if_contains(member);
    if (extra == nullptr) continue;
    if (!extra->is_object()) {
      return absl::InvalidArgumentError(fmt::format("jwe: `{}` is not a JSON object", member));
    }
    for (const auto& param : extra->get_object()) {
      if (header.contains(param.key())) {
        return absl::InvalidArgumentError(fmt::format(
            "jwe: header parameter `{}` appears more than once", std::string_view(param.key())));
      }
      header[param.key()] = param.value();
    }
  }
  constexpr std::string_view kHeader = "jwe: header";
  CCB_ASSIGN_OR_RETURN(std::string_view alg, core::GetString(header, "alg", kHeader));
  CCB_ASSIGN_OR_RETURN(std::string_view enc, core::GetString(header, "enc", kHeader));
  if (enc != kA256gcm) {
    return absl::InvalidArgumentError(fmt::format("jwe: unsupported content encryption `{}`", enc));
  }
  if (header.contains("zip")) {
    return absl::InvalidArgumentError("jwe: compressed content (`zip`) is not supported");
  }
  if (header.contains("crit")) {
    return absl::InvalidArgumentError("jwe: critical header parameters are not supported");
  }
  CCB_ASSIGN_OR_RETURN(std::string encrypted_key, DecodeMember(jwe, "encrypted_key", "jwe"));
  CCB_ASSIGN_OR_RETURN(std::string iv, DecodeMember(jwe, "iv", "jwe"));
  CCB_ASSIGN_OR_RETURN(std::string ciphertext, DecodeMember(jwe, "ciphertext", "jwe"));
  CCB_ASSIGN_OR_RETURN(std::string tag, DecodeMember(jwe, "tag", "jwe"));
  CCB_RETURN_IF_ERROR(CheckSize(iv, kIvSize, "iv"));
  CCB_RETURN_IF_ERROR(CheckSize(tag, kTagSize, "tag"));

  std::string cek;
  Wipe wipe_cek{cek};
  if (alg == kEcdhEsA256kw) {
    if (!IsTeeCurve(key.type()) && key.type() != KeyType::kEcP384) {
      return absl::InvalidArgumentError(fmt::format(
          "jwe: key algorithm `{}` needs an EC key, have {}", alg, KeyTypeName(key.type())));
    }
    CCB_ASSIGN_OR_RETURN(const json::object* epk_jwk, core::GetObject(header, "epk", kHeader));
    CCB_ASSIGN_OR_RETURN(PublicKey epk, PublicKey::FromJwk(*epk_jwk), "jwe: invalid `epk`");
    if (epk.type() != key.type()) {
      return absl::InvalidArgumentError(fmt::format(
          "jwe: `epk` is {} but the key is {}", KeyTypeName(epk.type()), KeyTypeName(key.type())));
    }
    std::string apu, apv;
    if (header.contains("apu")) {
      CCB_ASSIGN_OR_RETURN(apu, DecodeMember(header, "apu", kHeader));
    }
    if (header.contains("apv")) {
      CCB_ASSIGN_OR_RETURN(apv, DecodeMember(header, "apv", kHeader));
    }
    CCB_RETURN_IF_ERROR(CheckSize(encrypted_key, kCekSize + 8, "encrypted_key"));
    CCB_ASSIGN_OR_RETURN(std::string z, Ecdh(key.get(), epk.get()));
    Wipe wipe_z{z};
    std::string kek = ConcatKdf(z, apu, apv);
    Wipe wipe_kek{kek};
    CCB_ASSIGN_OR_RETURN(cek, AesKeyWrap(kek, encrypted_key, false));
  } else if (alg == kRsaOaep256 || alg == kRsa15) {
    if (key.type() != KeyType::kRsa) {
      return absl::InvalidArgumentError(fmt::format(
          "jwe: key algorithm `{}` needs an RSA key, have {}", alg, KeyTypeName(key.type())));
    }
    CCB_ASSIGN_OR_RETURN(cek, RsaCrypt(key.get(), alg, encrypted_key, false));
  } else {
    return absl::InvalidArgumentError(fmt::format("jwe: unsupported key algorithm `{}`", alg));
  }
  if (cek.size() != kCekSize) {
    return absl::PermissionDeniedError(
        fmt::format("jwe: content key must be {} bytes, got {}", kCekSize, cek.size()));
  }

  std::string aad(protected_b64);
  if (const json::value* extra = jwe.if_contains("aad")) {
    if (!extra->is_string()) return absl::InvalidArgumentError("jwe: `aad` is not a string");
    aad += ".";
    aad += extra->get_string();
  }
  auto plaintext = Aes256GcmOpen(cek, iv, aad, ciphertext, tag);
  if (!plaintext.ok()) {
    return absl::PermissionDeniedError(
        "jwe: content decryption failed: authentication tag mismatch");
  }
  return plaintext;
}

absl::StatusOr<json::object> TeePubkeyJwk(const PrivateKey& key, std::string_view alg) {
  json::object pub = key.Public().ToJwk();
  json::object out;
  if (IsTeeCurve(key.type())) {
    if (alg != kEcdhEsA256kw) {
      return absl::InvalidArgumentError(fmt::format("jwe: key algorithm `{}` does not fit a {} key",
                                                    alg, KeyTypeName(key.type())));
    }
    out["kty"] = "EC";
    out["crv"] = pub["crv"];
    out["alg"] = alg;
    out["x"] = pub["x"];
    out["y"] = pub["y"];
    return out;
  }
  if (key.type() == KeyType::kRsa) {
    if (alg != kRsa15 && alg != kRsaOaep256) {
      return absl::InvalidArgumentError(
          fmt::format("jwe: key algorithm `{}` does not fit an RSA key", alg));
    }
    out["kty"] = "RSA";
    out["alg"] = alg;
    out["n"] = pub["n"];
    out["e"] = pub["e"];
    return out;
  }
  return absl::InvalidArgumentError(
      fmt::format("jwe: a {} key cannot receive secrets", KeyTypeName(key.type())));
}

}  // namespace ccburst::crypto
