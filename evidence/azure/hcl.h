// The HCL report of Azure confidential VMs: what the paravisor (HCL) returns from the vTPM NV index
// 0x01400001. Layout (az-cvm-vtpm `hcl` module; all integers little-endian):
//   [0, 32)     header: signature "HCLA", version, report_size, request_type, status, 3 reserved
//   [32, 1216)  hardware report: an SEV-SNP attestation report (1184 bytes) or a TDREPORT (first
//               1024 bytes), zero-padded
//   [1216,1236) IGVM request data: data_size, version, report_type (2 SNP, 4 TDX),
//               report_data_hash_type (1 SHA-256), variable_data_size
//   [1236, ...) the variable data: the runtime-claims JSON, hashed verbatim
// The hardware report's REPORT_DATA[0:32] is SHA-256(variable data), so everything in the JSON
// (the vTPM attestation key HCLAkPub, HCLEkPub, vm-configuration, user-data) is as trustworthy as
// the hardware report. Errors start with "hcl report: "; malformed input is InvalidArgument.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::evidence::azure {

inline constexpr size_t kHclHeaderSize = 32;
inline constexpr size_t kHclHwReportSize = 1184;
inline constexpr size_t kHclRequestDataOffset = kHclHeaderSize + kHclHwReportSize;  // 1216
inline constexpr size_t kHclVarDataOffset = kHclRequestDataOffset + 20;             // 1236
inline constexpr uint32_t kHclSignature = 0x414c4348;                               // "HCLA"
inline constexpr size_t kTdReportSize = 1024;
// REPORTDATA inside a TDREPORT (REPORTMACSTRUCT offset 128, 64 bytes).
inline constexpr size_t kTdReportReportDataOffset = 128;
// TDINFO inside a TDREPORT (offset 512): ATTRIBUTES (8), XFAM (8), MRTD, MRCONFIGID, MROWNER,
// MROWNERCONFIG (48 each), RTMR0..3 (48 each). The quoting enclave copies them into the TD quote's
// body, so they are the TD's measurements as Azure's IMDS quotes them.
inline constexpr size_t kTdReportAttributesOffset = 512;
inline constexpr size_t kTdReportXfamOffset = 520;
inline constexpr size_t kTdReportMrTdOffset = 528;
inline constexpr size_t kTdReportMrConfigIdOffset = 576;
inline constexpr size_t kTdReportRtmrOffset = 720;

enum class HwReportType : uint32_t { kSnp = 2, kTdx = 4 };
std::string_view HwReportTypeName(HwReportType t);  // "SNP", "TDX"

struct HclReport {
  uint32_t version = 0;
  uint32_t report_size = 0;
  uint32_t request_type = 0;
  uint32_t status = 0;
  uint32_t igvm_version = 0;
  HwReportType type = HwReportType::kSnp;
  // The hardware report: 1184 bytes (SNP report) or 1024 bytes (TDREPORT).
  std::string hw_report;
  std::string var_data;  // verbatim
  std::string var_data_sha256;
  // REPORT_DATA of the hardware report (64 bytes).
  std::string_view hw_report_data() const;
};

// Parses `bytes` (trailing padding after the variable data allowed). Errors name the field: a bad
// signature, a report type other than 2/4, a hash type other than SHA-256, a data_size that does
// not match the variable data, a report_size shorter than header + variable data, or variable data
// that runs past the buffer.
absl::StatusOr<HclReport> ParseHclReport(std::string_view bytes);

// The runtime-claims JSON in the variable data.
struct RuntimeData {
  crypto::PublicKey ak_pub;                   // HCLAkPub, RSA >= 2048 bits
  std::optional<boost::json::object> ek_pub;  // HCLEkPub as the JWK it is
  boost::json::object vm_configuration;       // {} when absent
  std::optional<std::string> user_data;       // hex-decoded `user-data`
};

// Parses the variable data: JSON object with `keys` (JWKs; the one with kid "HCLAkPub" must be
// RSA with at least 2048 bits), optional `vm-configuration` object and `user-data` hex string.
// InvalidArgument "hcl report: ..." naming the problem.
absl::StatusOr<RuntimeData> ParseRuntimeData(std::string_view var_data);

// Builds an HCL report (version 2) around `hw_report` and `var_data` (test generators): the hw
// report is zero-padded to 1184 bytes, the buffer to 2600 bytes when shorter.
std::string BuildHclReport(HwReportType type, std::string_view hw_report,
                           std::string_view var_data);

}  // namespace ccburst::evidence::azure
