// NVIDIA RIMs (Reference Integrity Manifests): the golden measurements NVIDIA publishes for each
// driver and VBIOS, as signed SWID tags (ISO/IEC 19770-2:2015 XML, enveloped XML-DSig signature,
// the signing chain in ds:KeyInfo/ds:X509Data, leaf first). Verified offline at an explicit time
// against configured RIM trust anchors, then turned into the `nvidia_measurements` reference value
// that default_gpu.rego compares with a GPU's SPDM measurements.
//
// Checks, in order (the first failing one is reported as a RimCheck and a message naming it,
// "nvidia rim: ..."): the document is well formed XML without a DTD, its root is a
// SoftwareIdentity and it holds exactly one ds:Signature, a child of the root (`parse`, `unsigned`
// when there is no signature); KeyInfo carries the chain, which ends in (or is issued by) a trust
// anchor (`untrusted-root`), each certificate is issued by the next (names and signature) and every
// issuer is a CA allowed to sign certificates (`chain-signature`), every certificate is valid at
// the verification time (`chain-expired`), the leaf is an end entity allowed to sign (`signer`);
// the XML-DSig signature verifies with the leaf's key, with exactly one Reference (URI="", the
// whole document but the signature) and only the enveloped-signature and C14N transforms
// (`signature`); then the payload: Resources with `index`, `active`, `alternatives` and SHA-384
// `Hash<i>` values, unique indices, at least one measurement (`measurements`).
//
// XML and XML-DSig are libxml2 and xmlsec1 (OpenSSL engine); both are initialised once per process
// (the only global state), network access and entity substitution are off.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/certificate.h"

namespace ccburst::evidence::nvidia {

// The check that refused a RIM.
enum class RimCheck {
  kNone,
  kParse,
  kUnsigned,
  kUntrustedRoot,
  kChainSignature,
  kChainExpired,
  kSigner,
  kSignature,
  kMeasurements,
};
// "parse", "unsigned", "untrusted-root", "chain-signature", "chain-expired", "signer",
// "signature", "measurements"; "none" for kNone.
std::string_view RimCheckName(RimCheck check);

// RIM files larger than this are refused before parsing (NVIDIA's are tens of kilobytes).
inline constexpr size_t kMaxRimBytes = size_t{4} << 20;
// At most this many Resources and alternatives per Resource.
inline constexpr size_t kMaxRimMeasurements = 1024;
inline constexpr size_t kMaxRimAlternatives = 16;

// One golden measurement (a Payload Resource).
struct RimMeasurement {
  uint32_t index = 0;  // RIM index; the SPDM measurement index is index + 1
  std::string name;
  bool active = true;               // inactive ones are not compared (the reference's rule)
  uint64_t size = 0;                // `size` attribute, as given
  std::vector<std::string> values;  // lowercase hex SHA-384, the `alternatives` accepted values
};

struct Rim {
  std::string tag_id;   // SoftwareIdentity/@tagId
  std::string name;     // SoftwareIdentity/@name
  std::string version;  // Meta/@colloquialVersion, lowercased (the driver or VBIOS version)
  std::vector<RimMeasurement> measurements;                       // in document order
  std::vector<std::shared_ptr<const crypto::Certificate>> chain;  // leaf first, anchor last
};

// {"<SPDM index>": "<hex>" or ["<hex>", ...]} for the active measurements of `rim` (a single value
// when the Resource has one alternative), the shape of the `nvidia_measurements` reference value.
boost::json::object RimReferenceMeasurements(const Rim& rim);

// Adds `add` to `into` (both in the shape above). An index present in both with a different value
// is InvalidArgument "nvidia rim: SPDM index <i> has golden values in two RIMs" (the reference
// refuses a measurement active in both the driver and the VBIOS RIM).
absl::Status MergeReferenceMeasurements(boost::json::object& into, const boost::json::object& add);

struct RimVerifierOptions {
  // Trust anchors (PEM or DER), at least one: NVIDIA's RIM signing root, or a test RIM CA.
  std::vector<std::string> trust_anchors;
  // Shared decoding cache; null makes a private one.
  std::shared_ptr<crypto::CertificateCache> cache;
};

class RimVerifier {
 public:
  // No anchor, or an unreadable one, is InvalidArgument.
  static absl::StatusOr<std::unique_ptr<RimVerifier>> Create(RimVerifierOptions options);

  // Every check on `xml` at `now`. PermissionDenied for a failed verification and InvalidArgument
  // for a malformed document, messages starting "nvidia rim: "; `*failed` (when not null) receives
  // the failed check, kNone on success. Thread-safe.
  absl::StatusOr<Rim> Verify(std::string_view xml, core::TimePoint now,
                             RimCheck* failed = nullptr) const;

 private:
  RimVerifier() = default;
  std::shared_ptr<crypto::CertificateCache> cache_;
  std::vector<std::shared_ptr<const crypto::Certificate>> anchors_;
};

// Where RIMs come from by RIM ID (NVIDIA's RIM service: collateral/nvidia). Implementations must
// be thread-safe and must not block a request for long (collateral/ bounds them with a
// net::FetchGate).
class RimSource {
 public:
  virtual ~RimSource() = default;
  // The RIM document (XML) with `id`: NotFound when the service has none, Unavailable when it
  // cannot be asked now.
  virtual absl::StatusOr<std::string> FetchRim(const std::string& id) const = 0;
};

// The RIM IDs of a GPU from its `config` claims, as NVIDIA's RIM service names them: the driver
// RIM "NV_GPU_DRIVER_GH100_<driver_version>", and the VBIOS RIM
// "NV_GPU_VBIOS_<project>_<project_sku>_<chip_sku>_<VBIOS version without dots, upper case>" when
// the report carries project, project_sku and chip_sku.
std::vector<std::string> DeviceRimIds(const boost::json::object& config);

// The payload of a RIM without any signature or chain check (for the fuzz target and for
// inspecting a file): the parse and measurement checks of RimVerifier::Verify.
absl::StatusOr<Rim> ParseRimUnverified(std::string_view xml);

}  // namespace ccburst::evidence::nvidia
