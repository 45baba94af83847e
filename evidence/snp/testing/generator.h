// Test-only SEV-SNP evidence generator: a throwaway ARK -> ASK -> VCEK (and ASVK -> VLEK)
// hierarchy shaped like AMD's (RSA-PSS SHA-384 ARK/ASK/ASVK, EC P-384 VCEK/VLEK with the AMD
// productName, SPL and hwID extensions) that signs attestation reports with chosen contents, e.g. a
// live KBS session's report data. Used by unit, end-to-end and load tests; never trust it: the
// verifier only accepts it with SnpVerifierOptions::allow_unpinned_arks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"
#include "evidence/snp/amd_roots.h"
#include "evidence/snp/evidence.h"
#include "evidence/snp/report.h"
#include "evidence/snp/verifier.h"

namespace ccburst::evidence::snp::testing {

// What to put into a report. Unset byte fields get fixed, recognisable values.
struct ReportSpec {
  uint32_t version = 3;  // 2, 3 or 5
  uint32_t vmpl = 0;
  uint64_t policy = 0x30000;     // SMT allowed + reserved bit 17
  uint64_t platform_info = 0x3;  // SMT and TSME enabled
  SigningKey signing_key = SigningKey::kVcek;
  std::string report_data;  // up to 64 bytes, zero-padded
  std::string host_data;    // up to 32 bytes, zero-padded
  std::string measurement = std::string(48, '\x11');
  // Defaults to the hierarchy's VCEK TCB and chip id.
  std::optional<Tcb> reported_tcb;
  std::optional<std::string> chip_id;
};

struct HierarchyOptions {
  Generation product = Generation::kGenoa;
  core::TimePoint not_before = core::FromUnixSeconds(1577836800);  // 2020-01-01
  core::TimePoint not_after = core::FromUnixSeconds(4102444800);   // 2100-01-01
  // RSA size of ARK/ASK/ASVK (AMD uses 4096; tests use 2048 to keep key generation quick).
  int rsa_bits = 2048;
  Tcb tcb;              // the VCEK/VLEK SPLs; defaults set by Create()
  std::string chip_id;  // 64 bytes; default 0x00..0x3f pattern ^ 0xa5
};

class TestHierarchy {
 public:
  // Generates all keys and certificates. Aborts only when OpenSSL cannot (a broken test setup).
  static std::unique_ptr<TestHierarchy> Create(HierarchyOptions options = {});
  // Reads a hierarchy written by Save, so that one process can create it and others sign reports
  // with it. A missing file is NotFound naming it; unparseable content, or a key that does not
  // belong to its certificate, is InvalidArgument.
  static absl::StatusOr<std::unique_ptr<TestHierarchy>> Load(const std::string& dir);

  // Writes the options (hierarchy.json), the private keys (PKCS#8 PEM, *.key) and certificates
  // (DER, *.der) to `dir`, created if needed. The keys are unencrypted: test material only.
  // I/O failures are Internal naming the file.
  absl::Status Save(const std::string& dir) const;

  // ARK + ASK + ASVK as a trust anchor, and verifier options that trust only it.
  ProductAnchor anchor() const;
  SnpVerifierOptions VerifierOptions() const;

  const std::string& ark_der() const { return ark_der_; }
  const std::string& ask_der() const { return ask_der_; }
  const std::string& asvk_der() const { return asvk_der_; }
  const std::string& vcek_der() const { return vcek_der_; }
  const std::string& vlek_der() const { return vlek_der_; }
  const HierarchyOptions& options() const { return options_; }

  // Issues another VCEK for the same key with other extensions or validity (negative tests); an
  // empty `hwid` leaves the hwID extension out.
  std::string IssueVcek(const Tcb& tcb, const std::string& hwid, core::TimePoint not_before,
                        core::TimePoint not_after) const;

  // An ARK-signed CRL (DER) revoking `serials` (the ASK is 0x10001, the ASVK 0x10101).
  std::string IssueCrl(const std::vector<long>& serials) const;

  // A signed raw 1184-byte report.
  std::string SignReport(const ReportSpec& spec) const;
  // Re-signs `report` bytes after a test edited the signed region.
  std::string Resign(std::string report, SigningKey key = SigningKey::kVcek) const;
  // `{"report": b64, "auxblob": b64(table VCEK|VLEK, ASK|ASVK, ARK)}`, as ccburst's agent sends.
  std::string TsmEvidenceJson(const ReportSpec& spec, bool with_certs = true) const;

 private:
  TestHierarchy() = default;
  HierarchyOptions options_;
  std::unique_ptr<crypto::PrivateKey> ark_;
  std::unique_ptr<crypto::PrivateKey> ask_;
  std::unique_ptr<crypto::PrivateKey> asvk_;
  std::unique_ptr<crypto::PrivateKey> vcek_;
  std::unique_ptr<crypto::PrivateKey> vlek_;
  std::string ark_der_;
  std::string ask_der_;
  std::string asvk_der_;
  std::string vcek_der_;
  std::string vlek_der_;
};

}  // namespace ccburst::evidence::snp::testing
