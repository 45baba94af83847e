// Test-only: a throwaway NVIDIA-shaped device CA (root -> per-GPU BROM CA -> FMC leaf with the
// FWID extension, all ECDSA P-384) that issues GPUs and signs their SPDM 1.1 measurement reports,
// so tests and ccburst-testgen can drive the real verifier with GPUs bound to a live session.
// Never linked by apps/ or the KBS.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::evidence::nvidia::testing {

struct TestGpu {
  std::string chain_pem;  // leaf, BROM, root
  crypto::PrivateKey leaf_key = crypto::PrivateKey::GenerateEcP384();
  std::string fwid;  // 48 bytes, in the leaf's extension and the report's opaque data
};

struct ReportSpec {
  std::string nonce;  // 32 bytes (ExpectedNonce of the device binding)
  std::string driver_version = "550.90.07";
  std::string vbios = std::string("\x00\x9f\x00\x96\x01\x00\x00\x00", 8);  // 96.00.9f.00.01
  size_t blocks = 8;  // measurement i = SHA-384("measurement <i>"), indices 1..blocks
  std::string fwid;   // empty: the GPU's
  // Other firmware: measurement i = SHA-384("other measurement <i>") (matches no generated RIM).
  bool other_firmware = false;
};

class TestDeviceCa {
 public:
  // A root valid over [not_before, not_after]; GPUs get the same window.
  static std::unique_ptr<TestDeviceCa> Create(core::TimePoint not_before,
                                              core::TimePoint not_after);
  // Saves the root certificate (`root.pem`) and its key (`root_key.pem`) to `dir`.
  absl::Status Save(const std::string& dir) const;
  // A CA saved by Save; GPUs get the root's validity window.
  static absl::StatusOr<std::unique_ptr<TestDeviceCa>> Load(const std::string& dir);
  // The root certificate (PEM), for NvidiaVerifierOptions::trust_anchors / the KBS config.
  const std::string& root_pem() const { return root_pem_; }

  // A new GPU: its own BROM CA and FMC leaf; `with_fwid` false leaves the extension out.
  TestGpu MakeGpu(bool with_fwid = true) const;
  // The GPU's report (request || response || signature) for `spec`, signed by its leaf key.
  static std::string MakeReport(const TestGpu& gpu, const ReportSpec& spec);
  // One `device_evidence_list` entry {arch:"HOPPER", uuid, evidence: hex, certificate: base64}.
  static boost::json::object EvidenceEntry(const TestGpu& gpu, std::string_view report,
                                           std::string_view uuid);

 private:
  TestDeviceCa() = default;
  core::TimePoint not_before_, not_after_;
  crypto::PrivateKey root_key_ = crypto::PrivateKey::GenerateEcP384();
  std::string root_der_;
  std::string root_pem_;
};

// The SPDM measurement value at `index` in a generated report: SHA-384("measurement <index>").
std::string GeneratedMeasurement(size_t index);

// What a test RIM holds and how it is signed.
struct RimSpec {
  std::string version = "550.90.07";  // Meta/@colloquialVersion
  // Resources for SPDM indices 1..blocks (RIM index 0..blocks-1) with GeneratedMeasurement values.
  size_t blocks = 8;
  // The signer certificate's validity; the CA's window when unset.
  std::optional<core::TimePoint> signer_not_before, signer_not_after;
  // Sign with a fresh key while KeyInfo names the CA-issued signer (a signature by another key).
  bool foreign_key = false;
};

// A throwaway RIM signing CA (root -> RIM signer, ECDSA P-384) that issues signed SWID-tag RIMs
// shaped like NVIDIA's (enveloped XML-DSig, ecdsa-sha384, exclusive C14N, the signer and the root
// in KeyInfo/X509Data), so tests and ccburst-testgen can drive the RIM verifier.
class TestRimCa {
 public:
  static std::unique_ptr<TestRimCa> Create(core::TimePoint not_before, core::TimePoint not_after);
  // Saves `rim_root.pem` and `rim_root_key.pem` to `dir`; Load reads them back.
  absl::Status Save(const std::string& dir) const;
  static absl::StatusOr<std::unique_ptr<TestRimCa>> Load(const std::string& dir);
  const std::string& root_pem() const { return root_pem_; }

  // A RIM for `spec`, signed by a new signer certificate of this CA.
  std::string MakeRim(const RimSpec& spec) const;
  // The same document without a signature.
  static std::string UnsignedRim(const RimSpec& spec);

 private:
  TestRimCa() = default;
  core::TimePoint not_before_, not_after_;
  crypto::PrivateKey root_key_ = crypto::PrivateKey::GenerateEcP384();
  std::string root_der_;
  std::string root_pem_;
};

}  // namespace ccburst::evidence::nvidia::testing
