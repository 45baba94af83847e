#include "evidence/snp/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace ccburst::evidence::snp {
namespace {

// Bounds-checked little-endian reader over the report bytes.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  [[nodiscard]] absl::StatusOr<std::string> Bytes(size_t offset, size_t n,
                                                  std::string_view what) const {
    if (offset > data_.size() || n > data_.size() - offset) {
      return absl::InvalidArgumentError(
          fmt::format("snp: report field `{}` at offset {:#x} (+{}) exceeds {} bytes", what, offset,
                      n, data_.size()));
    }
    return std::string(data_.substr(offset, n));
  }
  [[nodiscard]] absl::StatusOr<uint64_t> Uint(size_t offset, size_t n,
                                              std::string_view what) const {
    CCB_ASSIGN_OR_RETURN(std::string b, Bytes(offset, n, what));
    uint64_t v = 0;
    for (size_t i = n; i > 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i - 1]);
    return v;
  }

 private:
  std::string_view data_;
};

}  // namespace

std::string_view GenerationName(Generation g) {
  switch (g) {
    case Generation::kMilan:
      return "Milan";
    case Generation::kGenoa:
      return "Genoa";
    case Generation::kTurin:
      return "Turin";
    case Generation::kUnknown:
      break;
  }
  return "unknown";
}

Generation GenerationFromName(std::string_view name) {
  for (Generation g : {Generation::kMilan, Generation::kGenoa, Generation::kTurin}) {
    std::string_view n = GenerationName(g);
    if (name == n) return g;
    if (name.size() > n.size() && name.substr(0, n.size()) == n && name[n.size()] == '-') return g;
  }
  return Generation::kUnknown;
}

Generation GenerationFromCpuid(uint8_t family, uint8_t model) {
  if (family == 0x19) {
    if (model <= 0x0f) return Generation::kMilan;
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) {
      return Generation::kGenoa;
    }
  }
  if (family == 0x1a && model <= 0x11) return Generation::kTurin;
  return Generation::kUnknown;
}

std::string_view SigningKeyName(SigningKey k) {
  switch (k) {
    case SigningKey::kVcek:
      return "VCEK";
    case SigningKey::kVlek:
      return "VLEK";
    case SigningKey::kNone:
      return "none";
    case SigningKey::kReserved:
      break;
  }
  return "reserved";
}

SigningKey Report::signing_key() const {
  switch ((key_info >> 2) & 7) {
    case 0:
      return SigningKey::kVcek;
    case 1:
      return SigningKey::kVlek;
    case 7:
      return SigningKey::kNone;
    default:
      return SigningKey::kReserved;
  }
}

Tcb DecodeTcb(uint64_t raw, Generation g) {
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  Tcb t;
  t.raw = raw;
  if (g == Generation::kTurin) {
    t.fmc = byte(0);
    t.bootloader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.bootloader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.microcode = byte(7);
  return t;
}

uint64_t EncodeTcb(const Tcb& t, Generation g) {
  auto at = [](uint8_t v, int i) { return static_cast<uint64_t>(v) << (8 * i); };
  if (g == Generation::kTurin) {
    return at(t.fmc.value_or(0), 0) | at(t.bootloader, 1) | at(t.tee, 2) | at(t.snp, 3) |
           at(t.microcode, 7);
  }
  return at(t.bootloader, 0) | at(t.tee, 1) | at(t.snp, 6) | at(t.microcode, 7);
}

absl::StatusOr<Report> ParseReport(std::string_view bytes) {
  if (bytes.size() != kReportSize) {
    return absl::InvalidArgumentError(
        fmt::format("snp: report is {} bytes, expected {}", bytes.size(), kReportSize));
  }
  Reader r(bytes);
  Report rep;
  rep.bytes = std::string(bytes);
  CCB_ASSIGN_OR_RETURN(uint64_t version, r.Uint(0x00, 4, "VERSION"));
  if (version < 2 || version > 5) {
    return absl::InvalidArgumentError(
        fmt::format("snp: unsupported report version {} (supported: 2..5)", version));
  }
  rep.version = static_cast<uint32_t>(version);
  CCB_ASSIGN_OR_RETURN(uint64_t svn, r.Uint(0x04, 4, "GUEST_SVN"));
  rep.guest_svn = static_cast<uint32_t>(svn);
  CCB_ASSIGN_OR_RETURN(rep.policy.raw, r.Uint(0x08, 8, "POLICY"));
  CCB_ASSIGN_OR_RETURN(rep.family_id, r.Bytes(0x10, 16, "FAMILY_ID"));
  CCB_ASSIGN_OR_RETURN(rep.image_id, r.Bytes(0x20, 16, "IMAGE_ID"));
  CCB_ASSIGN_OR_RETURN(uint64_t vmpl, r.Uint(0x30, 4, "VMPL"));
  rep.vmpl = static_cast<uint32_t>(vmpl);
  CCB_ASSIGN_OR_RETURN(uint64_t algo, r.Uint(0x34, 4, "SIGNATURE_ALGO"));
  rep.signature_algo = static_cast<uint32_t>(algo);
  CCB_ASSIGN_OR_RETURN(uint64_t current_tcb, r.Uint(0x38, 8, "CURRENT_TCB"));
  CCB_ASSIGN_OR_RETURN(rep.platform_info.raw, r.Uint(0x40, 8, "PLATFORM_INFO"));
  CCB_ASSIGN_OR_RETURN(uint64_t key_info, r.Uint(0x48, 4, "KEY_INFO"));
  rep.key_info = static_cast<uint32_t>(key_info);
  CCB_ASSIGN_OR_RETURN(rep.report_data, r.Bytes(0x50, 64, "REPORT_DATA"));
  CCB_ASSIGN_OR_RETURN(rep.measurement, r.Bytes(0x90, 48, "MEASUREMENT"));
  CCB_ASSIGN_OR_RETURN(rep.host_data, r.Bytes(0xC0, 32, "HOST_DATA"));
  CCB_ASSIGN_OR_RETURN(rep.id_key_digest, r.Bytes(0xE0, 48, "ID_KEY_DIGEST"));
  CCB_ASSIGN_OR_RETURN(rep.author_key_digest, r.Bytes(0x110, 48, "AUTHOR_KEY_DIGEST"));
  CCB_ASSIGN_OR_RETURN(rep.report_id, r.Bytes(0x140, 32, "REPORT_ID"));
  CCB_ASSIGN_OR_RETURN(rep.report_id_ma, r.Bytes(0x160, 32, "REPORT_ID_MA"));
  CCB_ASSIGN_OR_RETURN(uint64_t reported_tcb, r.Uint(0x180, 8, "REPORTED_TCB"));
  if (rep.version >= 3) {
    CCB_ASSIGN_OR_RETURN(uint64_t fam, r.Uint(0x188, 1, "CPUID_FAM_ID"));
    CCB_ASSIGN_OR_RETURN(uint64_t mod, r.Uint(0x189, 1, "CPUID_MOD_ID"));
    CCB_ASSIGN_OR_RETURN(uint64_t step, r.Uint(0x18A, 1, "CPUID_STEP"));
    rep.cpuid_family = static_cast<uint8_t>(fam);
    rep.cpuid_model = static_cast<uint8_t>(mod);
    rep.cpuid_stepping = static_cast<uint8_t>(step);
    rep.generation = GenerationFromCpuid(*rep.cpuid_family, *rep.cpuid_model);
    if (rep.generation == Generation::kUnknown) {
      return absl::InvalidArgumentError(
          fmt::format("snp: unsupported processor (CPUID family {:#04x} model {:#04x})", fam, mod));
    }
  }
  CCB_ASSIGN_OR_RETURN(rep.chip_id, r.Bytes(0x1A0, 64, "CHIP_ID"));
  CCB_ASSIGN_OR_RETURN(uint64_t committed_tcb, r.Uint(0x1E0, 8, "COMMITTED_TCB"));
  CCB_ASSIGN_OR_RETURN(uint64_t cur_build, r.Uint(0x1E8, 1, "CURRENT_BUILD"));
  CCB_ASSIGN_OR_RETURN(uint64_t cur_minor, r.Uint(0x1E9, 1, "CURRENT_MINOR"));
  CCB_ASSIGN_OR_RETURN(uint64_t cur_major, r.Uint(0x1EA, 1, "CURRENT_MAJOR"));
  CCB_ASSIGN_OR_RETURN(uint64_t com_build, r.Uint(0x1EC, 1, "COMMITTED_BUILD"));
  CCB_ASSIGN_OR_RETURN(uint64_t com_minor, r.Uint(0x1ED, 1, "COMMITTED_MINOR"));
  CCB_ASSIGN_OR_RETURN(uint64_t com_major, r.Uint(0x1EE, 1, "COMMITTED_MAJOR"));
  rep.current_fw = {static_cast<uint8_t>(cur_major), static_cast<uint8_t>(cur_minor),
                    static_cast<uint8_t>(cur_build)};
  rep.committed_fw = {static_cast<uint8_t>(com_major), static_cast<uint8_t>(com_minor),
                      static_cast<uint8_t>(com_build)};
  CCB_ASSIGN_OR_RETURN(uint64_t launch_tcb, r.Uint(0x1F0, 8, "LAUNCH_TCB"));
  if (rep.version >= 5) {
    CCB_ASSIGN_OR_RETURN(uint64_t lmv, r.Uint(0x1F8, 8, "LAUNCH_MIT_VECTOR"));
    CCB_ASSIGN_OR_RETURN(uint64_t cmv, r.Uint(0x200, 8, "CURRENT_MIT_VECTOR"));
    rep.launch_mit_vector = lmv;
    rep.current_mit_vector = cmv;
  }
  CCB_ASSIGN_OR_RETURN(rep.signature_r,
                       r.Bytes(kSignatureROffset, kSignatureFieldSize, "SIGNATURE.R"));
  CCB_ASSIGN_OR_RETURN(rep.signature_s,
                       r.Bytes(kSignatureSOffset, kSignatureFieldSize, "SIGNATURE.S"));

  rep.current_tcb.raw = current_tcb;
  rep.reported_tcb.raw = reported_tcb;
  rep.committed_tcb.raw = committed_tcb;
  rep.launch_tcb.raw = launch_tcb;
  RedecodeTcbs(rep, rep.generation);
  return rep;
}

void RedecodeTcbs(Report& report, Generation g) {
  for (Tcb* t :
       {&report.current_tcb, &report.reported_tcb, &report.committed_tcb, &report.launch_tcb}) {
    *t = DecodeTcb(t->raw, g);
  }
}

absl::StatusOr<std::string> SignatureRawBigEndian(const Report& report) {
  constexpr size_t kFieldBytes = 48;
  std::string out;
  out.reserve(2 * kFieldBytes);
  for (const std::string* le : {&report.signature_r, &report.signature_s}) {
    if (le->size() != kSignatureFieldSize ||
        !std::all_of(le->begin() + kFieldBytes, le->end(), [](char c) { return c == 0; })) {
      return absl::PermissionDeniedError(
          "snp: report signature component is wider than 48 bytes (non-zero padding)");
    }
    out.append(le->rbegin() + (kSignatureFieldSize - kFieldBytes), le->rend());
  }
  return out;
}

}  // namespace ccburst::evidence::snp
