#include "evidence/snp/evidence.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>

#include "core/byte_reader.h"
#include "core/encoding.h"
#include "core/json.h"

namespace ccburst::evidence::snp {
namespace {

namespace json = boost::json;

constexpr size_t kEntrySize = 24;

struct GuidKind {
  std::array<uint8_t, 16> guid;
  CertKind kind;
};
// GUIDs as printed (RFC 4122 byte order), e.g. 63da758d-e664-4564-adc5-f4b93be8accd for the VCEK.
constexpr GuidKind kGuids[] = {
    {{0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
      0xcd},
     CertKind::kVcek},
    {{0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
      0xa1},
     CertKind::kVlek},
    {{0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
      0x82},
     CertKind::kAsk},
    {{0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
      0xae},
     CertKind::kArk},
    {{0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67,
      0xea},
     CertKind::kCrl},
};

void PutUint(std::string& out, size_t off, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// ---- Trustee (sev crate serde) JSON ----

absl::StatusOr<const json::value*> Member(const json::object& o, std::string_view key,
                                          std::string_view where) {
  auto it = o.find(key);
  if (it == o.end()) {
    return absl::InvalidArgumentError(fmt::format("snp: {}: missing field `{}`", where, key));
  }
  return &it->value();
}

absl::StatusOr<uint64_t> AsUint(const json::value& v, std::string_view key, uint64_t max) {
  uint64_t out = 0;
  if (v.is_uint64()) {
    out = v.get_uint64();
  } else if (v.is_int64() && v.get_int64() >= 0) {
    out = static_cast<uint64_t>(v.get_int64());
  } else {
    return absl::InvalidArgumentError(
        fmt::format("snp: attestation_report: `{}` must be a non-negative integer", key));
  }
  if (out > max) {
    return absl::InvalidArgumentError(
        fmt::format("snp: attestation_report: `{}` = {} exceeds {}", key, out, max));
  }
  return out;
}

absl::StatusOr<uint64_t> GetUint(const json::object& o, std::string_view key, uint64_t max,
                                 std::string_view where = "attestation_report") {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, where));
  return AsUint(*v, key, max);
}

absl::StatusOr<std::string> ByteArray(const json::value& v, std::string_view key, size_t n) {
  const json::array* a = v.if_array();
  if (a == nullptr || (n != 0 && a->size() != n)) {
    return absl::InvalidArgumentError(
        fmt::format("snp: `{}` must be an array of {} byte integers", key,
                    n == 0 ? std::string("some") : std::to_string(n)));
  }
  std::string out;
  out.reserve(a->size());
  for (const json::value& e : *a) {
    CCB_ASSIGN_OR_RETURN(uint64_t b, AsUint(e, key, 255));
    out.push_back(static_cast<char>(b));
  }
  return out;
}

absl::StatusOr<std::string> GetBytes(const json::object& o, std::string_view key, size_t n) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, "attestation_report"));
  return ByteArray(*v, key, n);
}

absl::StatusOr<uint64_t> GetTcb(const json::object& o, std::string_view key, Generation g) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, "attestation_report"));
  const json::object* t = v->if_object();
  if (t == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("snp: attestation_report: `{}` must be an object", key));
  }
  std::string where = fmt::format("attestation_report.{}", key);
  Tcb tcb;
  CCB_ASSIGN_OR_RETURN(uint64_t bl, GetUint(*t, "bootloader", 255, where));
  CCB_ASSIGN_OR_RETURN(uint64_t tee, GetUint(*t, "tee", 255, where));
  CCB_ASSIGN_OR_RETURN(uint64_t snp, GetUint(*t, "snp", 255, where));
  CCB_ASSIGN_OR_RETURN(uint64_t uc, GetUint(*t, "microcode", 255, where));
  tcb.bootloader = static_cast<uint8_t>(bl);
  tcb.tee = static_cast<uint8_t>(tee);
  tcb.snp = static_cast<uint8_t>(snp);
  tcb.microcode = static_cast<uint8_t>(uc);
  auto fmc = t->find("fmc");
  if (fmc != t->end() && !fmc->value().is_null()) {
    if (g != Generation::kTurin) {
      return absl::InvalidArgumentError(
          fmt::format("snp: {}: `fmc` is only defined for Turin", where));
    }
    CCB_ASSIGN_OR_RETURN(uint64_t f, AsUint(fmc->value(), "fmc", 255));
    tcb.fmc = static_cast<uint8_t>(f);
  }
  return EncodeTcb(tcb, g);
}

absl::Status GetVersion(const json::object& o, std::string_view key, std::string& out, size_t off) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, "attestation_report"));
  const json::object* t = v->if_object();
  if (t == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("snp: attestation_report: `{}` must be an object", key));
  }
  std::string where = fmt::format("attestation_report.{}", key);
  CCB_ASSIGN_OR_RETURN(uint64_t build, GetUint(*t, "build", 255, where));
  CCB_ASSIGN_OR_RETURN(uint64_t minor, GetUint(*t, "minor", 255, where));
  CCB_ASSIGN_OR_RETURN(uint64_t major, GetUint(*t, "major", 255, where));
  out[off] = static_cast<char>(build);
  out[off + 1] = static_cast<char>(minor);
  out[off + 2] = static_cast<char>(major);
  return absl::OkStatus();
}

std::optional<const json::value*> Optional(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  return &it->value();
}

absl::StatusOr<std::string> TrusteeReportBytes(const json::object& ar) {
  std::string out(kReportSize, '\0');
  CCB_ASSIGN_OR_RETURN(uint64_t version, GetUint(ar, "version", 0xffffffff));
  PutUint(out, 0x00, version, 4);
  // The generation decides the TCB layout; it comes from the CPUID bytes (v3+).
  Generation g = Generation::kUnknown;
  auto fam = Optional(ar, "cpuid_fam_id");
  auto mod = Optional(ar, "cpuid_mod_id");
  auto step = Optional(ar, "cpuid_step");
  if (version >= 3) {
    if (!fam || !mod || !step) {
      return absl::InvalidArgumentError(
          "snp: attestation_report: version 3+ needs cpuid_fam_id, cpuid_mod_id and cpuid_step");
    }
    CCB_ASSIGN_OR_RETURN(uint64_t f, AsUint(**fam, "cpuid_fam_id", 255));
    CCB_ASSIGN_OR_RETURN(uint64_t m, AsUint(**mod, "cpuid_mod_id", 255));
    CCB_ASSIGN_OR_RETURN(uint64_t s, AsUint(**step, "cpuid_step", 255));
    PutUint(out, 0x188, f, 1);
    PutUint(out, 0x189, m, 1);
    PutUint(out, 0x18A, s, 1);
    g = GenerationFromCpuid(static_cast<uint8_t>(f), static_cast<uint8_t>(m));
  }
  struct U {
    const char* key;
    size_t off;
    size_t n;
    uint64_t max;
  } uints[] = {{"guest_svn", 0x04, 4, 0xffffffff}, {"policy", 0x08, 8, UINT64_MAX},
               {"vmpl", 0x30, 4, 0xffffffff},      {"sig_algo", 0x34, 4, 0xffffffff},
               {"plat_info", 0x40, 8, UINT64_MAX}, {"key_info", 0x48, 4, 0xffffffff}};
  for (const U& u : uints) {
    CCB_ASSIGN_OR_RETURN(uint64_t v, GetUint(ar, u.key, u.max));
    PutUint(out, u.off, v, u.n);
  }
  struct B {
    const char* key;
    size_t off;
    size_t n;
  } arrays[] = {{"family_id", 0x10, 16},          {"image_id", 0x20, 16},
                {"report_data", 0x50, 64},        {"measurement", 0x90, 48},
                {"host_data", 0xC0, 32},          {"id_key_digest", 0xE0, 48},
                {"author_key_digest", 0x110, 48}, {"report_id", 0x140, 32},
                {"report_id_ma", 0x160, 32},      {"chip_id", 0x1A0, 64}};
  for (const B& b : arrays) {
    CCB_ASSIGN_OR_RETURN(std::string v, GetBytes(ar, b.key, b.n));
    std::memcpy(out.data() + b.off, v.data(), b.n);
  }
  struct T {
    const char* key;
    size_t off;
  } tcbs[] = {{"current_tcb", 0x38},
              {"reported_tcb", 0x180},
              {"committed_tcb", 0x1E0},
              {"launch_tcb", 0x1F0}};
  for (const T& t : tcbs) {
    CCB_ASSIGN_OR_RETURN(uint64_t v, GetTcb(ar, t.key, g));
    PutUint(out, t.off, v, 8);
  }
  CCB_RETURN_IF_ERROR(GetVersion(ar, "current", out, 0x1E8));
  CCB_RETURN_IF_ERROR(GetVersion(ar, "committed", out, 0x1EC));
  if (version >= 5) {
    for (auto [key, off] : {std::pair{"launch_mit_vector", 0x1F8}, {"current_mit_vector", 0x200}}) {
      if (auto v = Optional(ar, key)) {
        CCB_ASSIGN_OR_RETURN(uint64_t x, AsUint(**v, key, UINT64_MAX));
        PutUint(out, static_cast<size_t>(off), x, 8);
      }
    }
  }
  CCB_ASSIGN_OR_RETURN(const json::value* sig, Member(ar, "signature", "attestation_report"));
  const json::object* so = sig->if_object();
  if (so == nullptr) {
    return absl::InvalidArgumentError("snp: attestation_report: `signature` must be an object");
  }
  CCB_ASSIGN_OR_RETURN(const json::value* r, Member(*so, "r", "attestation_report.signature"));
  CCB_ASSIGN_OR_RETURN(const json::value* s, Member(*so, "s", "attestation_report.signature"));
  CCB_ASSIGN_OR_RETURN(std::string rb, ByteArray(*r, "signature.r", kSignatureFieldSize));
  CCB_ASSIGN_OR_RETURN(std::string sb, ByteArray(*s, "signature.s", kSignatureFieldSize));
  std::memcpy(out.data() + kSignatureROffset, rb.data(), kSignatureFieldSize);
  std::memcpy(out.data() + kSignatureSOffset, sb.data(), kSignatureFieldSize);
  return out;
}

absl::StatusOr<CertKind> TrusteeCertKind(const json::value& v) {
  const json::string* s = v.if_string();
  if (s == nullptr) return CertKind::kOther;  // e.g. {"OTHER": "<uuid>"}
  if (*s == "VCEK") return CertKind::kVcek;
  if (*s == "VLEK") return CertKind::kVlek;
  if (*s == "ASK") return CertKind::kAsk;
  if (*s == "ARK") return CertKind::kArk;
  if (*s == "CRL") return CertKind::kCrl;
  return CertKind::kOther;
}

absl::StatusOr<Evidence> ParseTrustee(const json::object& obj) {
  const json::object* ar = obj.at("attestation_report").if_object();
  if (ar == nullptr) {
    return absl::InvalidArgumentError("snp: `attestation_report` must be an object");
  }
  CCB_ASSIGN_OR_RETURN(std::string bytes, TrusteeReportBytes(*ar));
  Evidence ev;
  CCB_ASSIGN_OR_RETURN(ev.report, ParseReport(bytes));
  auto chain = obj.find("cert_chain");
  if (chain == obj.end() || chain->value().is_null()) return ev;
  const json::array* entries = chain->value().if_array();
  if (entries == nullptr) {
    return absl::InvalidArgumentError("snp: `cert_chain` must be an array or null");
  }
  for (size_t i = 0; i < entries->size(); ++i) {
    const json::object* e = (*entries)[i].if_object();
    std::string where = fmt::format("cert_chain[{}]", i);
    if (e == nullptr) {
      return absl::InvalidArgumentError(fmt::format("snp: {} must be an object", where));
    }
    CCB_ASSIGN_OR_RETURN(const json::value* type, Member(*e, "cert_type", where));
    CCB_ASSIGN_OR_RETURN(const json::value* data, Member(*e, "data", where));
    EvidenceCert c;
    CCB_ASSIGN_OR_RETURN(c.kind, TrusteeCertKind(*type));
    CCB_ASSIGN_OR_RETURN(c.data, ByteArray(*data, where + ".data", 0));
    ev.certs.push_back(std::move(c));
  }
  return ev;
}

absl::StatusOr<std::string> StdBase64Field(const json::value& v, std::string_view key) {
  const json::string* s = v.if_string();
  if (s == nullptr) {
    return absl::InvalidArgumentError(fmt::format("snp: `{}` must be a base64 string", key));
  }
  auto d = core::Base64Decode(std::string_view(*s), core::Base64Alphabet::kStandard,
                              core::Base64Padding::kOptional);
  if (!d.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("snp: `{}` is not standard base64: {}", key, core::Message(d.status())));
  }
  return std::move(*d);
}

absl::StatusOr<Evidence> ParseTsm(const json::object& obj) {
  CCB_ASSIGN_OR_RETURN(std::string report, StdBase64Field(obj.at("report"), "report"));
  Evidence ev;
  CCB_ASSIGN_OR_RETURN(ev.report, ParseReport(report));
  auto aux = obj.find("auxblob");
  if (aux == obj.end() || aux->value().is_null()) return ev;
  CCB_ASSIGN_OR_RETURN(std::string table, StdBase64Field(aux->value(), "auxblob"));
  if (!table.empty()) {
    CCB_ASSIGN_OR_RETURN(ev.certs, ParseCertTable(table));
  }
  return ev;
}

json::array IntArray(std::string_view bytes) {
  json::array a;
  a.reserve(bytes.size());
  for (char c : bytes) a.emplace_back(static_cast<uint8_t>(c));
  return a;
}

json::object TcbJson(const Tcb& t) {
  json::object o;
  if (t.fmc) {
    o["fmc"] = *t.fmc;
  } else {
    o["fmc"] = nullptr;
  }
  o["bootloader"] = t.bootloader;
  o["tee"] = t.tee;
  o["snp"] = t.snp;
  o["microcode"] = t.microcode;
  return o;
}

json::object FwJson(const FirmwareVersion& v) {
  return json::object{{"major", v.major}, {"minor", v.minor}, {"build", v.build}};
}

}  // namespace

std::string_view CertKindName(CertKind k) {
  switch (k) {
    case CertKind::kVcek:
      return "VCEK";
    case CertKind::kVlek:
      return "VLEK";
    case CertKind::kAsk:
      return "ASK";
    case CertKind::kArk:
      return "ARK";
    case CertKind::kCrl:
      return "CRL";
    case CertKind::kOther:
      break;
  }
  return "other";
}

absl::StatusOr<std::vector<EvidenceCert>> ParseCertTable(std::string_view table) {
  // Entries of {GUID, u32 offset, u32 length} up to an all-zero one; offsets count from the start
  // of the table.
  std::vector<EvidenceCert> out;
  core::ByteReader r(table, "snp: certificate table");
  for (size_t i = 0;; ++i) {
    if (r.remaining() < kEntrySize) {
      return absl::InvalidArgumentError(fmt::format(
          "snp: certificate table has no terminating zero entry within {} bytes", table.size()));
    }
    std::array<uint8_t, 16> guid{};
    uint32_t cert_off = 0, cert_len = 0;
    CCB_RETURN_IF_ERROR(r.Read("entry guid", &guid));
    CCB_RETURN_IF_ERROR(r.U32("entry offset", &cert_off));
    CCB_RETURN_IF_ERROR(r.U32("entry length", &cert_len));
    bool zero_guid = guid == std::array<uint8_t, 16>{};
    if (zero_guid && cert_off == 0 && cert_len == 0) break;
    core::ByteReader at(table, "snp: certificate table");
    std::string_view data;
    if (cert_len == 0 || !at.Skip(cert_off, "certificate offset").ok() ||
        !at.View(cert_len, "certificate", &data).ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "snp: certificate table entry {} (offset {}, length {}) is outside the {}-byte table", i,
          cert_off, cert_len, table.size()));
    }
    EvidenceCert c;
    for (const GuidKind& gk : kGuids) {
      if (gk.guid == guid) c.kind = gk.kind;
    }
    c.data = std::string(data);
    out.push_back(std::move(c));
  }
  return out;
}

std::string EncodeCertTable(const std::vector<EvidenceCert>& certs) {
  std::vector<const EvidenceCert*> known;
  for (const EvidenceCert& c : certs) {
    if (c.kind != CertKind::kOther) known.push_back(&c);
  }
  size_t header = (known.size() + 1) * kEntrySize;
  std::string out(header, '\0');
  for (size_t i = 0; i < known.size(); ++i) {
    for (const GuidKind& gk : kGuids) {
      if (gk.kind == known[i]->kind) std::memcpy(out.data() + i * kEntrySize, gk.guid.data(), 16);
    }
    PutUint(out, i * kEntrySize + 16, out.size(), 4);
    PutUint(out, i * kEntrySize + 20, known[i]->data.size(), 4);
    out += known[i]->data;
  }
  return out;
}

absl::StatusOr<Evidence> ParseEvidenceJson(const json::value& evidence) {
  const json::object* obj = evidence.if_object();
  if (obj == nullptr) return absl::InvalidArgumentError("snp: evidence is not a JSON object");
  if (obj->contains("attestation_report")) return ParseTrustee(*obj);
  if (obj->contains("report")) return ParseTsm(*obj);
  return absl::InvalidArgumentError(
      "snp: evidence has neither `attestation_report` (reference attester) nor `report` "
      "(configfs-tsm)");
}

absl::StatusOr<Evidence> ParseEvidenceBytes(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t'))
    ++i;
  // A raw report never starts with '{' (VERSION is 2..5), but JSON text may happen to be 1184
  // bytes long: JSON first, raw only when that text is not JSON.
  if (i < bytes.size() && bytes[i] == '{') {
    auto v = core::ParseJson(bytes);
    if (v.ok()) return ParseEvidenceJson(*v);
    if (bytes.size() != kReportSize) {
      return absl::InvalidArgumentError(
          fmt::format("snp: evidence is not JSON: {}", core::Message(v.status())));
    }
  }
  Evidence ev;
  CCB_ASSIGN_OR_RETURN(ev.report, ParseReport(bytes));
  return ev;
}

json::object ReportToTrusteeJson(const Report& r) {
  json::object o;
  o["version"] = r.version;
  o["guest_svn"] = r.guest_svn;
  o["policy"] = r.policy.raw;
  o["family_id"] = IntArray(r.family_id);
  o["image_id"] = IntArray(r.image_id);
  o["vmpl"] = r.vmpl;
  o["sig_algo"] = r.signature_algo;
  o["current_tcb"] = TcbJson(r.current_tcb);
  o["plat_info"] = r.platform_info.raw;
  o["key_info"] = r.key_info;
  o["report_data"] = IntArray(r.report_data);
  o["measurement"] = IntArray(r.measurement);
  o["host_data"] = IntArray(r.host_data);
  o["id_key_digest"] = IntArray(r.id_key_digest);
  o["author_key_digest"] = IntArray(r.author_key_digest);
  o["report_id"] = IntArray(r.report_id);
  o["report_id_ma"] = IntArray(r.report_id_ma);
  o["reported_tcb"] = TcbJson(r.reported_tcb);
  if (r.cpuid_family) {
    o["cpuid_fam_id"] = *r.cpuid_family;
    o["cpuid_mod_id"] = *r.cpuid_model;
    o["cpuid_step"] = *r.cpuid_stepping;
  } else {
    o["cpuid_fam_id"] = nullptr;
    o["cpuid_mod_id"] = nullptr;
    o["cpuid_step"] = nullptr;
  }
  o["chip_id"] = IntArray(r.chip_id);
  o["committed_tcb"] = TcbJson(r.committed_tcb);
  o["current"] = FwJson(r.current_fw);
  o["committed"] = FwJson(r.committed_fw);
  o["launch_tcb"] = TcbJson(r.launch_tcb);
  if (r.launch_mit_vector) {
    o["launch_mit_vector"] = *r.launch_mit_vector;
    o["current_mit_vector"] = *r.current_mit_vector;
  }
  o["signature"] = json::object{{"r", IntArray(r.signature_r)}, {"s", IntArray(r.signature_s)}};
  return o;
}

}  // namespace ccburst::evidence::snp
