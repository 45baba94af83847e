// Micro-benchmarks of the attestation service: a full Attest() with the sample TEE and the
// default policy (binding digest, evidence check, policy evaluation, ES256 signing), and
// VerifyToken() on the resulting token (what every resource request with a bearer token costs).
//   ninja -C build attestation_bench && ./build/attestation/attestation_bench
#include <benchmark/benchmark.h>

#include "attestation/attestation_service.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "crypto/hash.h"
#include "evidence/sample/sample.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;

struct Fixture {
  Fixture() {
    service.RegisterVerifier(evidence::NewSampleVerifier());
    std::string payload = R"({"launch_digest":["abcde"],"svn":["1"]})";
    (void)rvs.Register(core::Serialize(json::object{
        {"version", "0.1.0"}, {"type", "sample"}, {"payload", core::Base64Encode(payload)}}));
    request.tee = "sample";
    request.runtime_data = json::object{
        {"nonce", "q6ZPOVfHQHnsIXDUVjs4DMhJpsnSRUW4OP8bJzxZzSs="},
        {"tee-pubkey", json::object{{"kty", "EC"},
                                    {"crv", "P-256"},
                                    {"alg", "ECDH-ES+A256KW"},
                                    {"x", "rGTy4nCg8F7YJzlPq1ZmVmhqkw6pU5CnFE6dwD_WR2A"},
                                    {"y", "x8lIRCFqHT1FgyxQVd3Z6nyl2n9Uxl1dDDp1m8NXRhI"}}}};
    json::object material = request.runtime_data;
    material["additional-evidence"] = "";
    request.primary_evidence = json::object{
        {"svn", "1"}, {"report_data", core::Base64Encode(crypto::Sha384(core::Jcs(material)))}};
  }

  core::testing::FakeClock clock{core::FromUnixSeconds(1'750'000'000)};
  std::unique_ptr<store::KeyValueStore> kv = store::NewMemoryStore();
  ReferenceValueStore rvs{*kv, clock};
  AttestationService service{*kv, rvs, crypto::PrivateKey::GenerateEcP256(), clock, {}};
  AttestationService::Request request;
};

void BM_AttestSample(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    auto token = f.service.Attest(f.request);
    if (!token.ok()) {
      state.SkipWithError(std::string(token.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_AttestSample);

void BM_VerifyToken(benchmark::State& state) {
  Fixture f;
  auto token = f.service.Attest(f.request);
  if (!token.ok()) {
    state.SkipWithError(std::string(token.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    auto claims = f.service.VerifyToken(*token);
    if (!claims.ok()) {
      state.SkipWithError(std::string(claims.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(claims);
  }
  state.counters["token_bytes"] = static_cast<double>(token->size());
}
BENCHMARK(BM_VerifyToken);

}  // namespace
}  // namespace ccburst::attestation

BENCHMARK_MAIN();
