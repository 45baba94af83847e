// Test-only companion of interop_test.py, which checks our JOSE output against jwcrypto.
//   crypto_interop_tool write DIR    keys, JWEs and JWTs we produce + DIR/manifest.json
//   crypto_interop_tool decrypt DIR  decrypts the JWEs listed in DIR/py-manifest.json (written by
//                                    jwcrypto) and compares them with the expected plaintext
// Exit status 0 when everything worked; failures are printed on stderr.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/jwe.h"
#include "crypto/jws.h"
#include "crypto/key.h"

namespace ccburst::crypto {
namespace {

namespace json = boost::json;

bool WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read `{}`", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Write(const std::string& dir) {
  json::array jwes;
  json::array jwts;
  json::array keys;
  struct KeySpec {
    const char* name;
    PrivateKey key;
    std::vector<const char*> algs;
  };
  std::vector<KeySpec> specs = {
      {"rsa", PrivateKey::GenerateRsa(), {"RSA1_5", "RSA-OAEP-256"}},
      {"ec-p256", PrivateKey::GenerateEcP256(), {"ECDH-ES+A256KW"}},
      {"ec-p521", PrivateKey::GenerateEcP521(), {"ECDH-ES+A256KW"}},
  };
  for (const KeySpec& spec : specs) {
    std::string key_file = fmt::format("{}.key.pem", spec.name);
    if (!WriteFile(dir + "/" + key_file, spec.key.ToPem())) return 1;
    for (const char* alg : spec.algs) {
      auto tee_pubkey = TeePubkeyJwk(spec.key, alg);
      if (!tee_pubkey.ok()) {
        std::fprintf(stderr, "%s\n", core::Message(tee_pubkey.status()).c_str());
        return 1;
      }
      std::string plaintext = fmt::format("secret for {} / {}: \x01\x02\xfe\xff", spec.name, alg);
      auto jwe = JweEncrypt(*tee_pubkey, plaintext);
      if (!jwe.ok()) {
        std::fprintf(stderr, "%s\n", core::Message(jwe.status()).c_str());
        return 1;
      }
      std::string jwe_file = fmt::format("jwe-{}-{}.json", spec.name, alg);
      if (!WriteFile(dir + "/" + jwe_file, core::Serialize(*jwe))) return 1;
      jwes.push_back(json::object{{"file", jwe_file},
                                  {"key", key_file},
                                  {"alg", alg},
                                  {"plaintext_b64", core::Base64UrlEncode(plaintext)}});
      keys.push_back(
          json::object{{"name", spec.name}, {"key", key_file}, {"tee_pubkey", *tee_pubkey}});
    }
  }

  struct JwtSpec {
    const char* alg;
    PrivateKey key;
  };
  for (const JwtSpec& spec :
       {JwtSpec{"ES256", PrivateKey::GenerateEcP256()},
        JwtSpec{"EdDSA", PrivateKey::GenerateEd25519()},
        JwtSpec{"ES384", PrivateKey::GenerateEcP384()}, JwtSpec{"RS256", specs[0].key}}) {
    PublicKey pub = spec.key.Public();
    json::object claims{{"iss", "ccburst"},
                        {"aud", json::array{"kbs"}},
                        {"alg_under_test", spec.alg},
                        {"exp", 4102444800}};
    auto token = SignJwt(spec.key, claims, {{"jwk", pub.ToJwk()}, {"kid", JwkThumbprint(pub)}});
    if (!token.ok()) {
      std::fprintf(stderr, "%s\n", core::Message(token.status()).c_str());
      return 1;
    }
    std::string pem_file = fmt::format("jwt-{}.pub.pem", spec.alg);
    if (!WriteFile(dir + "/" + pem_file, pub.ToPem())) return 1;
    jwts.push_back(json::object{{"alg", spec.alg},
                                {"token", *token},
                                {"public_pem", pem_file},
                                {"public_jwk", pub.ToJwk()},
                                {"thumbprint", JwkThumbprint(pub)},
                                {"claims", claims}});
  }
  json::object manifest{{"jwes", jwes}, {"jwts", jwts}, {"keys", keys}};
  return WriteFile(dir + "/manifest.json", core::Serialize(manifest)) ? 0 : 1;
}

int Decrypt(const std::string& dir) {
  auto text = ReadFile(dir + "/py-manifest.json");
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", core::Message(text.status()).c_str());
    return 1;
  }
  auto manifest = core::ParseJson(*text);
  if (!manifest.ok() || !manifest->is_array()) return 1;
  int failures = 0;
  for (const json::value& entry : manifest->as_array()) {
    const json::object& e = entry.as_object();
    std::string file(e.at("file").as_string());
    auto key = PrivateKey::LoadPemFile(dir + "/" + std::string(e.at("key").as_string()));
    auto jwe_text = ReadFile(dir + "/" + file);
    if (!key.ok() || !jwe_text.ok()) {
      std::fprintf(stderr, "%s: cannot load inputs\n", file.c_str());
      ++failures;
      continue;
    }
    auto jwe = core::ParseJson(*jwe_text);
    if (!jwe.ok() || !jwe->is_object()) {
      std::fprintf(stderr, "%s: not a JSON object\n", file.c_str());
      ++failures;
      continue;
    }
    auto plain = JweDecrypt(*key, jwe->as_object());
    auto want = core::Base64UrlDecode(e.at("plaintext_b64").as_string().c_str());
    if (!plain.ok()) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), core::Message(plain.status()).c_str());
      ++failures;
    } else if (!want.ok() || *plain != *want) {
      std::fprintf(stderr, "%s: plaintext mismatch\n", file.c_str());
      ++failures;
    } else {
      std::printf("ok   decrypted %s\n", file.c_str());
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ccburst::crypto

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s write|decrypt DIR\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "write") return ccburst::crypto::Write(argv[2]);
  if (mode == "decrypt") return ccburst::crypto::Decrypt(argv[2]);
  std::fprintf(stderr, "unknown mode `%s`\n", argv[1]);
  return 2;
}
