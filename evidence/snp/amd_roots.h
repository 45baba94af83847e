// The AMD SEV-SNP trust anchors shipped with ccburst: per processor generation the ARK, ASK and
// ASVK certificates (amd_roots.cc says where AMD publishes them) and the pinned SHA-256
// fingerprints of the ARKs' SubjectPublicKeyInfo. A verifier only accepts an ARK whose key has one
// of these fingerprints unless it is explicitly told to trust another (tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "evidence/snp/report.h"

namespace ccburst::evidence::snp {

// The trust material of one processor generation: the ARK and the certificates it issued, DER
// or PEM. `asvk` may be empty (no VLEK support for that root).
struct ProductAnchor {
  Generation product = Generation::kUnknown;
  std::string ark;
  std::string ask;
  std::string asvk;
};

// SHA-256 of the DER SubjectPublicKeyInfo of AMD's ARKs (RSA-4096), hex. Recompute with
// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum` on the ARK from
// https://kdsintf.amd.com/vcek/v1/<product>/cert_chain (the second certificate).
inline constexpr std::string_view kMilanArkSpkiSha256 =
    "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9";
inline constexpr std::string_view kGenoaArkSpkiSha256 =
    "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831";
inline constexpr std::string_view kTurinArkSpkiSha256 =
    "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08";

// The pinned fingerprint (hex) for `product`; empty for kUnknown.
inline std::string_view PinnedArkFingerprint(Generation product) {
  switch (product) {
    case Generation::kMilan:
      return kMilanArkSpkiSha256;
    case Generation::kGenoa:
      return kGenoaArkSpkiSha256;
    case Generation::kTurin:
      return kTurinArkSpkiSha256;
    case Generation::kUnknown:
      break;
  }
  return {};
}

// AMD's ARK/ASK/ASVK for Milan, Genoa and Turin (PEM).
std::vector<ProductAnchor> AmdProductAnchors();

}  // namespace ccburst::evidence::snp
