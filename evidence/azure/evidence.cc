#include "evidence/azure/evidence.h"

#include <fmt/format.h>

#include <initializer_list>

#include "core/encoding.h"

namespace ccburst::evidence::azure {
namespace {

namespace json = boost::json;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("evidence: {}", what));
}

absl::Status OnlyMembers(const json::object& o, std::string_view where,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    bool known = false;
    for (std::string_view a : allowed) known = known || kv.key() == a;
    if (!known) {
      return Bad(fmt::format("unknown member `{}{}`", where, std::string_view(kv.key())));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<const json::value*> Member(const json::object& o, std::string_view where,
                                          std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Bad(fmt::format("missing `{}{}`", where, key));
  return v;
}

// A JSON array of integers 0..255.
absl::StatusOr<std::string> ByteArray(const json::value& v, std::string_view name) {
  if (!v.is_array()) return Bad(fmt::format("`{}` is not an array of bytes", name));
  std::string out;
  out.reserve(v.as_array().size());
  for (const json::value& b : v.as_array()) {
    if (!b.is_int64() && !b.is_uint64()) {
      return Bad(fmt::format("`{}` holds a non-integer", name));
    }
    int64_t x = b.is_int64() ? b.as_int64() : static_cast<int64_t>(b.as_uint64());
    if (x < 0 || x > 255) return Bad(fmt::format("`{}` holds {} (not a byte)", name, x));
    out.push_back(static_cast<char>(x));
  }
  return out;
}

absl::StatusOr<std::string> Hex(const json::value& v, std::string_view name) {
  if (!v.is_string()) return Bad(fmt::format("`{}` is not a hex string", name));
  auto d = core::HexDecode(v.as_string());
  if (!d.ok()) return Bad(fmt::format("`{}` is not hex: {}", name, core::Message(d.status())));
  return *std::move(d);
}

absl::StatusOr<std::string> B64Url(const json::value& v, std::string_view name) {
  if (!v.is_string()) return Bad(fmt::format("`{}` is not a base64url string", name));
  auto d = core::Base64UrlDecode(v.as_string());
  if (!d.ok()) {
    return Bad(fmt::format("`{}` is not base64url: {}", name, core::Message(d.status())));
  }
  return *std::move(d);
}

absl::StatusOr<TpmQuote> ParseTpmQuote(const json::value& v, std::string_view name, bool v0) {
  if (!v.is_object()) return Bad(fmt::format("`{}` is not an object", name));
  const json::object& o = v.as_object();
  std::string where = fmt::format("{}.", name);
  CCB_RETURN_IF_ERROR(OnlyMembers(o, where, {"signature", "message", "pcrs"}));
  auto bytes = [&](const json::value& x, std::string_view n) {
    return v0 ? ByteArray(x, n) : Hex(x, n);
  };
  TpmQuote q;
  CCB_ASSIGN_OR_RETURN(const json::value* sig, Member(o, where, "signature"));
  CCB_ASSIGN_OR_RETURN(q.signature, bytes(*sig, where + "signature"));
  CCB_ASSIGN_OR_RETURN(const json::value* msg, Member(o, where, "message"));
  CCB_ASSIGN_OR_RETURN(q.message, bytes(*msg, where + "message"));
  CCB_ASSIGN_OR_RETURN(const json::value* pcrs, Member(o, where, "pcrs"));
  if (!pcrs->is_array() || pcrs->as_array().size() != kPcrCount) {
    return Bad(fmt::format("`{}pcrs` is not an array of {} PCR values", where, kPcrCount));
  }
  for (size_t i = 0; i < kPcrCount; ++i) {
    std::string n = fmt::format("{}pcrs[{}]", where, i);
    CCB_ASSIGN_OR_RETURN(q.pcrs[i], bytes(pcrs->as_array()[i], n));
    if (q.pcrs[i].size() != kPcrSize) {
      return Bad(fmt::format("`{}` is {} bytes, expected {}", n, q.pcrs[i].size(), kPcrSize));
    }
  }
  return q;
}

json::array ToByteArray(std::string_view b) {
  json::array a;
  a.reserve(b.size());
  for (char c : b) a.emplace_back(static_cast<uint8_t>(c));
  return a;
}

}  // namespace

std::string_view TeeName(Platform p) { return p == Platform::kSnp ? "az-snp-vtpm" : "az-tdx-vtpm"; }

absl::StatusOr<Evidence> ParseEvidence(const json::value& evidence, Platform platform) {
  if (!evidence.is_object()) return Bad("not a JSON object");
  const json::object& o = evidence.as_object();
  bool snp = platform == Platform::kSnp;
  Evidence ev;
  if (const json::value* ver = o.if_contains("version")) {
    if (!ver->is_int64() && !ver->is_uint64()) return Bad("`version` is not an integer");
    int64_t v = ver->is_int64() ? ver->as_int64() : -1;
    if (v != 1 && v != 2) {
      return Bad(
          fmt::format("unknown evidence version {} (1 and 2 are known)", json::serialize(*ver)));
    }
    ev.version = static_cast<int>(v);
    const char* hw = snp ? "vcek" : "td_quote";
    CCB_RETURN_IF_ERROR(OnlyMembers(o, "", {"version", "tpm_quote", "hcl_report", hw}));
    CCB_ASSIGN_OR_RETURN(const json::value* q, Member(o, "", "tpm_quote"));
    CCB_ASSIGN_OR_RETURN(ev.tpm_quote, ParseTpmQuote(*q, "tpm_quote", false));
    CCB_ASSIGN_OR_RETURN(const json::value* hcl, Member(o, "", "hcl_report"));
    CCB_ASSIGN_OR_RETURN(ev.hcl_report, B64Url(*hcl, "hcl_report"));
    CCB_ASSIGN_OR_RETURN(const json::value* h, Member(o, "", hw));
    CCB_ASSIGN_OR_RETURN(std::string hw_bytes, B64Url(*h, hw));
    (snp ? ev.vcek : ev.td_quote) = std::move(hw_bytes);
    return ev;
  }
  ev.version = 0;
  if (snp) {
    CCB_RETURN_IF_ERROR(OnlyMembers(o, "", {"quote", "report", "vcek"}));
    CCB_ASSIGN_OR_RETURN(const json::value* q, Member(o, "", "quote"));
    CCB_ASSIGN_OR_RETURN(ev.tpm_quote, ParseTpmQuote(*q, "quote", true));
    CCB_ASSIGN_OR_RETURN(const json::value* r, Member(o, "", "report"));
    CCB_ASSIGN_OR_RETURN(ev.hcl_report, ByteArray(*r, "report"));
    CCB_ASSIGN_OR_RETURN(const json::value* vcek, Member(o, "", "vcek"));
    if (!vcek->is_string()) return Bad("`vcek` is not a PEM string");
    ev.vcek = std::string(vcek->as_string());
    return ev;
  }
  CCB_RETURN_IF_ERROR(OnlyMembers(o, "", {"tpm_quote", "hcl_report", "td_quote"}));
  CCB_ASSIGN_OR_RETURN(const json::value* q, Member(o, "", "tpm_quote"));
  CCB_ASSIGN_OR_RETURN(ev.tpm_quote, ParseTpmQuote(*q, "tpm_quote", true));
  CCB_ASSIGN_OR_RETURN(const json::value* r, Member(o, "", "hcl_report"));
  CCB_ASSIGN_OR_RETURN(ev.hcl_report, ByteArray(*r, "hcl_report"));
  CCB_ASSIGN_OR_RETURN(const json::value* td, Member(o, "", "td_quote"));
  CCB_ASSIGN_OR_RETURN(ev.td_quote, ByteArray(*td, "td_quote"));
  return ev;
}

json::object EvidenceToJson(const Evidence& ev, Platform platform) {
  bool snp = platform == Platform::kSnp;
  json::object q;
  json::array pcrs;
  if (ev.version == 0) {
    q["signature"] = ToByteArray(ev.tpm_quote.signature);
    q["message"] = ToByteArray(ev.tpm_quote.message);
    for (const std::string& p : ev.tpm_quote.pcrs) pcrs.push_back(ToByteArray(p));
    q["pcrs"] = std::move(pcrs);
    if (snp) return {{"quote", q}, {"report", ToByteArray(ev.hcl_report)}, {"vcek", ev.vcek}};
    return {{"tpm_quote", q},
            {"hcl_report", ToByteArray(ev.hcl_report)},
            {"td_quote", ToByteArray(ev.td_quote)}};
  }
  q["signature"] = core::HexEncode(ev.tpm_quote.signature);
  q["message"] = core::HexEncode(ev.tpm_quote.message);
  for (const std::string& p : ev.tpm_quote.pcrs) pcrs.push_back(json::string(core::HexEncode(p)));
  q["pcrs"] = std::move(pcrs);
  json::object o{{"version", ev.version},
                 {"tpm_quote", q},
                 {"hcl_report", core::Base64Encode(ev.hcl_report, core::Base64Alphabet::kUrl)}};
  if (snp) {
    o["vcek"] = core::Base64Encode(ev.vcek, core::Base64Alphabet::kUrl);
  } else {
    o["td_quote"] = core::Base64Encode(ev.td_quote, core::Base64Alphabet::kUrl);
  }
  return o;
}

}  // namespace ccburst::evidence::azure
