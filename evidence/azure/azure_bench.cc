// Azure CVM verification cost with collateral and the VCEK chain cached (the steady state of a
// KBS), next to the floor of the signature checks each verification cannot avoid, measured in the
// same run: az-tdx-vtpm = two ECDSA P-256 verifies (QE report, TD quote) + one RSA-2048 verify (TPM
// quote); az-snp-vtpm = one ECDSA P-384 verify (SNP report) + one RSA-2048 verify. Goals:
// az-tdx-vtpm <= 1.25x and az-snp-vtpm <= 1.1x of their floors.
//
//   ninja -C build azure_bench && build/evidence/azure/azure_bench
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "core/file.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "evidence/azure/verifier.h"

namespace ccburst::evidence::azure {
namespace {

std::string Shared(const std::string& rel) {
  auto s = core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/" + rel);
  if (!s.ok()) std::abort();
  return *s;
}

dcap::Collateral Collateral() {
  std::string d = "tdx/t3-spr-outofdate/collateral/";
  dcap::Collateral col;
  col.tcb_info_json = Shared(d + "tcb_info.json");
  col.tcb_info_issuer_chain = Shared(d + "tcb_info_issuer_chain.pem");
  col.qe_identity_json = Shared(d + "qe_identity.json");
  col.qe_identity_issuer_chain = Shared(d + "qe_identity_issuer_chain.pem");
  col.pck_crl = Shared(d + "pck_crl.der");
  col.pck_crl_issuer_chain = Shared(d + "pck_crl_issuer_chain.pem");
  col.root_ca_crl = Shared(d + "root_ca_crl.der");
  return col;
}

const ExpectedBinding kBinding{"challenge", std::nullopt};

// The real Azure TDX CVM evidence (format v1) with its DCAP collateral, verified at 2025-03-10.
void BM_AzTdxVtpmCached(benchmark::State& state) {
  auto ev = core::ParseJson(Shared("azure/a4-az-tdx-vtpm-v1/evidence.json"));
  auto at = core::ParseRfc3339("2025-03-10T00:00:00Z");
  auto created =
      AzTdxVtpmVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(Collateral())});
  if (!created.ok()) std::abort();
  const AzTdxVtpmVerifier& v = **created;
  if (!ev.ok() || !at.ok() || !v.Verify(*ev, kBinding, *at).ok()) std::abort();
  for (auto _ : state) {
    auto claims = v.Verify(*ev, kBinding, *at);
    if (!claims.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AzTdxVtpmCached)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The real Azure SNP CVM evidence (Milan, format v1, VCEK in the evidence, AMD's pinned roots).
void BM_AzSnpVtpmCached(benchmark::State& state) {
  auto ev = core::ParseJson(Shared("azure/a1-az-snp-vtpm-v1/evidence.json"));
  auto at = core::ParseRfc3339("2026-01-01T00:00:00Z");
  auto v = AzSnpVtpmVerifier::Create();
  if (!ev.ok() || !at.ok() || !v.ok() || !(*v)->Verify(*ev, kBinding, *at).ok()) std::abort();
  for (auto _ : state) {
    auto claims = (*v)->Verify(*ev, kBinding, *at);
    if (!claims.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AzSnpVtpmCached)->Unit(benchmark::kMicrosecond)->UseRealTime();

struct Signed {
  crypto::PublicKey key;
  crypto::HashAlg hash;
  std::string data;
  std::string sig;
  void Verify() const {
    absl::Status st = key.type() == crypto::KeyType::kRsa
                          ? crypto::VerifyRsaPkcs1(key, hash, data, sig)
                          : crypto::VerifyEcdsa(key, hash, data, sig);
    if (!st.ok()) std::abort();
  }
};

Signed Make(const crypto::PrivateKey& k, crypto::HashAlg hash, size_t size) {
  std::string data(size, 'x');
  auto sig = k.type() == crypto::KeyType::kRsa ? crypto::SignRsaPkcs1(k, hash, data)
                                               : crypto::SignEcdsa(k, hash, data);
  if (!sig.ok()) std::abort();
  return {k.Public(), hash, data, *sig};
}

// Floor of az-tdx-vtpm: QE report (384 bytes) and quote (632 bytes) ECDSA P-256 + TPM quote
// (122 bytes) RSA-2048.
void BM_FloorTdx2xP256PlusRsa2048(benchmark::State& state) {
  Signed qe = Make(crypto::PrivateKey::GenerateEcP256(), crypto::HashAlg::kSha256, 384);
  Signed quote = Make(crypto::PrivateKey::GenerateEcP256(), crypto::HashAlg::kSha256, 632);
  Signed tpm = Make(crypto::PrivateKey::GenerateRsa(2048), crypto::HashAlg::kSha256, 122);
  for (auto _ : state) {
    qe.Verify();
    quote.Verify();
    tpm.Verify();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FloorTdx2xP256PlusRsa2048)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Floor of az-snp-vtpm: SNP report (672 signed bytes) ECDSA P-384/SHA-384 + TPM quote RSA-2048.
void BM_FloorSnpP384PlusRsa2048(benchmark::State& state) {
  Signed report = Make(crypto::PrivateKey::GenerateEcP384(), crypto::HashAlg::kSha384, 672);
  Signed tpm = Make(crypto::PrivateKey::GenerateRsa(2048), crypto::HashAlg::kSha256, 122);
  for (auto _ : state) {
    report.Verify();
    tpm.Verify();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FloorSnpP384PlusRsa2048)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace ccburst::evidence::azure

BENCHMARK_MAIN();
