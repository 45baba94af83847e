// TDX verification cost: quote parsing, verification with collateral already verified and cached
// (the steady state of a KBS), and full verification including collateral signatures and CRLs.
// Run: build-*/evidence/tdx/tdx_bench
#include <benchmark/benchmark.h>

#include "core/file.h"
#include "crypto/signature.h"
#include "evidence/tdx/verifier.h"
#include "evidence/tdx/verify_quote.h"

namespace ccburst::evidence::tdx {
namespace {

std::string Shared(const std::string& rel) {
  return *core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/tdx/t1-emr-uptodate/" + rel);
}

dcap::Collateral Collateral() {
  dcap::Collateral col;
  col.tcb_info_json = Shared("collateral/tcb_info.json");
  col.tcb_info_issuer_chain = Shared("collateral/tcb_info_issuer_chain.pem");
  col.qe_identity_json = Shared("collateral/qe_identity.json");
  col.qe_identity_issuer_chain = Shared("collateral/qe_identity_issuer_chain.pem");
  col.pck_crl = Shared("collateral/pck_crl.der");
  col.pck_crl_issuer_chain = Shared("collateral/pck_crl_issuer_chain.pem");
  col.root_ca_crl = Shared("collateral/root_ca_crl.der");
  return col;
}

const core::TimePoint kAt = *core::ParseRfc3339("2025-07-01T00:00:00Z");

void BM_ParseQuote(benchmark::State& state) {
  std::string quote = Shared("quote.bin");
  for (auto _ : state) benchmark::DoNotOptimize(ParseQuote(quote));
}
BENCHMARK(BM_ParseQuote);

// The floor: one ECDSA P-256 / SHA-256 verification (a cached quote needs two: QE report and
// quote; the PCK chain's signatures are verified once per chain; full verification needs ten).
void BM_EcdsaP256Verify(benchmark::State& state) {
  auto key = crypto::PrivateKey::GenerateEcP256();
  std::string data(632, 'x');
  auto sig = crypto::SignEcdsa(key, crypto::HashAlg::kSha256, data);
  auto pub = key.Public();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::VerifyEcdsa(pub, crypto::HashAlg::kSha256, data, *sig));
  }
}
BENCHMARK(BM_EcdsaP256Verify);

void BM_VerifyQuoteCachedCollateral(benchmark::State& state) {
  Evidence quote{Shared("quote.bin"), std::nullopt};
  auto v = *TdxVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(Collateral())});
  if (!v->VerifyEvidence(quote, nullptr, kAt).ok()) state.SkipWithError("verify failed");
  for (auto _ : state) {
    auto r = v->VerifyEvidence(quote, nullptr, kAt);
    if (!r.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifyQuoteCachedCollateral)->UseRealTime();

// Full verification: every signature (PCK chain, PCK CRL issuer chain, both CRLs, TCB Info, QE
// Identity and their issuer chain, QE report, quote), validity period and revocation is checked
// at every iteration. Certificates and CRLs are decoded once (one crypto::CertificateCache across
// iterations, keyed by their exact encoding), as in a long-running KBS's verifier.
void BM_FullVerificationWithCollateral(benchmark::State& state) {
  std::string quote = Shared("quote.bin");
  dcap::Collateral col = Collateral();
  auto certs = std::make_shared<crypto::CertificateCache>();
  for (auto _ : state) {
    dcap::PckChainCache chains(16, certs);  // fresh: the PCK chain is verified at every iteration
    auto verified =
        dcap::VerifyCollateral(col, dcap::TrustAnchor::IntelSgxRootCa(), kAt, certs.get());
    auto q = ParseQuote(quote);
    if (!verified.ok() || !q.ok()) state.SkipWithError("verify failed");
    auto r = VerifyQuote(*q, **verified, dcap::TrustAnchor::IntelSgxRootCa(), kAt, &chains);
    if (!r.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_FullVerificationWithCollateral)->UseRealTime();

// As above, but nothing decoded before: a fresh certificate cache every iteration (the first
// verification of a new platform and collateral set).
void BM_FullVerificationColdDecode(benchmark::State& state) {
  std::string quote = Shared("quote.bin");
  dcap::Collateral col = Collateral();
  for (auto _ : state) {
    auto certs = std::make_shared<crypto::CertificateCache>();
    dcap::PckChainCache chains(16, certs);
    auto verified =
        dcap::VerifyCollateral(col, dcap::TrustAnchor::IntelSgxRootCa(), kAt, certs.get());
    auto q = ParseQuote(quote);
    if (!verified.ok() || !q.ok()) state.SkipWithError("verify failed");
    auto r = VerifyQuote(*q, **verified, dcap::TrustAnchor::IntelSgxRootCa(), kAt, &chains);
    if (!r.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_FullVerificationColdDecode)->UseRealTime();

}  // namespace
}  // namespace ccburst::evidence::tdx

BENCHMARK_MAIN();
