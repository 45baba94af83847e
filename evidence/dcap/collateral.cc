#include "evidence/dcap/collateral.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/byte_reader.h"
#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/signature.h"

namespace ccburst::evidence::dcap {
namespace {

absl::Status Malformed(std::string_view what, std::string_view detail) {
  return absl::InvalidArgumentError(fmt::format("tdx: {}: {}", what, detail));
}

// Finds the end (one past the closing brace) of the JSON object that starts at `text[start]`,
// honouring strings and escapes.
size_t ObjectEnd(std::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

absl::StatusOr<const json::value*> Member(const json::object& o, std::string_view key,
                                          std::string_view what) {
  auto it = o.find(key);
  if (it == o.end()) return Malformed(what, fmt::format("missing field `{}`", key));
  return &it->value();
}

absl::StatusOr<std::string> Str(const json::object& o, std::string_view key,
                                std::string_view what) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, what));
  if (!v->is_string()) return Malformed(what, fmt::format("`{}` must be a string", key));
  return std::string(v->as_string());
}

absl::StatusOr<int64_t> Int(const json::object& o, std::string_view key, std::string_view what,
                            int64_t max) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, what));
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(max)) {
    n = static_cast<int64_t>(v->as_uint64());
  } else {
    return Malformed(what, fmt::format("`{}` must be an integer", key));
  }
  if (n < 0 || n > max) return Malformed(what, fmt::format("`{}` out of range", key));
  return n;
}

absl::StatusOr<std::string> Hex(const json::object& o, std::string_view key, std::string_view what,
                                size_t size) {
  CCB_ASSIGN_OR_RETURN(std::string text, Str(o, key, what));
  auto raw = core::HexDecode(text);
  if (!raw.ok() || (size != 0 && raw->size() != size)) {
    return Malformed(what, fmt::format("`{}` must be {} bytes of hex", key, size));
  }
  return *std::move(raw);
}

absl::StatusOr<core::TimePoint> Date(const std::string& text, std::string_view key,
                                     std::string_view what) {
  auto t = core::ParseRfc3339(text);
  if (!t.ok()) return Malformed(what, fmt::format("`{}` is not an RFC 3339 time", key));
  return *t;
}

absl::StatusOr<const json::array*> Arr(const json::object& o, std::string_view key,
                                       std::string_view what) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, Member(o, key, what));
  if (!v->is_array()) return Malformed(what, fmt::format("`{}` must be an array", key));
  return &v->as_array();
}

absl::StatusOr<const json::object*> Obj(const json::value& v, std::string_view what) {
  if (!v.is_object()) return Malformed(what, "expected an object");
  return &v.as_object();
}

absl::StatusOr<std::vector<std::string>> Advisories(const json::object& o, std::string_view what) {
  std::vector<std::string> out;
  auto it = o.find("advisoryIDs");
  if (it == o.end()) return out;
  if (!it->value().is_array()) return Malformed(what, "`advisoryIDs` must be an array");
  for (const auto& a : it->value().as_array()) {
    if (!a.is_string()) return Malformed(what, "`advisoryIDs` must hold strings");
    out.emplace_back(a.as_string());
  }
  return out;
}

// `levels` of {"tcb": {"isvsvn": n}, "tcbDate", "tcbStatus", "advisoryIDs"} (TDX module
// levels of TCB Info, QE Identity levels), highest ISVSVN first. `where` names the array in
// errors ("tcb info: module" -> "tcb info: module tcbLevels", "tcb info: module tcb").
template <typename Level>
absl::StatusOr<std::vector<Level>> IsvsvnLevels(const json::array& levels, std::string_view where,
                                                int64_t max_isvsvn, std::string_view w) {
  std::vector<Level> out;
  for (const auto& lv : levels) {
    CCB_ASSIGN_OR_RETURN(const json::object* l, Obj(lv, fmt::format("{} tcbLevels", where)));
    Level level;
    CCB_ASSIGN_OR_RETURN(const json::value* tcb_v, Member(*l, "tcb", w));
    CCB_ASSIGN_OR_RETURN(const json::object* tcb, Obj(*tcb_v, fmt::format("{} tcb", where)));
    CCB_ASSIGN_OR_RETURN(int64_t isvsvn, Int(*tcb, "isvsvn", w, max_isvsvn));
    level.isvsvn = static_cast<decltype(level.isvsvn)>(isvsvn);
    CCB_ASSIGN_OR_RETURN(level.tcb_date, Str(*l, "tcbDate", w));
    CCB_ASSIGN_OR_RETURN(level.status, Str(*l, "tcbStatus", w));
    CCB_ASSIGN_OR_RETURN(level.advisory_ids, Advisories(*l, w));
    out.push_back(std::move(level));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.isvsvn > b.isvsvn; });
  return out;
}

absl::StatusOr<std::array<uint8_t, 16>> Components(const json::object& tcb, std::string_view key,
                                                   std::string_view what) {
  CCB_ASSIGN_OR_RETURN(const json::array* a, Arr(tcb, key, what));
  if (a->size() != 16) return Malformed(what, fmt::format("`{}` must have 16 entries", key));
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; ++i) {
    CCB_ASSIGN_OR_RETURN(const json::object* c, Obj((*a)[i], what));
    CCB_ASSIGN_OR_RETURN(int64_t svn, Int(*c, "svn", what, 255));
    out[i] = static_cast<uint8_t>(svn);
  }
  return out;
}

// A 4-byte hex field (already length-checked) as the big-endian integer Intel prints.
absl::StatusOr<uint32_t> BigEndian32(std::string_view b, std::string_view field) {
  core::ByteReader r(b, "tdx: qe identity");
  uint32_t v = 0;
  CCB_RETURN_IF_ERROR(r.U32Be(field, &v));
  CCB_RETURN_IF_ERROR(r.ExpectEnd());
  return v;
}

// Tracks the common validity window of all items.
struct Window {
  core::TimePoint from = core::TimePoint::min();
  std::string from_item;
  core::TimePoint until = core::TimePoint::max();
  std::string until_item;
  void Add(core::TimePoint begin, core::TimePoint end, std::string item) {
    if (begin > from) {
      from = begin;
      from_item = item;
    }
    if (end < until) {
      until = end;
      until_item = std::move(item);
    }
  }
};

// Verifies the issuer chain (signing certificate, root) of a signed JSON body and returns the
// signing certificate's key.
absl::StatusOr<crypto::PublicKey> VerifyIssuerChain(std::string_view chain_pem,
                                                    std::string_view what,
                                                    const crypto::Crl& root_crl,
                                                    const TrustAnchor& anchor, core::TimePoint now,
                                                    Window* window,
                                                    crypto::CertificateCache& certs) {
  std::string chain_what = fmt::format("tdx: {} issuer chain", what);
  CCB_ASSIGN_OR_RETURN(std::vector<CertPtr> chain, ParsePemChain(chain_pem, chain_what, certs));
  std::vector<const crypto::Certificate*> raw;
  for (const CertPtr& c : chain) raw.push_back(c.get());
  CCB_RETURN_IF_ERROR(VerifyChain(raw, anchor, now, chain_what));
  for (size_t i = 0; i + 1 < raw.size(); ++i) {
    if (root_crl.IsRevoked(*raw[i])) {
      return absl::PermissionDeniedError(fmt::format(
          "{}: certificate `{}` is revoked by the root ca crl", chain_what, raw[i]->subject_cn()));
    }
    window->Add(raw[i]->not_before(), raw[i]->not_after(),
                fmt::format("{} signing certificate", what));
  }
  return CertPublicKey(*raw.front());
}

// Verifies a signed JSON body's signature by `key`.
absl::Status VerifyBodySignature(const SignedBody& body, const crypto::PublicKey& key,
                                 std::string_view what) {
  if (!crypto::VerifyEcdsa(key, crypto::HashAlg::kSha256, body.signed_bytes, body.signature).ok()) {
    return absl::PermissionDeniedError(fmt::format("tdx: {}: signature verification failed", what));
  }
  return absl::OkStatus();
}

absl::Status CheckDates(core::TimePoint issue, core::TimePoint next, const std::string& issue_text,
                        const std::string& next_text, std::string_view what, core::TimePoint now) {
  if (now < issue) {
    return absl::PermissionDeniedError(
        fmt::format("tdx: {}: not yet valid (issueDate {})", what, issue_text));
  }
  if (now >= next) {
    return absl::PermissionDeniedError(
        fmt::format("tdx: {}: expired (nextUpdate {})", what, next_text));
  }
  return absl::OkStatus();
}

}  // namespace

std::string CollateralFingerprint(const Collateral& c) {
  std::string all;
  for (const std::string* s :
       {&c.tcb_info_json, &c.tcb_info_issuer_chain, &c.qe_identity_json,
        &c.qe_identity_issuer_chain, &c.pck_crl, &c.pck_crl_issuer_chain, &c.root_ca_crl}) {
    all += fmt::format("{}:", s->size());
    all += *s;
  }
  return crypto::Sha256(all);
}

absl::StatusOr<SignedBody> SplitSignedBody(std::string_view body, std::string_view key,
                                           std::string_view what) {
  auto parsed = core::ParseJson(body, core::JsonLimits{.max_depth = 16});
  if (!parsed.ok()) return Malformed(what, core::Message(parsed.status()));
  CCB_ASSIGN_OR_RETURN(const json::object* top, Obj(*parsed, what));
  CCB_ASSIGN_OR_RETURN(const json::value* inner, Member(*top, key, what));
  CCB_RETURN_IF_ERROR(Obj(*inner, what).status());
  CCB_ASSIGN_OR_RETURN(std::string sig_hex, Str(*top, "signature", what));
  auto sig = core::HexDecode(sig_hex);
  if (!sig.ok() || sig->size() != 64) {
    return Malformed(what, "`signature` must be 64 bytes of hex");
  }
  // Locate the inner object's text: the value after the top-level "<key>" member name. The
  // document parsed, so the first occurrence of the quoted key at depth 1 is the member name.
  std::string quoted = fmt::format("\"{}\"", key);
  size_t pos = std::string_view::npos;
  {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      } else if (c == '"') {
        if (depth == 1 && body.substr(i, quoted.size()) == quoted) {
          pos = i + quoted.size();
          break;
        }
        in_string = true;
      }
    }
  }
  if (pos == std::string_view::npos) return Malformed(what, fmt::format("missing `{}`", key));
  while (pos < body.size() && IsJsonSpace(body[pos])) ++pos;
  if (pos < body.size() && body[pos] == ':') ++pos;
  while (pos < body.size() && IsJsonSpace(body[pos])) ++pos;
  size_t end = ObjectEnd(body, pos);
  if (pos >= body.size() || body[pos] != '{' || end == std::string_view::npos) {
    return Malformed(what, fmt::format("`{}` is not an object", key));
  }
  SignedBody out;
  out.signed_bytes.assign(body.substr(pos, end - pos));
  out.signature = *std::move(sig);
  // `parsed` is ours: move the inner object out instead of copying it.
  out.inner = std::move(parsed->as_object().at(key).as_object());
  return out;
}

absl::StatusOr<TcbInfo> ParseTcbInfo(const json::object& o) {
  constexpr std::string_view w = "tcb info";
  TcbInfo t;
  CCB_ASSIGN_OR_RETURN(t.id, Str(o, "id", w));
  CCB_ASSIGN_OR_RETURN(int64_t version, Int(o, "version", w, 1000));
  t.version = static_cast<int>(version);
  if (t.id != "TDX" || t.version != 3) {
    return absl::InvalidArgumentError(
        fmt::format("tdx: tcb info: id `{}` version {} is not a TDX TCB Info v3", t.id, t.version));
  }
  CCB_ASSIGN_OR_RETURN(t.issue_date, Str(o, "issueDate", w));
  CCB_ASSIGN_OR_RETURN(t.next_update, Str(o, "nextUpdate", w));
  CCB_ASSIGN_OR_RETURN(t.issue_time, Date(t.issue_date, "issueDate", w));
  CCB_ASSIGN_OR_RETURN(t.next_update_time, Date(t.next_update, "nextUpdate", w));
  CCB_ASSIGN_OR_RETURN(t.fmspc, Hex(o, "fmspc", w, 6));
  CCB_ASSIGN_OR_RETURN(t.pce_id, Hex(o, "pceId", w, 2));
  CCB_ASSIGN_OR_RETURN(t.tcb_evaluation_data_number,
                       Int(o, "tcbEvaluationDataNumber", w, INT32_MAX));
  CCB_ASSIGN_OR_RETURN(const json::value* module_v, Member(o, "tdxModule", w));
  CCB_ASSIGN_OR_RETURN(const json::object* module, Obj(*module_v, "tcb info: tdxModule"));
  CCB_ASSIGN_OR_RETURN(t.module_mrsigner, Hex(*module, "mrsigner", w, 48));
  CCB_ASSIGN_OR_RETURN(t.module_attributes, Hex(*module, "attributes", w, 8));
  CCB_ASSIGN_OR_RETURN(t.module_attributes_mask, Hex(*module, "attributesMask", w, 8));
  if (auto it = o.find("tdxModuleIdentities"); it != o.end()) {
    if (!it->value().is_array()) return Malformed(w, "`tdxModuleIdentities` must be an array");
    for (const auto& mv : it->value().as_array()) {
      CCB_ASSIGN_OR_RETURN(const json::object* m, Obj(mv, "tcb info: tdxModuleIdentities"));
      TdxModuleIdentity id;
      CCB_ASSIGN_OR_RETURN(id.id, Str(*m, "id", w));
      CCB_ASSIGN_OR_RETURN(id.mrsigner, Hex(*m, "mrsigner", w, 48));
      CCB_ASSIGN_OR_RETURN(id.attributes, Hex(*m, "attributes", w, 8));
      CCB_ASSIGN_OR_RETURN(id.attributes_mask, Hex(*m, "attributesMask", w, 8));
      CCB_ASSIGN_OR_RETURN(const json::array* levels, Arr(*m, "tcbLevels", w));
      CCB_ASSIGN_OR_RETURN(id.tcb_levels,
                           IsvsvnLevels<TdxModuleTcbLevel>(*levels, "tcb info: module", 255, w));
      t.module_identities.push_back(std::move(id));
    }
  }
  CCB_ASSIGN_OR_RETURN(const json::array* levels, Arr(o, "tcbLevels", w));
  for (const auto& lv : *levels) {
    CCB_ASSIGN_OR_RETURN(const json::object* l, Obj(lv, "tcb info: tcbLevels"));
    TcbLevel level;
    CCB_ASSIGN_OR_RETURN(const json::value* tcb_v, Member(*l, "tcb", w));
    CCB_ASSIGN_OR_RETURN(const json::object* tcb, Obj(*tcb_v, "tcb info: tcb"));
    CCB_ASSIGN_OR_RETURN(level.sgx_svns, Components(*tcb, "sgxtcbcomponents", w));
    CCB_ASSIGN_OR_RETURN(level.tdx_svns, Components(*tcb, "tdxtcbcomponents", w));
    CCB_ASSIGN_OR_RETURN(int64_t pcesvn, Int(*tcb, "pcesvn", w, 65535));
    level.pcesvn = static_cast<uint16_t>(pcesvn);
    CCB_ASSIGN_OR_RETURN(level.tcb_date, Str(*l, "tcbDate", w));
    CCB_ASSIGN_OR_RETURN(level.status, Str(*l, "tcbStatus", w));
    CCB_ASSIGN_OR_RETURN(level.advisory_ids, Advisories(*l, w));
    t.tcb_levels.push_back(std::move(level));
  }
  // Intel QVL keeps levels in a std::set ordered by TcbLevel::operator>: SGX component SVNs
  // (lexicographic), then PCESVN, then (TDX TCB Info v3) the TDX component SVNs.
  std::stable_sort(t.tcb_levels.begin(), t.tcb_levels.end(),
                   [](const TcbLevel& a, const TcbLevel& b) {
                     return std::tie(a.sgx_svns, a.pcesvn, a.tdx_svns) >
                            std::tie(b.sgx_svns, b.pcesvn, b.tdx_svns);
                   });
  return t;
}

absl::StatusOr<QeIdentity> ParseQeIdentity(const json::object& o) {
  constexpr std::string_view w = "qe identity";
  QeIdentity q;
  CCB_ASSIGN_OR_RETURN(q.id, Str(o, "id", w));
  CCB_ASSIGN_OR_RETURN(int64_t version, Int(o, "version", w, 1000));
  q.version = static_cast<int>(version);
  if (q.id != "TD_QE" || q.version != 2) {
    return absl::InvalidArgumentError(fmt::format(
        "tdx: qe identity: id `{}` version {} is not a TD_QE identity v2", q.id, q.version));
  }
  CCB_ASSIGN_OR_RETURN(q.issue_date, Str(o, "issueDate", w));
  CCB_ASSIGN_OR_RETURN(q.next_update, Str(o, "nextUpdate", w));
  CCB_ASSIGN_OR_RETURN(q.issue_time, Date(q.issue_date, "issueDate", w));
  CCB_ASSIGN_OR_RETURN(q.next_update_time, Date(q.next_update, "nextUpdate", w));
  CCB_ASSIGN_OR_RETURN(q.tcb_evaluation_data_number,
                       Int(o, "tcbEvaluationDataNumber", w, INT32_MAX));
  CCB_ASSIGN_OR_RETURN(std::string misc, Hex(o, "miscselect", w, 4));
  CCB_ASSIGN_OR_RETURN(std::string misc_mask, Hex(o, "miscselectMask", w, 4));
  CCB_ASSIGN_OR_RETURN(q.miscselect, BigEndian32(misc, "miscselect"));
  CCB_ASSIGN_OR_RETURN(q.miscselect_mask, BigEndian32(misc_mask, "miscselectMask"));
  CCB_ASSIGN_OR_RETURN(q.attributes, Hex(o, "attributes", w, 16));
  CCB_ASSIGN_OR_RETURN(q.attributes_mask, Hex(o, "attributesMask", w, 16));
  CCB_ASSIGN_OR_RETURN(q.mrsigner, Hex(o, "mrsigner", w, 32));
  CCB_ASSIGN_OR_RETURN(int64_t prodid, Int(o, "isvprodid", w, 65535));
  q.isvprodid = static_cast<uint16_t>(prodid);
  CCB_ASSIGN_OR_RETURN(const json::array* levels, Arr(o, "tcbLevels", w));
  CCB_ASSIGN_OR_RETURN(q.tcb_levels, IsvsvnLevels<QeTcbLevel>(*levels, "qe identity:", 65535, w));
  if (q.tcb_levels.empty()) return Malformed(w, "no tcbLevels");
  return q;
}

absl::StatusOr<std::shared_ptr<const VerifiedCollateral>> VerifyCollateral(
    const Collateral& c, const TrustAnchor& anchor, core::TimePoint now,
    crypto::CertificateCache* certs) {
  crypto::CertificateCache call_certs(/*max_entries=*/16);
  crypto::CertificateCache& cache = certs != nullptr ? *certs : call_certs;
  auto out = std::make_shared<VerifiedCollateral>();
  Window window;

  // Root CA CRL, checked against the root certificate of the PCK CRL issuer chain (which must
  // be the trust anchor).
  CCB_ASSIGN_OR_RETURN(std::vector<CertPtr> pck_ca_chain,
                       ParsePemChain(c.pck_crl_issuer_chain, "tdx: pck crl issuer chain", cache));
  std::vector<const crypto::Certificate*> pck_ca_raw;
  for (const CertPtr& x : pck_ca_chain) pck_ca_raw.push_back(x.get());
  CCB_RETURN_IF_ERROR(VerifyChain(pck_ca_raw, anchor, now, "tdx: pck crl issuer chain"));
  const crypto::Certificate& root = *pck_ca_raw.back();
  CCB_ASSIGN_OR_RETURN(CrlPtr root_crl, cache.GetCrl(c.root_ca_crl, "tdx: root ca crl"));
  CCB_RETURN_IF_ERROR(CheckCrl(*root_crl, root, now, "tdx: root ca crl"));
  window.Add(root_crl->this_update(), CrlNextUpdate(*root_crl), "root ca crl");
  window.Add(root.not_before(), root.not_after(), "root ca certificate");

  // PCK CRL and its issuer (the PCK CA).
  const crypto::Certificate& pck_ca = *pck_ca_raw.front();
  if (root_crl->IsRevoked(pck_ca)) {
    return absl::PermissionDeniedError(
        fmt::format("tdx: pck crl issuer chain: certificate `{}` is revoked by the root ca crl",
                    pck_ca.subject_cn()));
  }
  window.Add(pck_ca.not_before(), pck_ca.not_after(), "pck ca certificate");
  CCB_ASSIGN_OR_RETURN(CrlPtr pck_crl, cache.GetCrl(c.pck_crl, "tdx: pck crl"));
  CCB_RETURN_IF_ERROR(CheckCrl(*pck_crl, pck_ca, now, "tdx: pck crl"));
  window.Add(pck_crl->this_update(), CrlNextUpdate(*pck_crl), "pck crl");

  // TCB Info.
  CCB_ASSIGN_OR_RETURN(SignedBody tcb_body,
                       SplitSignedBody(c.tcb_info_json, "tcbInfo", "tcb info"));
  CCB_ASSIGN_OR_RETURN(crypto::PublicKey tcb_signer,
                       VerifyIssuerChain(c.tcb_info_issuer_chain, "tcb info", *root_crl, anchor,
                                         now, &window, cache));
  CCB_RETURN_IF_ERROR(VerifyBodySignature(tcb_body, tcb_signer, "tcb info"));
  CCB_ASSIGN_OR_RETURN(out->tcb_info, ParseTcbInfo(tcb_body.inner));
  CCB_RETURN_IF_ERROR(CheckDates(out->tcb_info.issue_time, out->tcb_info.next_update_time,
                                 out->tcb_info.issue_date, out->tcb_info.next_update, "tcb info",
                                 now));
  window.Add(out->tcb_info.issue_time, out->tcb_info.next_update_time, "tcb info");

  // QE Identity.
  CCB_ASSIGN_OR_RETURN(SignedBody qe_body,
                       SplitSignedBody(c.qe_identity_json, "enclaveIdentity", "qe identity"));
  // Intel signs TCB Info and QE Identity with the same TCB Signing certificate, so the two
  // issuer chains are usually byte for byte the same text: a chain identical to the one just
  // verified (same anchor, time and root CA CRL) has the same outcome and is not verified twice.
  // Any other chain is verified on its own. The body signature is always checked.
  crypto::PublicKey qe_signer = tcb_signer;
  if (c.qe_identity_issuer_chain != c.tcb_info_issuer_chain) {
    CCB_ASSIGN_OR_RETURN(qe_signer, VerifyIssuerChain(c.qe_identity_issuer_chain, "qe identity",
                                                      *root_crl, anchor, now, &window, cache));
  }
  CCB_RETURN_IF_ERROR(VerifyBodySignature(qe_body, qe_signer, "qe identity"));
  CCB_ASSIGN_OR_RETURN(out->qe_identity, ParseQeIdentity(qe_body.inner));
  CCB_RETURN_IF_ERROR(CheckDates(out->qe_identity.issue_time, out->qe_identity.next_update_time,
                                 out->qe_identity.issue_date, out->qe_identity.next_update,
                                 "qe identity", now));
  window.Add(out->qe_identity.issue_time, out->qe_identity.next_update_time, "qe identity");

  out->pck_crl_number = pck_crl->crl_number();
  out->root_ca_crl_number = root_crl->crl_number();
  out->pck_crl = std::move(pck_crl);
  out->root_ca_crl = std::move(root_crl);
  out->root = pck_ca_chain.back();
  out->pck_crl_issuer = pck_ca_chain.front();
  out->valid_from = window.from;
  out->valid_from_item = window.from_item;
  out->valid_until = window.until;
  out->valid_until_item = window.until_item;
  std::vector<core::TimePoint> issued = {out->tcb_info.issue_time, out->qe_identity.issue_time,
                                         out->pck_crl->this_update(),
                                         out->root_ca_crl->this_update()};
  out->earliest_issue_date = core::FormatRfc3339(*std::min_element(issued.begin(), issued.end()));
  out->latest_issue_date = core::FormatRfc3339(*std::max_element(issued.begin(), issued.end()));
  return std::shared_ptr<const VerifiedCollateral>(std::move(out));
}

absl::Status CheckCollateralTime(const VerifiedCollateral& c, core::TimePoint now) {
  if (now < c.valid_from) {
    return absl::PermissionDeniedError(fmt::format("tdx: collateral: {} not yet valid (from {})",
                                                   c.valid_from_item,
                                                   core::FormatRfc3339(c.valid_from)));
  }
  if (now >= c.valid_until) {
    return absl::PermissionDeniedError(fmt::format("tdx: collateral: {} expired (at {})",
                                                   c.valid_until_item,
                                                   core::FormatRfc3339(c.valid_until)));
  }
  return absl::OkStatus();
}

}  // namespace ccburst::evidence::dcap
