// NVIDIA Hopper GPU attestation reports: an SPDM 1.1 GET_MEASUREMENTS request (37 bytes, carrying
// the requester's 32-byte nonce) followed by the device's signed MEASUREMENTS response (DMTF
// measurement blocks, the responder nonce, NVIDIA's opaque-data TLVs with the driver and VBIOS
// versions and the FWID, then a 96-byte ECDSA P-384 signature r||s). The signature covers the
// request and the response up to the signature (DMTF libspdm's "standard measurement report" for
// SPDM 1.0/1.1). The response is self-delimiting: the signature is located from the measurement
// record length and the opaque-data length, never from the end, because real reports carry
// bytes after it (counted in `trailing_bytes`, not signed).
//
// Parsing is pure and checks structure only; evidence/nvidia/verifier.h checks signatures,
// certificates and the nonce. ../shared/testdata/nvidia/README.md describes the layout.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ccburst::evidence::nvidia {

inline constexpr uint8_t kSpdmVersion11 = 0x11;
inline constexpr uint8_t kGetMeasurements = 0xE0;
inline constexpr uint8_t kMeasurements = 0x60;
inline constexpr uint8_t kDmtfMeasurementSpecification = 0x01;
inline constexpr size_t kNonceSize = 32;
inline constexpr size_t kRequestSize = 37;
inline constexpr size_t kSignatureSize = 96;  // ECDSA P-384 r||s
inline constexpr size_t kFwidSize = 48;       // SHA-384

// One SPDM measurement block in the DMTF format.
struct MeasurementBlock {
  uint8_t index = 0;
  uint8_t value_type = 0;  // DMTFSpecMeasurementValueType (0x01: mutable firmware, digest)
  std::string value;       // raw bytes (48 for SHA-384 digests)
};

// One opaque-data item (DataType u16 LE, DataSize u16 LE, Data).
struct OpaqueItem {
  uint16_t type = 0;
  std::string data;
};

// Opaque-data types the reference verifier knows (1-25, 32-36); anything else is refused.
inline constexpr uint16_t kOpaqueDriverVersion = 3;
inline constexpr uint16_t kOpaqueVbiosVersion = 6;
inline constexpr uint16_t kOpaqueNvdec0Status = 11;
inline constexpr uint16_t kOpaqueMeasurementCount = 12;
inline constexpr uint16_t kOpaqueFwid = 20;
inline constexpr uint16_t kOpaqueProtectedPcieStatus = 21;

// The name of opaque-data type `type` as nvtrust and Trustee spell it ("driver_version"); empty
// for an unknown type.
std::string_view OpaqueTypeName(uint16_t type);

struct Report {
  std::string bytes;  // the whole report as received, trailing bytes included

  // Request.
  uint8_t request_param1 = 0;  // bit 0: signature requested
  uint8_t request_param2 = 0;  // 0xFF: all measurements
  std::string request_nonce;   // 32 bytes
  uint8_t slot_id = 0;

  // Response.
  uint8_t response_param1 = 0;
  uint8_t response_param2 = 0;
  std::vector<MeasurementBlock> measurements;  // in report order, indices unique
  std::string responder_nonce;                 // 32 bytes
  std::vector<OpaqueItem> opaque;              // in report order, types unique
  std::string signature;                       // 96 bytes r||s
  size_t signature_offset = 0;                 // from the start of `bytes`
  size_t trailing_bytes = 0;                   // after the signature

  // request || response without the signature: what the device signed.
  std::string_view signed_bytes() const {
    return std::string_view(bytes).substr(0, signature_offset);
  }
  // The opaque item of `type`, or null.
  const OpaqueItem* Opaque(uint16_t type) const;
};

// Parses and checks the structure: request of 37 bytes with SPDM version 0x11, code 0xE0 and the
// signature-requested bit; response with version 0x11 and code 0x60; NumberOfBlocks DMTF blocks
// that fill MeasurementRecordLength exactly, each block's MeasurementSize equal to its DMTF header
// plus value, unique indices; opaque TLVs of known, unique types that fill OpaqueLength exactly,
// with driver_version, vbios_version and a 48-byte fwid; the 96-byte signature right after. Bytes
// after the signature are accepted and counted. InvalidArgument "nvidia: report: <field> ..."
// naming the failed check and its offset.
absl::StatusOr<Report> ParseReport(std::string_view bytes);

// The `config` claim object: every opaque item under its name, rendered as the reference verifier
// does (strings NUL-trimmed, vbios_version dotted, measurement_count a map "1".."n", integers,
// lists of hex, everything else hex). InvalidArgument for an item whose size its rendering does
// not allow (measurement_count not a multiple of 4, an integer over 8 bytes, ...).
absl::StatusOr<boost::json::object> ConfigClaims(const Report& report);

// The `measurements` claim object: SPDM index (decimal string) -> value (lowercase hex).
boost::json::object MeasurementClaims(const Report& report);

}  // namespace ccburst::evidence::nvidia
