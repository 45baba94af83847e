#include "evidence/dcap/pck.h"

#include <fmt/format.h>

#include <string_view>

#include "core/byte_reader.h"
#include "crypto/der.h"

namespace ccburst::evidence::dcap {
namespace {

// DER encodings (content bytes) of the SGX extension OIDs, 1.2.840.113741.1.13.1[.n[.m]].
constexpr std::string_view kSgxExtOid = "\x2a\x86\x48\x86\xf8\x4d\x01\x0d\x01";

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("tdx: pck certificate: {}", what));
}

// A sequence of DER TLVs.
class Der {
 public:
  explicit Der(std::string_view d) : r_(d, "tdx: pck certificate") {}
  bool empty() const { return r_.empty(); }
  // Reads one TLV; returns false on malformed input.
  bool Next(uint8_t* tag, std::string_view* content) {
    return crypto::ReadDerTlv(r_, "tlv", tag, content).ok();
  }

 private:
  core::ByteReader r_;
};

constexpr uint8_t kTagBool = 0x01, kTagInt = 0x02, kTagOctets = 0x04, kTagOid = 0x06,
                  kTagEnum = 0x0a, kTagSeq = 0x30;

bool ReadInt(uint8_t tag, std::string_view c, uint8_t want_tag, int64_t max, int64_t* out) {
  if (tag != want_tag || c.empty() || c.size() > 8) return false;
  if (static_cast<uint8_t>(c[0]) & 0x80) return false;  // negative
  int64_t v = 0;
  for (char ch : c) v = (v << 8) | static_cast<uint8_t>(ch);
  if (v > max) return false;
  *out = v;
  return true;
}

// Parses SEQUENCE { SEQUENCE { OID, value } ... } entries, calling `f(sub_arc, tag, content)`
// for each entry whose OID is `prefix`.n.
template <typename F>
absl::Status ForEachEntry(std::string_view seq_content, std::string_view prefix,
                          std::string_view what, F f) {
  Der seq(seq_content);
  while (!seq.empty()) {
    uint8_t tag;
    std::string_view entry;
    if (!seq.Next(&tag, &entry) || tag != kTagSeq) return Bad(fmt::format("malformed {}", what));
    Der e(entry);
    std::string_view oid, value;
    uint8_t vtag;
    if (!e.Next(&tag, &oid) || tag != kTagOid || !e.Next(&vtag, &value)) {
      return Bad(fmt::format("malformed {} entry", what));
    }
    if (oid.size() != prefix.size() + 1 || oid.substr(0, prefix.size()) != prefix) continue;
    CCB_RETURN_IF_ERROR(f(static_cast<uint8_t>(oid.back()), vtag, value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PckExtensions> ParsePckExtensions(const crypto::Certificate& cert) {
  std::string_view ext_der = cert.Extension("1.2.840.113741.1.13.1").value_or("");
  if (ext_der.empty()) return Bad("missing SGX extension 1.2.840.113741.1.13.1");
  Der outer(ext_der);
  uint8_t tag;
  std::string_view top;
  if (!outer.Next(&tag, &top) || tag != kTagSeq) return Bad("malformed SGX extension");

  PckExtensions out;
  bool have_ppid = false, have_tcb = false, have_pceid = false, have_fmspc = false,
       have_type = false;
  std::string prefix(kSgxExtOid);
  CCB_RETURN_IF_ERROR(ForEachEntry(
      top, prefix, "SGX extension", [&](uint8_t arc, uint8_t vtag, std::string_view v) {
        switch (arc) {
          case 1:
            if (vtag != kTagOctets || v.size() != 16) return Bad("malformed PPID");
            out.ppid.assign(v);
            have_ppid = true;
            break;
          case 2: {
            if (vtag != kTagSeq) return Bad("malformed TCB");
            int found = 0;
            std::string tcb_prefix = prefix + '\x02';
            CCB_RETURN_IF_ERROR(
                ForEachEntry(v, tcb_prefix, "TCB", [&](uint8_t sub, uint8_t t, std::string_view c) {
                  int64_t val = 0;
                  if (sub >= 1 && sub <= 16) {
                    if (!ReadInt(t, c, kTagInt, 255, &val)) {
                      return Bad(fmt::format("malformed TCB component {} SVN", sub));
                    }
                    out.sgx_tcb_comp_svns[sub - 1] = static_cast<uint8_t>(val);
                    ++found;
                  } else if (sub == 17) {
                    if (!ReadInt(t, c, kTagInt, 65535, &val)) return Bad("malformed PCESVN");
                    out.pcesvn = static_cast<uint16_t>(val);
                    ++found;
                  } else if (sub == 18) {
                    if (t != kTagOctets || c.size() != 16) return Bad("malformed CPUSVN");
                    out.cpusvn.assign(c);
                    ++found;
                  }
                  return absl::OkStatus();
                }));
            if (found != 18) return Bad(fmt::format("TCB has {} of 18 entries", found));
            have_tcb = true;
            break;
          }
          case 3:
            if (vtag != kTagOctets || v.size() != 2) return Bad("malformed PCE-ID");
            out.pce_id.assign(v);
            have_pceid = true;
            break;
          case 4:
            if (vtag != kTagOctets || v.size() != 6) return Bad("malformed FMSPC");
            out.fmspc.assign(v);
            have_fmspc = true;
            break;
          case 5: {
            int64_t val = 0;
            if (!ReadInt(vtag, v, kTagEnum, 255, &val)) return Bad("malformed SGX type");
            out.sgx_type = static_cast<int>(val);
            have_type = true;
            break;
          }
          case 6:
            if (vtag != kTagOctets || v.size() != 16) return Bad("malformed platform instance id");
            out.platform_instance_id = std::string(v);
            break;
          case 7: {
            if (vtag != kTagSeq) return Bad("malformed configuration");
            std::string cfg_prefix = prefix + '\x07';
            CCB_RETURN_IF_ERROR(ForEachEntry(v, cfg_prefix, "configuration",
                                             [&](uint8_t sub, uint8_t t, std::string_view c) {
                                               if (t != kTagBool || c.size() != 1)
                                                 return Bad("malformed configuration flag");
                                               bool b = c[0] != 0;
                                               if (sub == 1) out.dynamic_platform = b;
                                               if (sub == 2) out.cached_keys = b;
                                               if (sub == 3) out.smt_enabled = b;
                                               return absl::OkStatus();
                                             }));
            break;
          }
          default:
            break;
        }
        return absl::OkStatus();
      }));
  if (!have_ppid) return Bad("missing PPID");
  if (!have_tcb) return Bad("missing TCB");
  if (!have_pceid) return Bad("missing PCE-ID");
  if (!have_fmspc) return Bad("missing FMSPC");
  if (!have_type) return Bad("missing SGX type");
  return out;
}

}  // namespace ccburst::evidence::dcap
