#include "evidence/snp/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/byte_reader.h"

namespace ccburst::evidence::snp {
namespace {

// Reads a `width`-byte little-endian field into `out`.
template <typename T>
absl::Status Uint(core::ByteReader& r, size_t offset, std::string_view field, T* out) {
  CCB_RETURN_IF_ERROR(r.SkipTo(offset, field));
  if constexpr (sizeof(T) == 1) {
    return r.U8(field, out);
  } else if constexpr (sizeof(T) == 4) {
    return r.U32(field, out);
  } else {
    return r.U64(field, out);
  }
}
absl::Status Bytes(core::ByteReader& r, size_t offset, size_t n, std::string_view field,
                   std::string* out) {
  CCB_RETURN_IF_ERROR(r.SkipTo(offset, field));
  return r.Bytes(n, field, out);
}

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
  // Fields in the order of the ABI's table (offsets from it), reserved ranges skipped.
  core::ByteReader r(bytes, "snp: report");
  Report rep;
  rep.bytes = std::string(bytes);
  CCB_RETURN_IF_ERROR(Uint(r, 0x00, "VERSION", &rep.version));
  if (rep.version < 2 || rep.version > 5) {
    return absl::InvalidArgumentError(
        fmt::format("snp: unsupported report version {} (supported: 2..5)", rep.version));
  }
  CCB_RETURN_IF_ERROR(Uint(r, 0x04, "GUEST_SVN", &rep.guest_svn));
  CCB_RETURN_IF_ERROR(Uint(r, 0x08, "POLICY", &rep.policy.raw));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x10, 16, "FAMILY_ID", &rep.family_id));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x20, 16, "IMAGE_ID", &rep.image_id));
  CCB_RETURN_IF_ERROR(Uint(r, 0x30, "VMPL", &rep.vmpl));
  CCB_RETURN_IF_ERROR(Uint(r, 0x34, "SIGNATURE_ALGO", &rep.signature_algo));
  uint64_t current_tcb = 0, reported_tcb = 0, committed_tcb = 0, launch_tcb = 0;
  CCB_RETURN_IF_ERROR(Uint(r, 0x38, "CURRENT_TCB", &current_tcb));
  CCB_RETURN_IF_ERROR(Uint(r, 0x40, "PLATFORM_INFO", &rep.platform_info.raw));
  CCB_RETURN_IF_ERROR(Uint(r, 0x48, "KEY_INFO", &rep.key_info));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x50, 64, "REPORT_DATA", &rep.report_data));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x90, 48, "MEASUREMENT", &rep.measurement));
  CCB_RETURN_IF_ERROR(Bytes(r, 0xC0, 32, "HOST_DATA", &rep.host_data));
  CCB_RETURN_IF_ERROR(Bytes(r, 0xE0, 48, "ID_KEY_DIGEST", &rep.id_key_digest));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x110, 48, "AUTHOR_KEY_DIGEST", &rep.author_key_digest));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x140, 32, "REPORT_ID", &rep.report_id));
  CCB_RETURN_IF_ERROR(Bytes(r, 0x160, 32, "REPORT_ID_MA", &rep.report_id_ma));
  CCB_RETURN_IF_ERROR(Uint(r, 0x180, "REPORTED_TCB", &reported_tcb));
  if (rep.version >= 3) {
    uint8_t fam = 0, mod = 0, step = 0;
    CCB_RETURN_IF_ERROR(Uint(r, 0x188, "CPUID_FAM_ID", &fam));
    CCB_RETURN_IF_ERROR(Uint(r, 0x189, "CPUID_MOD_ID", &mod));
    CCB_RETURN_IF_ERROR(Uint(r, 0x18A, "CPUID_STEP", &step));
    rep.cpuid_family = fam;
    rep.cpuid_model = mod;
    rep.cpuid_stepping = step;
    rep.generation = GenerationFromCpuid(fam, mod);
    if (rep.generation == Generation::kUnknown) {
      return absl::InvalidArgumentError(
          fmt::format("snp: unsupported processor (CPUID family {:#04x} model {:#04x})", fam, mod));
    }
  }
  CCB_RETURN_IF_ERROR(Bytes(r, 0x1A0, 64, "CHIP_ID", &rep.chip_id));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1E0, "COMMITTED_TCB", &committed_tcb));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1E8, "CURRENT_BUILD", &rep.current_fw.build));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1E9, "CURRENT_MINOR", &rep.current_fw.minor));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1EA, "CURRENT_MAJOR", &rep.current_fw.major));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1EC, "COMMITTED_BUILD", &rep.committed_fw.build));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1ED, "COMMITTED_MINOR", &rep.committed_fw.minor));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1EE, "COMMITTED_MAJOR", &rep.committed_fw.major));
  CCB_RETURN_IF_ERROR(Uint(r, 0x1F0, "LAUNCH_TCB", &launch_tcb));
  if (rep.version >= 5) {
    uint64_t lmv = 0, cmv = 0;
    CCB_RETURN_IF_ERROR(Uint(r, 0x1F8, "LAUNCH_MIT_VECTOR", &lmv));
    CCB_RETURN_IF_ERROR(Uint(r, 0x200, "CURRENT_MIT_VECTOR", &cmv));
    rep.launch_mit_vector = lmv;
    rep.current_mit_vector = cmv;
  }
  CCB_RETURN_IF_ERROR(
      Bytes(r, kSignatureROffset, kSignatureFieldSize, "SIGNATURE.R", &rep.signature_r));
  CCB_RETURN_IF_ERROR(
      Bytes(r, kSignatureSOffset, kSignatureFieldSize, "SIGNATURE.S", &rep.signature_s));

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
