// Micro benchmarks of the crypto operations on the KBS hot paths: signing and verifying EAR
// tokens (ES256), wrapping a secret for the TEE key (JWE per key-management alg), and the
// report-data hash. Run: build/crypto/crypto_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/jwe.h"
#include "crypto/jws.h"
#include "crypto/key.h"

namespace ccburst::crypto {
namespace {

namespace json = boost::json;

json::object EarLikeClaims() {
  return {{"eat_profile", "tag:github.com,2024:confidential-containers/Trustee"},
          {"iat", 1700000000},
          {"exp", 1700000300},
          {"iss", "ccburst"},
          {"submods",
           {{"cpu0",
             {{"ear.status", "affirming"},
              {"ear.appraisal-policy-id", "default"},
              {"ear.veraison.annotated-evidence",
               {{"tdx", {{"quote", {{"body", {{"mr_td", std::string(96, 'a')}}}}}}},
                {"report_data", std::string(128, 'b')}}}}}}}};
}

void BM_Es256Sign(benchmark::State& state) {
  PrivateKey key = PrivateKey::GenerateEcP256();
  json::object header{{"jwk", key.Public().ToJwk()}};
  json::object claims = EarLikeClaims();
  for (auto _ : state) benchmark::DoNotOptimize(SignJwt(key, claims, header));
}
BENCHMARK(BM_Es256Sign);

void BM_Es256DecodeAndVerify(benchmark::State& state) {
  PrivateKey key = PrivateKey::GenerateEcP256();
  PublicKey pub = key.Public();
  std::string token = *SignJwt(key, EarLikeClaims(), {{"jwk", pub.ToJwk()}});
  for (auto _ : state) benchmark::DoNotOptimize(DecodeAndVerifyJwt(token, pub));
}
BENCHMARK(BM_Es256DecodeAndVerify);

void BM_Es256VerifyOnly(benchmark::State& state) {
  PrivateKey key = PrivateKey::GenerateEcP256();
  PublicKey pub = key.Public();
  Jwt jwt = *DecodeJwt(*SignJwt(key, EarLikeClaims()));
  for (auto _ : state) benchmark::DoNotOptimize(VerifyJwtSignature(jwt, pub));
}
BENCHMARK(BM_Es256VerifyOnly);

// Arg: 0 RSA1_5, 1 RSA-OAEP-256, 2 ECDH-ES+A256KW P-256, 3 ECDH-ES+A256KW P-521.
struct JweCase {
  const char* label;
  KeyType type;
  const char* alg;
};
constexpr JweCase kJweCases[] = {{"RSA1_5", KeyType::kRsa, "RSA1_5"},
                                 {"RSA-OAEP-256", KeyType::kRsa, "RSA-OAEP-256"},
                                 {"ECDH-ES+A256KW/P-256", KeyType::kEcP256, "ECDH-ES+A256KW"},
                                 {"ECDH-ES+A256KW/P-521", KeyType::kEcP521, "ECDH-ES+A256KW"}};

void BM_JweEncrypt(benchmark::State& state) {
  const JweCase& c = kJweCases[state.range(0)];
  state.SetLabel(c.label);
  PrivateKey key = PrivateKey::Generate(c.type);
  json::object tee_pubkey = *TeePubkeyJwk(key, c.alg);
  std::string secret(256, 's');
  for (auto _ : state) benchmark::DoNotOptimize(JweEncrypt(tee_pubkey, secret));
}
BENCHMARK(BM_JweEncrypt)->DenseRange(0, 3);

void BM_JweDecrypt(benchmark::State& state) {
  const JweCase& c = kJweCases[state.range(0)];
  state.SetLabel(c.label);
  PrivateKey key = PrivateKey::Generate(c.type);
  json::object jwe = *JweEncrypt(*TeePubkeyJwk(key, c.alg), std::string(256, 's'));
  for (auto _ : state) benchmark::DoNotOptimize(JweDecrypt(key, jwe));
}
BENCHMARK(BM_JweDecrypt)->DenseRange(0, 3);

void BM_Sha384ReportData(benchmark::State& state) {
  std::string jcs = core::Jcs(json::value(EarLikeClaims()));
  for (auto _ : state) benchmark::DoNotOptimize(Sha384(jcs));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * jcs.size()));
}
BENCHMARK(BM_Sha384ReportData);

}  // namespace
}  // namespace ccburst::crypto

BENCHMARK_MAIN();
