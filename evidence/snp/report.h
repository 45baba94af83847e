// AMD SEV-SNP attestation report (SEV-SNP Firmware ABI specification, table "ATTESTATION_REPORT
// Structure"): the 1184-byte report a guest gets from the AMD secure processor, parsed into typed
// fields through one bounds-checked reader. Versions 2, 3 and 5 are understood: v3 adds the CPUID
// family/model/stepping bytes, v5 the mitigation vectors. The TCB_VERSION layout depends on the
// processor generation (Milan/Genoa: boot loader, TEE, SNP, microcode at bytes 0, 1, 6, 7;
// Turin: FMC, boot loader, TEE, SNP, microcode at bytes 0, 1, 2, 3, 7). The signature covers bytes
// [0, 0x2A0); R and S are 72-byte little-endian fields at 0x2A0 and 0x2E8.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::evidence::snp {

inline constexpr size_t kReportSize = 1184;
inline constexpr size_t kSignedSize = 0x2A0;
inline constexpr size_t kSignatureROffset = 0x2A0;
inline constexpr size_t kSignatureSOffset = 0x2E8;
inline constexpr size_t kSignatureFieldSize = 72;
// SIGNATURE_ALGO value for ECDSA P-384 with SHA-384.
inline constexpr uint32_t kSigAlgoEcdsaP384Sha384 = 1;

enum class Generation { kUnknown, kMilan, kGenoa, kTurin };
// "Milan", "Genoa", "Turin" (the KDS product names); "unknown" otherwise.
std::string_view GenerationName(Generation g);
// Inverse of GenerationName, also accepting a stepping suffix ("Milan-B0"); kUnknown otherwise.
Generation GenerationFromName(std::string_view name);
// The generation from the report's CPUID family/model (family 0x19 models 0x00-0x0f Milan,
// 0x10-0x1f and 0xa0-0xaf Genoa; family 0x1a models 0x00-0x11 Turin); kUnknown otherwise.
Generation GenerationFromCpuid(uint8_t family, uint8_t model);

// Which key signed the report (KEY_INFO bits 4:2).
enum class SigningKey { kVcek, kVlek, kNone, kReserved };
std::string_view SigningKeyName(SigningKey k);

// A decoded TCB_VERSION. `fmc` is set for the Turin layout only.
struct Tcb {
  uint64_t raw = 0;  // the 8 bytes read as a little-endian integer
  std::optional<uint8_t> fmc;
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  bool operator==(const Tcb&) const = default;
};
// Decodes the 8 raw bytes (little-endian u64) with the layout of `g` (Turin layout only for
// kTurin).
Tcb DecodeTcb(uint64_t raw, Generation g);
// Inverse of DecodeTcb (reserved bytes zero).
uint64_t EncodeTcb(const Tcb& tcb, Generation g);

// Guest policy bits.
struct Policy {
  uint64_t raw = 0;
  uint8_t abi_minor() const { return raw & 0xff; }
  uint8_t abi_major() const { return (raw >> 8) & 0xff; }
  bool smt_allowed() const { return (raw >> 16) & 1; }
  bool reserved_bit17() const { return (raw >> 17) & 1; }
  bool migrate_ma_allowed() const { return (raw >> 18) & 1; }
  bool debug_allowed() const { return (raw >> 19) & 1; }
  bool single_socket_required() const { return (raw >> 20) & 1; }
};

// PLATFORM_INFO bits.
struct PlatformInfo {
  uint64_t raw = 0;
  bool smt_enabled() const { return raw & 1; }
  bool tsme_enabled() const { return (raw >> 1) & 1; }
};

struct FirmwareVersion {
  uint8_t major = 0;
  uint8_t minor = 0;
  uint8_t build = 0;
};

// A parsed report. Byte-array fields keep the report's byte order. The report's bytes are kept in
// `bytes` so the signature can be checked over exactly what was signed.
struct Report {
  std::string bytes;  // all 1184 bytes
  uint32_t version = 0;
  uint32_t guest_svn = 0;
  Policy policy;
  std::string family_id;  // 16
  std::string image_id;   // 16
  uint32_t vmpl = 0;
  uint32_t signature_algo = 0;
  Tcb current_tcb;
  PlatformInfo platform_info;
  uint32_t key_info = 0;          // bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_ID, bits 4:2 SIGNING_KEY
  std::string report_data;        // 64
  std::string measurement;        // 48
  std::string host_data;          // 32
  std::string id_key_digest;      // 48
  std::string author_key_digest;  // 48
  std::string report_id;          // 32
  std::string report_id_ma;       // 32
  Tcb reported_tcb;
  // v3+ only.
  std::optional<uint8_t> cpuid_family;
  std::optional<uint8_t> cpuid_model;
  std::optional<uint8_t> cpuid_stepping;
  std::string chip_id;  // 64
  Tcb committed_tcb;
  FirmwareVersion current_fw;
  FirmwareVersion committed_fw;
  Tcb launch_tcb;
  // v5+ only.
  std::optional<uint64_t> launch_mit_vector;
  std::optional<uint64_t> current_mit_vector;
  std::string signature_r;  // 72 bytes, little-endian
  std::string signature_s;  // 72 bytes, little-endian
  // From the CPUID fields (v3+); kUnknown for v2, whose TCBs are decoded with the Milan/Genoa
  // layout (Turin firmware only produces v3+ reports).
  Generation generation = Generation::kUnknown;

  SigningKey signing_key() const;
  bool author_key_en() const { return key_info & 1; }
  bool mask_chip_id() const { return (key_info >> 1) & 1; }
  // The signed region, bytes [0, 0x2A0).
  std::string_view signed_bytes() const { return std::string_view(bytes).substr(0, kSignedSize); }
};

// Parses a raw report. Anything but exactly 1184 bytes, a version outside 2..5 (v4 is accepted
// as laid out like v3) or a v3+ report with an unsupported CPUID family/model is InvalidArgument
// naming the field ("snp: report is 100 bytes, expected 1184"). Never reads out of bounds.
absl::StatusOr<Report> ParseReport(std::string_view bytes);

// Re-encodes the TCB fields of `report` with generation `g` (used when the generation of a v2
// report becomes known only from its certificate; a no-op for Milan/Genoa).
void RedecodeTcbs(Report& report, Generation g);

// The signature as raw big-endian r||s (48 bytes each) for crypto::VerifyEcdsa. Fails with
// PermissionDenied when the 24 high bytes of either 72-byte little-endian field are not zero.
absl::StatusOr<std::string> SignatureRawBigEndian(const Report& report);

}  // namespace ccburst::evidence::snp
