// The `snp` verifier as a deployment configures it: the
// [attestation_service.verifier_config.snp_verifier] section (VCEK sources in Trustee's names),
// parsed and turned into an SnpVerifier whose VCEKs come from the evidence, then AMD KDS or
// Trustee OfflineStore directories. This is the SNP line of attestation/'s verifier registry;
// nothing above it knows these names.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "evidence/snp/amd_roots.h"
#include "evidence/verifier.h"
#include "net/fetch_gate.h"

namespace ccburst::collateral::snp {

struct SnpVerifierConfig {
  struct VcekSource {
    std::string type;      // "KDS" or "OfflineStore"
    std::string base_url;  // KDS
    std::string path;      // OfflineStore (resolved)
  };
  std::vector<VcekSource> vcek_sources{{"KDS", "https://kdsintf.amd.com", ""}};
  uint32_t required_vmpl = 0;
  std::optional<std::string> trusted_ark;  // TEST ONLY: PEM ARK (+ ASK/ASVK) bundle
  std::optional<std::string> cache_dir;    // on-disk VCEK cache for KDS sources
  // How each KDS source is asked (rate, concurrency, negative cache, Retry-After cap).
  net::FetchGateOptions limits;
};

// Reads the section `where` (its full dotted name, for messages) into `out`; relative paths are
// resolved against `base_dir`. Strict: unknown keys and bad values are InvalidArgument "config:
// ..." naming the key. Insecure settings add a line to `warnings`.
// Groups a PEM bundle (the TEST ONLY `trusted_ark`) into per-generation anchors by subject CN,
// as AMD names them (`ARK-<P>`, `SEV-<P>`, `SEV-VLEK-<P>`). An unreadable or malformed bundle is
// InvalidArgument "<where>.trusted_ark `file`: ...".
absl::StatusOr<std::vector<evidence::snp::ProductAnchor>> LoadArkBundle(const std::string& path,
                                                                        std::string_view where);

absl::Status ParseSnpVerifierConfig(const toml::table& t, std::string_view where,
                                    const std::string& base_dir, SnpVerifierConfig& out,
                                    std::vector<std::string>& warnings);

// The `snp` verifier for `config`. Only local files are read (the test ARK bundle). An
// unreadable or malformed `trusted_ark` bundle (PEM ARK `ARK-<Product>`, optionally its ASK
// `SEV-<Product>` and ASVK `SEV-VLEK-<Product>`) or a bad KDS URL is InvalidArgument naming
// `<where>.<key>`.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewSnpVerifier(const SnpVerifierConfig& config,
                                                                   std::string_view where);

}  // namespace ccburst::collateral::snp
