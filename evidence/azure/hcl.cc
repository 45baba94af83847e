#include "evidence/azure/hcl.h"

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"

namespace ccburst::evidence::azure {
namespace {

namespace json = boost::json;

constexpr uint32_t kHashTypeSha256 = 1;
constexpr size_t kMinAkBits = 2048;

void PutU32(std::string* out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::string_view HwReportTypeName(HwReportType t) {
  return t == HwReportType::kSnp ? "SNP" : "TDX";
}

std::string_view HclReport::hw_report_data() const {
  // SNP REPORT_DATA is at 0x50 in the attestation report.
  size_t at = type == HwReportType::kSnp ? 0x50 : kTdReportReportDataOffset;
  return std::string_view(hw_report).substr(at, 64);
}

absl::StatusOr<HclReport> ParseHclReport(std::string_view bytes) {
  core::ByteReader r(bytes, "hcl report");
  HclReport h;
  uint32_t signature = 0;
  std::string_view skip;
  CCB_RETURN_IF_ERROR(r.U32("signature", &signature));
  if (signature != kHclSignature) {
    return absl::InvalidArgumentError(
        fmt::format("hcl report: signature {:#010x} is not \"HCLA\"", signature));
  }
  CCB_RETURN_IF_ERROR(r.U32("version", &h.version));
  CCB_RETURN_IF_ERROR(r.U32("report_size", &h.report_size));
  CCB_RETURN_IF_ERROR(r.U32("request_type", &h.request_type));
  CCB_RETURN_IF_ERROR(r.U32("status", &h.status));
  CCB_RETURN_IF_ERROR(r.View(12, "reserved", &skip));
  std::string_view hw;
  CCB_RETURN_IF_ERROR(r.View(kHclHwReportSize, "hardware report", &hw));
  uint32_t data_size = 0, report_type = 0, hash_type = 0, var_size = 0;
  CCB_RETURN_IF_ERROR(r.U32("igvm data_size", &data_size));
  CCB_RETURN_IF_ERROR(r.U32("igvm version", &h.igvm_version));
  CCB_RETURN_IF_ERROR(r.U32("igvm report_type", &report_type));
  CCB_RETURN_IF_ERROR(r.U32("igvm report_data_hash_type", &hash_type));
  CCB_RETURN_IF_ERROR(r.U32("igvm variable_data_size", &var_size));
  if (report_type == static_cast<uint32_t>(HwReportType::kSnp)) {
    h.type = HwReportType::kSnp;
    h.hw_report.assign(hw);
  } else if (report_type == static_cast<uint32_t>(HwReportType::kTdx)) {
    h.type = HwReportType::kTdx;
    h.hw_report.assign(hw.substr(0, kTdReportSize));
  } else {
    return absl::InvalidArgumentError(
        fmt::format("hcl report: igvm report_type {} is neither SNP (2) nor TDX (4)", report_type));
  }
  if (hash_type != kHashTypeSha256) {
    return absl::InvalidArgumentError(
        fmt::format("hcl report: igvm report_data_hash_type {} is not SHA-256 (1)", hash_type));
  }
  if (static_cast<uint64_t>(data_size) != 20 + static_cast<uint64_t>(var_size)) {
    return absl::InvalidArgumentError(
        fmt::format("hcl report: igvm data_size {} does not match 20 + variable_data_size {}",
                    data_size, var_size));
  }
  if (static_cast<uint64_t>(h.report_size) < kHclVarDataOffset + static_cast<uint64_t>(var_size)) {
    return absl::InvalidArgumentError(fmt::format(
        "hcl report: report_size {} is shorter than the {} bytes of header, hardware report and "
        "variable data",
        h.report_size, kHclVarDataOffset + static_cast<uint64_t>(var_size)));
  }
  std::string_view var;
  CCB_RETURN_IF_ERROR(r.View(var_size, "variable data", &var));
  h.var_data.assign(var);
  h.var_data_sha256 = crypto::Sha256(h.var_data);
  return h;
}

absl::StatusOr<RuntimeData> ParseRuntimeData(std::string_view var_data) {
  auto parsed = core::ParseJson(var_data);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("hcl report: variable data is not JSON: {}", core::Message(parsed.status())));
  }
  if (!parsed->is_object()) {
    return absl::InvalidArgumentError("hcl report: variable data is not a JSON object");
  }
  const json::object& o = parsed->as_object();
  const json::value* keys = o.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    return absl::InvalidArgumentError("hcl report: variable data has no `keys` array");
  }
  std::optional<json::object> ek_pub;
  const json::object* ak = nullptr;
  for (const json::value& k : keys->as_array()) {
    if (!k.is_object()) {
      return absl::InvalidArgumentError("hcl report: variable data `keys` holds a non-object");
    }
    const json::value* kid = k.as_object().if_contains("kid");
    if (kid == nullptr || !kid->is_string()) continue;
    if (kid->as_string() == "HCLAkPub") {
      if (ak != nullptr) {
        return absl::InvalidArgumentError("hcl report: variable data has two HCLAkPub keys");
      }
      ak = &k.as_object();
    } else if (kid->as_string() == "HCLEkPub") {
      ek_pub = k.as_object();
    }
  }
  if (ak == nullptr) {
    return absl::InvalidArgumentError("hcl report: variable data has no HCLAkPub key");
  }
  const json::value* kty = ak->if_contains("kty");
  if (kty == nullptr || !kty->is_string() || kty->as_string() != "RSA") {
    return absl::InvalidArgumentError(
        fmt::format("hcl report: HCLAkPub is not an RSA key (kty {})",
                    kty == nullptr ? std::string("missing") : json::serialize(*kty)));
  }
  const json::value* n = ak->if_contains("n");
  if (n == nullptr || !n->is_string()) {
    return absl::InvalidArgumentError("hcl report: HCLAkPub has no modulus `n`");
  }
  CCB_ASSIGN_OR_RETURN(std::string modulus, core::Base64UrlDecode(n->as_string()),
                       "hcl report: HCLAkPub `n`");
  size_t lead = modulus.find_first_not_of('\0');
  size_t bits = 0;
  if (lead != std::string::npos) {
    auto top = static_cast<uint8_t>(modulus[lead]);
    bits = (modulus.size() - lead - 1) * 8;
    while (top != 0) {
      ++bits;
      top >>= 1;
    }
  }
  if (bits < kMinAkBits) {
    return absl::InvalidArgumentError(fmt::format(
        "hcl report: HCLAkPub is a {}-bit RSA key, at least {} bits required", bits, kMinAkBits));
  }
  CCB_ASSIGN_OR_RETURN(crypto::PublicKey ak_pub, crypto::PublicKey::FromJwk(*ak),
                       "hcl report: HCLAkPub");
  RuntimeData rd{std::move(ak_pub), std::move(ek_pub), {}, std::nullopt};
  if (const json::value* vm = o.if_contains("vm-configuration")) {
    if (!vm->is_object()) {
      return absl::InvalidArgumentError("hcl report: `vm-configuration` is not an object");
    }
    rd.vm_configuration = vm->as_object();
  }
  if (const json::value* ud = o.if_contains("user-data")) {
    if (!ud->is_string()) {
      return absl::InvalidArgumentError("hcl report: `user-data` is not a string");
    }
    CCB_ASSIGN_OR_RETURN(rd.user_data, core::HexDecode(ud->as_string()), "hcl report: `user-data`");
  }
  return rd;
}

std::string BuildHclReport(HwReportType type, std::string_view hw_report,
                           std::string_view var_data) {
  std::string out(kHclVarDataOffset, '\0');
  PutU32(&out, 0, kHclSignature);
  PutU32(&out, 4, 2);
  PutU32(&out, 8, static_cast<uint32_t>(kHclVarDataOffset + var_data.size()));
  PutU32(&out, 12, 2);
  out.replace(kHclHeaderSize, std::min(hw_report.size(), kHclHwReportSize),
              hw_report.substr(0, kHclHwReportSize));
  PutU32(&out, kHclRequestDataOffset, static_cast<uint32_t>(20 + var_data.size()));
  PutU32(&out, kHclRequestDataOffset + 4, 1);
  PutU32(&out, kHclRequestDataOffset + 8, static_cast<uint32_t>(type));
  PutU32(&out, kHclRequestDataOffset + 12, kHashTypeSha256);
  PutU32(&out, kHclRequestDataOffset + 16, static_cast<uint32_t>(var_data.size()));
  out.append(var_data);
  if (out.size() < 2600) out.resize(2600, '\0');
  return out;
}

}  // namespace ccburst::evidence::azure
