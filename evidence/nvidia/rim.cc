#include "evidence/nvidia/rim.h"

#include <fmt/format.h>
#include <libxml/xmlerror.h>
#include <openssl/x509v3.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/transforms.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <mutex>

#include "core/encoding.h"
#include "core/log_safe.h"
#include "evidence/nvidia/internal/xml.h"

namespace ccburst::evidence::nvidia {
namespace internal {

namespace {
void SilentXmlSecErrors(const char*, int, const char*, const char*, const char*, int, const char*) {
}
}  // namespace

absl::Status EnsureXmlSecInitialized() {
  static const absl::Status* status = [] {
    xmlInitParser();
    if (xmlSecInit() < 0) return new absl::Status(absl::InternalError("xmlsec: init failed"));
    if (xmlSecCheckVersion() != 1) {
      return new absl::Status(absl::InternalError("xmlsec: loaded library version mismatch"));
    }
    if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0) {
      return new absl::Status(absl::InternalError("xmlsec: OpenSSL engine init failed"));
    }
    xmlSecErrorsSetCallback(SilentXmlSecErrors);
    xmlSecErrorsDefaultCallbackEnableOutput(0);
    return new absl::Status();
  }();
  return *status;
}

absl::StatusOr<XmlDocPtr> ParseXml(std::string_view xml) {
  CCB_RETURN_IF_ERROR(EnsureXmlSecInitialized());
  if (xml.size() > kMaxRimBytes) {
    return absl::InvalidArgumentError(
        fmt::format("nvidia rim: {} bytes, more than the limit of {}", xml.size(), kMaxRimBytes));
  }
  std::unique_ptr<xmlParserCtxt, decltype(&xmlFreeParserCtxt)> ctxt(xmlNewParserCtxt(),
                                                                    xmlFreeParserCtxt);
  if (!ctxt) return absl::InternalError("nvidia rim: out of memory");
  XmlDocPtr doc(xmlCtxtReadMemory(
      ctxt.get(), xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA));
  if (!doc || !ctxt->wellFormed) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    std::string why = e != nullptr && e->message != nullptr ? e->message : "unknown error";
    while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
    int line = e != nullptr ? e->line : 0;
    return absl::InvalidArgumentError(fmt::format("nvidia rim: not well-formed XML (line {}): {}",
                                                  line, core::LogSafe(why, 120)));
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return absl::InvalidArgumentError("nvidia rim: document has a DTD (refused)");
  }
  return doc;
}

bool IsElement(const xmlNode* node, const char* ns, const char* name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
         xmlStrEqual(node->ns->href, BAD_CAST ns) && xmlStrEqual(node->name, BAD_CAST name);
}

xmlNode* ChildElement(const xmlNode* parent, const char* ns, const char* name) {
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (IsElement(c, ns, name)) return c;
  }
  return nullptr;
}

}  // namespace internal

namespace {

using internal::ChildElement;
using internal::IsElement;
using internal::kDsigNs;
using internal::kSha384Ns;
using internal::kSwidNs;

absl::Status Refuse(RimCheck check, RimCheck* failed, absl::Status status) {
  if (failed != nullptr) *failed = check;
  return status;
}

absl::Status Denied(RimCheck check, RimCheck* failed, std::string message) {
  return Refuse(check, failed,
                absl::PermissionDeniedError(fmt::format("nvidia rim: {}", std::move(message))));
}

absl::Status Invalid(RimCheck check, RimCheck* failed, std::string message) {
  return Refuse(check, failed,
                absl::InvalidArgumentError(fmt::format("nvidia rim: {}", std::move(message))));
}

// An attribute's value; nullopt when absent. `ns` null: an unqualified attribute.
std::optional<std::string> Attr(const xmlNode* node, const char* name, const char* ns = nullptr) {
  xmlChar* v = ns == nullptr ? xmlGetNoNsProp(node, BAD_CAST name)
                             : xmlGetNsProp(node, BAD_CAST name, BAD_CAST ns);
  if (v == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string Text(const xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  if (v == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

template <typename T>
bool ParseUnsigned(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void CountSignatures(const xmlNode* node, size_t* count) {
  for (const xmlNode* c = node; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (IsElement(c, kDsigNs, "Signature")) ++*count;
    CountSignatures(c->children, count);
  }
}

// The SoftwareIdentity's identity and its Payload's measurements (`parse` / `measurements`).
absl::Status ReadPayload(const xmlNode* root, Rim* rim, RimCheck* failed) {
  rim->tag_id = Attr(root, "tagId").value_or("");
  rim->name = Attr(root, "name").value_or("");
  if (const xmlNode* meta = ChildElement(root, kSwidNs, "Meta")) {
    rim->version = Lower(Attr(meta, "colloquialVersion").value_or(""));
  }
  const xmlNode* payload = ChildElement(root, kSwidNs, "Payload");
  if (payload == nullptr) {
    return Invalid(RimCheck::kMeasurements, failed, "SoftwareIdentity has no Payload");
  }
  std::map<uint32_t, size_t> seen;
  for (const xmlNode* r = payload->children; r != nullptr; r = r->next) {
    if (r->type != XML_ELEMENT_NODE) continue;
    size_t n = rim->measurements.size();
    if (!IsElement(r, kSwidNs, "Resource")) {
      return Invalid(RimCheck::kMeasurements, failed,
                     fmt::format("Payload child {} is `{}`, not a Resource", n,
                                 core::LogSafe(reinterpret_cast<const char*>(r->name), 40)));
    }
    if (n == kMaxRimMeasurements) {
      return Invalid(RimCheck::kMeasurements, failed,
                     fmt::format("more than {} Resources", kMaxRimMeasurements));
    }
    RimMeasurement m;
    auto bad = [&](std::string what) {
      return Invalid(RimCheck::kMeasurements, failed,
                     fmt::format("Resource {} ({}): {}", n, core::LogSafe(m.name, 60), what));
    };
    m.name = Attr(r, "name").value_or("");
    auto index = Attr(r, "index");
    if (!index || !ParseUnsigned(*index, &m.index) || m.index > 254) {
      return bad("`index` is missing or not a number in 0..254");
    }
    auto active = Attr(r, "active");
    if (!active || (Lower(*active) != "true" && Lower(*active) != "false")) {
      return bad("`active` is missing or not True/False");
    }
    m.active = Lower(*active) == "true";
    if (auto size = Attr(r, "size"); size && !ParseUnsigned(*size, &m.size)) {
      return bad("`size` is not a number");
    }
    size_t alternatives = 0;
    auto alt = Attr(r, "alternatives");
    if (!alt || !ParseUnsigned(*alt, &alternatives) || alternatives < 1 ||
        alternatives > kMaxRimAlternatives) {
      return bad(fmt::format("`alternatives` is missing or not in 1..{}", kMaxRimAlternatives));
    }
    for (size_t i = 0; i < alternatives; ++i) {
      std::string attr = fmt::format("Hash{}", i);
      auto hash = Attr(r, attr.c_str(), kSha384Ns);
      if (!hash) return bad(fmt::format("no SHA-384 `{}`", attr));
      auto bytes = core::HexDecode(*hash);
      if (!bytes.ok() || bytes->size() != 48) {
        return bad(fmt::format("`{}` is not 48 bytes of hex", attr));
      }
      m.values.push_back(core::HexEncode(*bytes));
    }
    if (!seen.emplace(m.index, n).second) {
      return bad(fmt::format("index {} is also Resource {}'s", m.index, seen[m.index]));
    }
    rim->measurements.push_back(std::move(m));
  }
  if (rim->measurements.empty()) {
    return Invalid(RimCheck::kMeasurements, failed, "Payload has no measurements");
  }
  return absl::OkStatus();
}

struct Parsed {
  internal::XmlDocPtr doc;
  xmlNode* root = nullptr;
  xmlNode* signature = nullptr;  // null when unsigned
};

absl::StatusOr<Parsed> ParseStructure(std::string_view xml, RimCheck* failed) {
  auto doc = internal::ParseXml(xml);
  if (!doc.ok()) return Refuse(RimCheck::kParse, failed, doc.status());
  Parsed p;
  p.doc = *std::move(doc);
  p.root = xmlDocGetRootElement(p.doc.get());
  if (!IsElement(p.root, kSwidNs, "SoftwareIdentity")) {
    return Invalid(RimCheck::kParse, failed,
                   fmt::format("root element is not a SWID SoftwareIdentity ({})", kSwidNs));
  }
  size_t signatures = 0;
  CountSignatures(p.root, &signatures);
  p.signature = ChildElement(p.root, kDsigNs, "Signature");
  if (signatures > 1 || (signatures == 1 && p.signature == nullptr)) {
    return Invalid(RimCheck::kParse, failed,
                   fmt::format("{} ds:Signature elements, want exactly one child of "
                               "SoftwareIdentity",
                               signatures));
  }
  return p;
}

}  // namespace

std::string_view RimCheckName(RimCheck check) {
  switch (check) {
    case RimCheck::kNone:
      return "none";
    case RimCheck::kParse:
      return "parse";
    case RimCheck::kUnsigned:
      return "unsigned";
    case RimCheck::kUntrustedRoot:
      return "untrusted-root";
    case RimCheck::kChainSignature:
      return "chain-signature";
    case RimCheck::kChainExpired:
      return "chain-expired";
    case RimCheck::kSigner:
      return "signer";
    case RimCheck::kSignature:
      return "signature";
    case RimCheck::kMeasurements:
      return "measurements";
  }
  return "unknown";
}

boost::json::object RimReferenceMeasurements(const Rim& rim) {
  boost::json::object out;
  for (const RimMeasurement& m : rim.measurements) {
    if (!m.active) continue;
    std::string key = std::to_string(m.index + 1);
    if (m.values.size() == 1) {
      out[key] = m.values.front();
    } else {
      boost::json::array a;
      for (const auto& v : m.values) a.emplace_back(v);
      out[key] = std::move(a);
    }
  }
  return out;
}

absl::Status MergeReferenceMeasurements(boost::json::object& into, const boost::json::object& add) {
  for (const auto& [k, v] : add) {
    auto it = into.find(k);
    if (it != into.end() && it->value() != v) {
      return absl::InvalidArgumentError(fmt::format(
          "nvidia rim: SPDM index {} has golden values in two RIMs", std::string_view(k)));
    }
    into[k] = v;
  }
  return absl::OkStatus();
}

std::vector<std::string> DeviceRimIds(const boost::json::object& config) {
  auto str = [&](std::string_view key) -> std::string {
    const boost::json::value* v = config.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  std::vector<std::string> ids;
  if (std::string driver = str("driver_version"); !driver.empty()) {
    ids.push_back("NV_GPU_DRIVER_GH100_" + driver);
  }
  std::string project = str("project"), project_sku = str("project_sku"),
              chip_sku = str("chip_sku"), vbios = str("vbios_version");
  if (!project.empty() && !project_sku.empty() && !chip_sku.empty() && !vbios.empty()) {
    std::erase(vbios, '.');
    for (char& c : vbios) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ids.push_back(fmt::format("NV_GPU_VBIOS_{}_{}_{}_{}", project, project_sku, chip_sku, vbios));
  }
  return ids;
}

absl::StatusOr<std::unique_ptr<RimVerifier>> RimVerifier::Create(RimVerifierOptions options) {
  if (options.trust_anchors.empty()) {
    return absl::InvalidArgumentError("nvidia rim: no RIM trust anchor configured");
  }
  CCB_RETURN_IF_ERROR(internal::EnsureXmlSecInitialized());
  std::unique_ptr<RimVerifier> v(new RimVerifier());
  v->cache_ = options.cache ? options.cache : std::make_shared<crypto::CertificateCache>();
  for (const std::string& a : options.trust_anchors) {
    CCB_ASSIGN_OR_RETURN(auto cert,
                         crypto::Certificate::ParseShared(a, "nvidia rim: trust anchor"));
    v->anchors_.push_back(std::move(cert));
  }
  return v;
}

absl::StatusOr<Rim> ParseRimUnverified(std::string_view xml) {
  CCB_ASSIGN_OR_RETURN(Parsed p, ParseStructure(xml, nullptr));
  Rim rim;
  CCB_RETURN_IF_ERROR(ReadPayload(p.root, &rim, nullptr));
  return rim;
}

absl::StatusOr<Rim> RimVerifier::Verify(std::string_view xml, core::TimePoint now,
                                        RimCheck* failed) const {
  if (failed != nullptr) *failed = RimCheck::kNone;
  CCB_ASSIGN_OR_RETURN(Parsed p, ParseStructure(xml, failed));
  if (p.signature == nullptr) {
    return Denied(RimCheck::kUnsigned, failed, "not signed (no ds:Signature element)");
  }

  // The signing chain from KeyInfo/X509Data, leaf first.
  Rim rim;
  const xmlNode* key_info = ChildElement(p.signature, kDsigNs, "KeyInfo");
  if (key_info != nullptr) {
    for (const xmlNode* d = key_info->children; d != nullptr; d = d->next) {
      if (!IsElement(d, kDsigNs, "X509Data")) continue;
      for (const xmlNode* c = d->children; c != nullptr; c = c->next) {
        if (!IsElement(c, kDsigNs, "X509Certificate")) continue;
        std::string b64 = Text(c);
        std::erase_if(b64, [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
        size_t i = rim.chain.size();
        auto der = core::Base64Decode(b64);
        if (!der.ok()) {
          return Invalid(RimCheck::kParse, failed,
                         fmt::format("KeyInfo certificate {} is not base64", i));
        }
        auto cert =
            cache_->GetCertificate(*der, fmt::format("nvidia rim: KeyInfo certificate {}", i));
        if (!cert.ok()) return Refuse(RimCheck::kParse, failed, cert.status());
        rim.chain.push_back(*std::move(cert));
      }
    }
  }
  if (rim.chain.empty()) {
    return Denied(RimCheck::kUntrustedRoot, failed,
                  "signature carries no signing certificate (KeyInfo/X509Data/X509Certificate)");
  }

  // untrusted-root: the chain ends in an anchor, or its last certificate is issued by one.
  auto is_anchor = [&](const crypto::Certificate& c) {
    return std::any_of(anchors_.begin(), anchors_.end(),
                       [&](const auto& a) { return a->der() == c.der(); });
  };
  if (!is_anchor(*rim.chain.back())) {
    const crypto::Certificate& last = *rim.chain.back();
    // A self-issued last certificate is a root of its own, never completed from an anchor.
    auto issuer = last.NamesIssuer(last)
                      ? anchors_.end()
                      : std::find_if(anchors_.begin(), anchors_.end(),
                                     [&](const auto& a) { return last.NamesIssuer(*a); });
    if (issuer == anchors_.end()) {
      return Denied(RimCheck::kUntrustedRoot, failed,
                    fmt::format("signing chain ends in `{}` (issued by `{}`), not in a trusted RIM "
                                "root",
                                last.subject_cn(), last.issuer_cn()));
    }
    rim.chain.push_back(*issuer);
  }
  const auto& certs = rim.chain;
  for (size_t i = 0; i + 1 < certs.size(); ++i) {
    if (absl::Status s = certs[i]->VerifySignedBy(*certs[i + 1]); !s.ok()) {
      return Denied(RimCheck::kChainSignature, failed,
                    fmt::format("signing chain link {}: {}", i, core::Message(s)));
    }
    X509* issuer = certs[i + 1]->get();
    if (X509_check_ca(issuer) < 1 || ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) != 0 &&
                                      (X509_get_key_usage(issuer) & KU_KEY_CERT_SIGN) == 0)) {
      return Denied(RimCheck::kChainSignature, failed,
                    fmt::format("issuer `{}` of certificate {} is not a CA allowed to sign "
                                "certificates",
                                certs[i + 1]->subject_cn(), i));
    }
  }
  for (const auto& c : certs) {
    if (now < c->not_before()) {
      return Denied(RimCheck::kChainExpired, failed,
                    fmt::format("certificate `{}` is not valid before {} (verification time {})",
                                c->subject_cn(), core::FormatRfc3339(c->not_before()),
                                core::FormatRfc3339(now)));
    }
    if (now > c->not_after()) {
      return Denied(
          RimCheck::kChainExpired, failed,
          fmt::format("certificate `{}` expired at {} (verification time {})", c->subject_cn(),
                      core::FormatRfc3339(c->not_after()), core::FormatRfc3339(now)));
    }
  }
  const crypto::Certificate& leaf = *certs.front();
  X509* leaf_x = leaf.get();
  if (certs.size() < 2 || X509_check_ca(leaf_x) != 0) {
    return Denied(
        RimCheck::kSigner, failed,
        fmt::format("signing certificate `{}` is a CA, not a RIM signer", leaf.subject_cn()));
  }
  if ((X509_get_extension_flags(leaf_x) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(leaf_x) & KU_DIGITAL_SIGNATURE) == 0) {
    return Denied(RimCheck::kSigner, failed,
                  fmt::format("signing certificate `{}` may not sign (no digitalSignature key "
                              "usage)",
                              leaf.subject_cn()));
  }

  // signature: XML-DSig with the leaf's key; one Reference to the whole document.
  const auto& key = leaf.public_key();
  EVP_PKEY* pkey = key.ok() ? key->get() : nullptr;
  if (pkey == nullptr || EVP_PKEY_up_ref(pkey) != 1) {
    return Denied(RimCheck::kSigner, failed,
                  fmt::format("signing certificate `{}` has no usable key", leaf.subject_cn()));
  }
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pkey);
  if (data == nullptr) {
    EVP_PKEY_free(pkey);
    return Denied(RimCheck::kSigner, failed,
                  fmt::format("signing certificate `{}` has a key type XML-DSig cannot use",
                              leaf.subject_cn()));
  }
  xmlSecKeyPtr sign_key = xmlSecKeyCreate();
  if (sign_key == nullptr || xmlSecKeySetValue(sign_key, data) < 0) {
    xmlSecKeyDataDestroy(data);
    if (sign_key != nullptr) xmlSecKeyDestroy(sign_key);
    return absl::InternalError("nvidia rim: xmlsec key set-up failed");
  }
  internal::DsigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr));
  if (!ctx) {
    xmlSecKeyDestroy(sign_key);
    return absl::InternalError("nvidia rim: xmlsec context set-up failed");
  }
  ctx->signKey = sign_key;  // owned by ctx from here
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  int rc = 0;
  for (xmlSecTransformId t :
       {xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId, xmlSecTransformInclC14NId,
        xmlSecTransformInclC14NWithCommentsId, xmlSecTransformInclC14N11Id,
        xmlSecTransformInclC14N11WithCommentsId}) {
    rc |= xmlSecDSigCtxEnableSignatureTransform(ctx.get(), t);
    rc |= xmlSecDSigCtxEnableReferenceTransform(ctx.get(), t);
  }
  for (xmlSecTransformId t :
       {xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id,
        xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id}) {
    rc |= xmlSecDSigCtxEnableSignatureTransform(ctx.get(), t);
  }
  for (xmlSecTransformId t : {xmlSecTransformEnvelopedId, xmlSecTransformSha256Id,
                              xmlSecTransformSha384Id, xmlSecTransformSha512Id}) {
    rc |= xmlSecDSigCtxEnableReferenceTransform(ctx.get(), t);
  }
  if (rc != 0) return absl::InternalError("nvidia rim: xmlsec transform set-up failed");
  if (xmlSecDSigCtxVerify(ctx.get(), p.signature) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
    return Denied(RimCheck::kSignature, failed,
                  fmt::format("XML signature does not verify with the key of signing certificate "
                              "`{}` (document edited, or signed by another key)",
                              leaf.subject_cn()));
  }
  if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
    return Denied(RimCheck::kSignature, failed,
                  fmt::format("signature has {} References, want exactly one (URI=\"\")",
                              xmlSecPtrListGetSize(&ctx->signedInfoReferences)));
  }
  auto* ref =
      static_cast<xmlSecDSigReferenceCtxPtr>(xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0));
  if (ref == nullptr || (ref->uri != nullptr && ref->uri[0] != '\0')) {
    return Denied(RimCheck::kSignature, failed,
                  "signature Reference does not cover the whole document (URI=\"\")");
  }

  CCB_RETURN_IF_ERROR(ReadPayload(p.root, &rim, failed));
  return rim;
}

}  // namespace ccburst::evidence::nvidia
