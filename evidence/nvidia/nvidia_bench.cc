// Cost per GPU of NVIDIA device verification (the real H100 sample: 64 measurement blocks, a
// 5-certificate chain) against its floor: one ECDSA P-384 report-signature check plus the chain's
// four certificate-signature checks (ECDSA P-384), the certificates already decoded. Both run in
// the same process, so their ratio is the figure docs/performance.md reports.
//
//   ninja -C build nvidia_bench && build/evidence/nvidia/nvidia_bench
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/certificate.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "evidence/nvidia/verifier.h"

namespace ccburst::evidence::nvidia {
namespace {

const core::TimePoint kNow = core::FromUnixSeconds(1767225600);  // 2026-01-01

std::string Read(const char* name) {
  auto data = core::ReadFile(std::string(CCB_SHARED_DIR) +
                             "/testdata/nvidia/n1-h100-nvtrust-sample/" + name);
  if (!data.ok()) std::abort();
  return *data;
}

const std::string kNonce =
    *core::HexDecode("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb");

// The whole device check as the KBS runs it per GPU: parse, claims, signature, chain (decoding
// cached by exact bytes), FWID, validity, nonce.
void BM_VerifyDeviceCachedChain(benchmark::State& state) {
  auto verifier = NvidiaVerifier::Create();
  if (!verifier.ok()) std::abort();
  DeviceEvidence ev{"HOPPER", std::nullopt, Read("report.bin"), Read("cert_chain.pem")};
  if (!(*verifier)->VerifyDevice(ev, &kNonce, kNow).ok()) std::abort();
  for (auto _ : state) {
    auto v = (*verifier)->VerifyDevice(ev, &kNonce, kNow);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyDeviceCachedChain)->Unit(benchmark::kMicrosecond);

// The floor: the report signature and the four chain signatures, nothing else.
void BM_FloorP384ReportPlusChainSignatures(benchmark::State& state) {
  std::string report = Read("report.bin");
  auto ders = crypto::PemCertificatesToDer(Read("cert_chain.pem"), "bench", false);
  if (!ders.ok()) std::abort();
  std::vector<crypto::Certificate> certs;
  for (const auto& d : *ders) certs.push_back(*crypto::Certificate::Parse(d, "bench"));
  const crypto::PublicKey& leaf = *certs[0].public_key();
  std::string_view signed_bytes = std::string_view(report).substr(0, 4021);
  std::string_view signature = std::string_view(report).substr(4021, 96);
  for (auto _ : state) {
    bool ok = crypto::VerifyEcdsa(leaf, crypto::HashAlg::kSha384, signed_bytes, signature).ok();
    for (size_t i = 0; i + 1 < certs.size(); ++i) ok &= certs[i].VerifySignedBy(certs[i + 1]).ok();
    if (!ok) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FloorP384ReportPlusChainSignatures)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ccburst::evidence::nvidia

BENCHMARK_MAIN();
