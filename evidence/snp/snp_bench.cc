// SEV-SNP report verification throughput with the VCEK chain cached (the steady state of a KBS:
// one platform attests many times). The floor is one ECDSA P-384 verification per report.
//
//   ninja -C build snp_bench && build/evidence/snp/snp_bench
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/snp/verifier.h"

namespace ccburst::evidence::snp {
namespace {

const core::TimePoint kNow = core::FromUnixSeconds(1767225600);  // 2026-01-01

const testing::TestHierarchy& Hierarchy() {
  static const auto* h = testing::TestHierarchy::Create().release();
  return *h;
}

// Full Verifier::Verify on ccburst's agent form (JSON, base64, certificate table with VCEK, ASK,
// ARK), as the KBS calls it for every /attest.
void BM_VerifyTsmJsonCachedChain(benchmark::State& state) {
  const auto& h = Hierarchy();
  testing::ReportSpec spec;
  spec.report_data = crypto::Sha384("session");
  auto evidence = core::ParseJson(h.TsmEvidenceJson(spec));
  auto verifier = SnpVerifier::Create(h.VerifierOptions());
  if (!evidence.ok() || !verifier.ok()) std::abort();
  ExpectedBinding binding{spec.report_data, std::nullopt};
  if (!(*verifier)->Verify(*evidence, binding, kNow).ok()) std::abort();
  for (auto _ : state) {
    auto claims = (*verifier)->Verify(*evidence, binding, kNow);
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyTsmJsonCachedChain)->Unit(benchmark::kMicrosecond);

// Parsed evidence only: chain lookup, validity, signature, TCB, claims.
void BM_VerifyParsedCachedChain(benchmark::State& state) {
  const auto& h = Hierarchy();
  testing::ReportSpec spec;
  auto ev = ParseEvidenceBytes(h.TsmEvidenceJson(spec));
  auto verifier = SnpVerifier::Create(h.VerifierOptions());
  if (!ev.ok() || !verifier.ok()) std::abort();
  for (auto _ : state) {
    auto v = (*verifier)->VerifyEvidence(*ev, nullptr, kNow);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyParsedCachedChain)->Unit(benchmark::kMicrosecond);

// A real Genoa report with AMD's chain from its configfs-tsm certificate table.
void BM_VerifyRealGenoaCachedChain(benchmark::State& state) {
  auto report =
      core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/snp/s5-genoa-v3-tsm/report.bin");
  auto aux =
      core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/snp/s5-genoa-v3-tsm/auxblob.bin");
  if (!report.ok() || !aux.ok()) {
    state.SkipWithError("testdata not found");
    return;
  }
  boost::json::object ev{{"report", core::Base64Encode(*report)},
                         {"auxblob", core::Base64Encode(*aux)}};
  auto verifier = SnpVerifier::Create();
  if (!verifier.ok()) std::abort();
  auto parsed = ParseEvidenceJson(ev);
  if (!parsed.ok()) std::abort();
  ExpectedBinding binding{parsed->report.report_data, std::nullopt};
  if (!(*verifier)->Verify(ev, binding, kNow).ok()) std::abort();
  for (auto _ : state) {
    auto claims = (*verifier)->Verify(ev, binding, kNow);
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyRealGenoaCachedChain)->Unit(benchmark::kMicrosecond);

// First sight of a chain: parse + RSA-PSS checks of VCEK and ASK + the report.
void BM_VerifyUncachedChain(benchmark::State& state) {
  const auto& h = Hierarchy();
  testing::ReportSpec spec;
  auto ev = ParseEvidenceBytes(h.TsmEvidenceJson(spec));
  SnpVerifierOptions o = h.VerifierOptions();
  o.chain_cache_entries = 0;
  auto verifier = SnpVerifier::Create(o);
  if (!ev.ok() || !verifier.ok()) std::abort();
  for (auto _ : state) {
    auto v = (*verifier)->VerifyEvidence(*ev, nullptr, kNow);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyUncachedChain)->Unit(benchmark::kMicrosecond);

// The floor: one ECDSA P-384/SHA-384 verification of the signed region.
void BM_EcdsaP384VerifyOnly(benchmark::State& state) {
  const auto& h = Hierarchy();
  auto ev = ParseEvidenceBytes(h.TsmEvidenceJson(testing::ReportSpec{}));
  auto cert = Certificate::Parse(h.vcek_der(), "VCEK");
  if (!ev.ok() || !cert.ok()) std::abort();
  auto key = cert->public_key();
  auto sig = SignatureRawBigEndian(ev->report);
  if (!key.ok() || !sig.ok()) std::abort();
  for (auto _ : state) {
    auto st = crypto::VerifyEcdsa(*key, crypto::HashAlg::kSha384, ev->report.signed_bytes(), *sig);
    if (!st.ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EcdsaP384VerifyOnly)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ccburst::evidence::snp

BENCHMARK_MAIN();
