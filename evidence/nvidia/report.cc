#include "evidence/nvidia/report.h"

#include <fmt/format.h>

#include <set>

#include "core/byte_reader.h"
#include "core/encoding.h"

namespace ccburst::evidence::nvidia {
namespace {

constexpr char kWhat[] = "nvidia: report";

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", kWhat, message));
}

// Opaque bytes as a claim string: NUL-trimmed at the end, bytes outside printable ASCII replaced
// by U+FFFD so the claim stays valid UTF-8 whatever the device sent.
std::string OpaqueString(std::string_view data) {
  while (!data.empty() && data.back() == '\0') data.remove_suffix(1);
  std::string out;
  for (char c : data) {
    auto b = static_cast<uint8_t>(c);
    if (b >= 0x20 && b < 0x7f) {
      out.push_back(c);
    } else {
      out += "\xEF\xBF\xBD";
    }
  }
  return out;
}

absl::StatusOr<uint64_t> LeInteger(const OpaqueItem& item) {
  if (item.data.size() > 8) {
    return Invalid(fmt::format("opaque item {} has {} bytes, more than an 8-byte integer",
                               OpaqueTypeName(item.type), item.data.size()));
  }
  uint64_t v = 0;
  for (size_t i = item.data.size(); i > 0; --i)
    v = (v << 8) | static_cast<uint8_t>(item.data[i - 1]);
  return v;
}

// VBIOS version: the first half of the bytes reversed, then the first byte of the second half,
// dotted hex ("009f009601000000" -> "96.00.9f.00.01").
std::string VbiosVersion(std::string_view data) {
  std::string out;
  size_t half = data.size() / 2;
  for (size_t i = half; i > 0; --i) {
    if (!out.empty()) out.push_back('.');
    out += core::HexEncode(data.substr(i - 1, 1));
  }
  return fmt::format("{}.{}", out, core::HexEncode(data.substr(half, 1)));
}

absl::Status ReadRequest(core::ByteReader& r, Report* report) {
  uint8_t version = 0, code = 0;
  CCB_RETURN_IF_ERROR(r.U8("request SPDMVersion", &version));
  if (version != kSpdmVersion11) {
    return Invalid(fmt::format("request SPDM version 0x{:02x} is not 1.1 (0x11)", version));
  }
  CCB_RETURN_IF_ERROR(r.U8("request RequestResponseCode", &code));
  if (code != kGetMeasurements) {
    return Invalid(fmt::format("request code 0x{:02x} is not GET_MEASUREMENTS (0xe0)", code));
  }
  CCB_RETURN_IF_ERROR(r.U8("request Param1", &report->request_param1));
  if ((report->request_param1 & 0x01) == 0) {
    return Invalid("request Param1 does not ask for a signature");
  }
  CCB_RETURN_IF_ERROR(r.U8("request Param2", &report->request_param2));
  CCB_RETURN_IF_ERROR(r.Bytes(kNonceSize, "request Nonce", &report->request_nonce));
  return r.U8("request SlotIDParam", &report->slot_id);
}

absl::Status ReadBlocks(core::ByteReader& record, size_t count, Report* report) {
  std::set<uint8_t> seen;
  for (size_t i = 0; i < count; ++i) {
    MeasurementBlock block;
    uint8_t spec = 0;
    uint16_t size = 0;
    CCB_RETURN_IF_ERROR(record.U8("measurement block Index", &block.index));
    CCB_RETURN_IF_ERROR(record.U8("measurement block MeasurementSpecification", &spec));
    if (spec != kDmtfMeasurementSpecification) {
      return Invalid(fmt::format(
          "measurement block {} (index {}) has MeasurementSpecification 0x{:02x}, not DMTF (0x01)",
          i, block.index, spec));
    }
    CCB_RETURN_IF_ERROR(record.U16("measurement block MeasurementSize", &size));
    core::ByteReader m;
    CCB_RETURN_IF_ERROR(record.Sub(size, "measurement block Measurement",
                                   fmt::format("{}: measurement block {}", kWhat, i), &m));
    uint16_t value_size = 0;
    CCB_RETURN_IF_ERROR(m.U8("DMTFSpecMeasurementValueType", &block.value_type));
    CCB_RETURN_IF_ERROR(m.U16("DMTFSpecMeasurementValueSize", &value_size));
    if (size_t{3} + value_size != size) {
      return Invalid(fmt::format(
          "measurement block {} (index {}) has MeasurementSize {} but its DMTF value header "
          "says {} bytes",
          i, block.index, size, size_t{3} + value_size));
    }
    CCB_RETURN_IF_ERROR(m.Bytes(value_size, "DMTFSpecMeasurementValue", &block.value));
    if (!seen.insert(block.index).second) {
      return Invalid(fmt::format("measurement index {} appears twice", block.index));
    }
    report->measurements.push_back(std::move(block));
  }
  if (!record.empty()) {
    return Invalid(fmt::format("{} bytes of the measurement record follow its {} blocks",
                               record.remaining(), count));
  }
  return absl::OkStatus();
}

absl::Status ReadOpaque(core::ByteReader& opaque, Report* report) {
  std::set<uint16_t> seen;
  while (!opaque.empty()) {
    OpaqueItem item;
    uint16_t size = 0;
    CCB_RETURN_IF_ERROR(opaque.U16("opaque DataType", &item.type));
    CCB_RETURN_IF_ERROR(opaque.U16("opaque DataSize", &size));
    if (OpaqueTypeName(item.type).empty()) {
      return Invalid(fmt::format("opaque data type {} is unknown", item.type));
    }
    CCB_RETURN_IF_ERROR(opaque.Bytes(size, "opaque Data", &item.data));
    if (!seen.insert(item.type).second) {
      return Invalid(fmt::format("opaque data type {} ({}) appears twice",
                                 OpaqueTypeName(item.type), item.type));
    }
    report->opaque.push_back(std::move(item));
  }
  for (uint16_t required : {kOpaqueDriverVersion, kOpaqueVbiosVersion, kOpaqueFwid}) {
    if (report->Opaque(required) == nullptr) {
      return Invalid(fmt::format("opaque data has no {}", OpaqueTypeName(required)));
    }
  }
  if (const OpaqueItem* v = report->Opaque(kOpaqueVbiosVersion); v->data.empty()) {
    return Invalid("opaque vbios_version is empty");
  }
  if (size_t n = report->Opaque(kOpaqueFwid)->data.size(); n != kFwidSize) {
    return Invalid(fmt::format("opaque fwid has {} bytes, not {}", n, kFwidSize));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view OpaqueTypeName(uint16_t type) {
  switch (type) {
    case 1:
      return "cert_issuer_name";
    case 2:
      return "cert_authority_key_identifier";
    case 3:
      return "driver_version";
    case 4:
      return "gpu_info";
    case 5:
      return "id_sku";
    case 6:
      return "vbios_version";
    case 7:
      return "manufacturer_id";
    case 8:
      return "tamper_detection";
    case 9:
      return "smc";
    case 10:
      return "vpr";
    case 11:
      return "nvdec0_status";
    case 12:
      return "measurement_count";
    case 13:
      return "cpr_info";
    case 14:
      return "board_id";
    case 15:
      return "chip_sku";
    case 16:
      return "chip_sku_mod";
    case 17:
      return "project";
    case 18:
      return "project_sku";
    case 19:
      return "project_sku_mod";
    case 20:
      return "fwid";
    case 21:
      return "protected_pcie_status";
    case 22:
      return "switch_pdi";
    case 23:
      return "floorswept_ports";
    case 24:
      return "position_id";
    case 25:
      return "lock_switch_status";
    case 32:
      return "gpu_link_conn";
    case 33:
      return "sys_enable_status";
    case 34:
      return "opaque_data_version";
    case 35:
      return "chip_info";
    case 36:
      return "feature_flag";
    default:
      return {};
  }
}

const OpaqueItem* Report::Opaque(uint16_t type) const {
  for (const OpaqueItem& item : opaque) {
    if (item.type == type) return &item;
  }
  return nullptr;
}

absl::StatusOr<Report> ParseReport(std::string_view bytes) {
  Report report;
  report.bytes = std::string(bytes);
  core::ByteReader r(report.bytes, kWhat);
  CCB_RETURN_IF_ERROR(ReadRequest(r, &report));

  uint8_t version = 0, code = 0, blocks = 0;
  CCB_RETURN_IF_ERROR(r.U8("response SPDMVersion", &version));
  if (version != kSpdmVersion11) {
    return Invalid(fmt::format("response SPDM version 0x{:02x} is not 1.1 (0x11)", version));
  }
  CCB_RETURN_IF_ERROR(r.U8("response RequestResponseCode", &code));
  if (code != kMeasurements) {
    return Invalid(fmt::format("response code 0x{:02x} is not MEASUREMENTS (0x60)", code));
  }
  CCB_RETURN_IF_ERROR(r.U8("response Param1", &report.response_param1));
  CCB_RETURN_IF_ERROR(r.U8("response Param2", &report.response_param2));
  CCB_RETURN_IF_ERROR(r.U8("response NumberOfBlocks", &blocks));
  std::string_view len3;
  CCB_RETURN_IF_ERROR(r.View(3, "response MeasurementRecordLength", &len3));
  size_t record_length = static_cast<uint8_t>(len3[0]) | (static_cast<uint8_t>(len3[1]) << 8) |
                         (static_cast<size_t>(static_cast<uint8_t>(len3[2])) << 16);
  core::ByteReader record;
  CCB_RETURN_IF_ERROR(r.Sub(record_length, "response MeasurementRecord",
                            fmt::format("{}: measurement record", kWhat), &record));
  CCB_RETURN_IF_ERROR(ReadBlocks(record, blocks, &report));
  CCB_RETURN_IF_ERROR(r.Bytes(kNonceSize, "response Nonce", &report.responder_nonce));
  uint16_t opaque_length = 0;
  CCB_RETURN_IF_ERROR(r.U16("response OpaqueLength", &opaque_length));
  core::ByteReader opaque;
  CCB_RETURN_IF_ERROR(
      r.Sub(opaque_length, "response OpaqueData", fmt::format("{}: opaque data", kWhat), &opaque));
  CCB_RETURN_IF_ERROR(ReadOpaque(opaque, &report));
  report.signature_offset = r.offset();
  CCB_RETURN_IF_ERROR(r.Bytes(kSignatureSize, "response Signature", &report.signature));
  report.trailing_bytes = r.remaining();
  return report;
}

absl::StatusOr<boost::json::object> ConfigClaims(const Report& report) {
  boost::json::object config;
  for (const OpaqueItem& item : report.opaque) {
    std::string_view name = OpaqueTypeName(item.type);
    boost::json::value v;
    switch (item.type) {
      case 3:   // driver_version
      case 11:  // nvdec0_status
      case 15:  // chip_sku
      case 16:  // chip_sku_mod
      case 17:  // project
      case 18:  // project_sku
      case 21:  // protected_pcie_status
      case 35:  // chip_info
        v = OpaqueString(item.data);
        break;
      case kOpaqueVbiosVersion:
        v = VbiosVersion(item.data);
        break;
      case kOpaqueMeasurementCount: {
        if (item.data.size() % 4 != 0) {
          return Invalid(fmt::format("opaque measurement_count has {} bytes, not a multiple of 4",
                                     item.data.size()));
        }
        boost::json::object counts;
        core::ByteReader c(item.data, kWhat);
        for (size_t i = 1; !c.empty(); ++i) {
          uint32_t n = 0;
          CCB_RETURN_IF_ERROR(c.U32("measurement_count", &n));
          counts[std::to_string(i)] = n;
        }
        v = std::move(counts);
        break;
      }
      case 22: {  // switch_pdi
        if (item.data.size() % 8 != 0) {
          return Invalid(
              fmt::format("opaque switch_pdi has {} bytes, not a multiple of 8", item.data.size()));
        }
        boost::json::array pdis;
        for (size_t i = 0; i < item.data.size(); i += 8) {
          pdis.emplace_back(core::HexEncode(std::string_view(item.data).substr(i, 8)));
        }
        v = std::move(pdis);
        break;
      }
      case 34: {  // opaque_data_version
        CCB_ASSIGN_OR_RETURN(uint64_t n, LeInteger(item));
        v = n;
        break;
      }
      case 36: {  // feature_flag
        CCB_ASSIGN_OR_RETURN(uint64_t n, LeInteger(item));
        v = n == 0 ? "SPT" : n == 1 ? "MPT" : n == 2 ? "PPCIE" : "unknown";
        break;
      }
      default:
        v = core::HexEncode(item.data);
    }
    config[name] = std::move(v);
  }
  return config;
}

boost::json::object MeasurementClaims(const Report& report) {
  boost::json::object m;
  for (const MeasurementBlock& b : report.measurements) {
    m[std::to_string(b.index)] = core::HexEncode(b.value);
  }
  return m;
}

}  // namespace ccburst::evidence::nvidia
