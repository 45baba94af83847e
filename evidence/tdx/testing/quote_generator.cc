#include "evidence/tdx/testing/quote_generator.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <iterator>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/certificate.h"
#include "crypto/der.h"
#include "crypto/hash.h"
#include "crypto/openssl.h"
#include "crypto/signature.h"
#include "evidence/tdx/quote.h"

namespace ccburst::evidence::tdx::testing {
namespace {

// --- DER building ---------------------------------------------------------------------------
using crypto::DerTlv;
std::string DerInt(uint32_t v, uint8_t tag = 0x02) {
  std::string b;
  do {
    b.insert(b.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v != 0);
  if (static_cast<uint8_t>(b[0]) & 0x80) b.insert(b.begin(), '\0');
  return DerTlv(tag, b);
}
constexpr char kPckCaName[] = "Test SGX PCK Platform CA";

const std::string kSgxOid("\x2a\x86\x48\x86\xf8\x4d\x01\x0d\x01", 9);
std::string Entry(std::string oid, std::string value) {
  return DerTlv(0x30, DerTlv(0x06, oid) + value);
}

std::string SgxExtension(const HierarchyOptions& o, const std::string& ppid) {
  std::string tcb;
  for (int i = 0; i < 16; ++i) {
    tcb += Entry(kSgxOid + '\x02' + static_cast<char>(i + 1), DerInt(o.sgx_svns[i]));
  }
  tcb += Entry(kSgxOid + '\x02' + '\x11', DerInt(o.pcesvn));
  tcb += Entry(kSgxOid + '\x02' + '\x12', DerTlv(0x04, std::string(16, '\x01')));
  std::string config = Entry(kSgxOid + '\x07' + '\x01', DerTlv(0x01, std::string(1, '\xff'))) +
                       Entry(kSgxOid + '\x07' + '\x02', DerTlv(0x01, std::string(1, '\xff'))) +
                       Entry(kSgxOid + '\x07' + '\x03', DerTlv(0x01, std::string(1, '\xff')));
  std::string all =
      Entry(kSgxOid + '\x01', DerTlv(0x04, ppid)) + Entry(kSgxOid + '\x02', DerTlv(0x30, tcb)) +
      Entry(kSgxOid + '\x03', DerTlv(0x04, o.pce_id)) +
      Entry(kSgxOid + '\x04', DerTlv(0x04, o.fmspc)) + Entry(kSgxOid + '\x05', DerInt(1, 0x0a)) +
      Entry(kSgxOid + '\x06', DerTlv(0x04, std::string(16, '\x42'))) +
      Entry(kSgxOid + '\x07', DerTlv(0x30, config));
  return DerTlv(0x30, all);
}

// --- OpenSSL objects ------------------------------------------------------------------------
void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "quote_generator: %s failed\n", what);
    abort();
  }
}

using crypto::X509Ptr;

crypto::Asn1TimePtr Time(core::TimePoint t) {
  return crypto::Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(core::ToUnixSeconds(t))));
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext.get(), -1);
}

X509Ptr MakeCert(const std::string& cn, X509* issuer, const crypto::PrivateKey& issuer_key,
                 const crypto::PrivateKey& key, long serial, bool ca, const HierarchyOptions& o,
                 const std::string& sgx_ext = "") {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ccburst test"), -1, -1, 0);
  X509_set_subject_name(cert.get(), name);
  X509_NAME_free(name);
  X509_set_issuer_name(cert.get(),
                       issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(cert.get()));
  X509_set1_notBefore(cert.get(), Time(o.not_before).get());
  X509_set1_notAfter(cert.get(), Time(o.not_after).get());
  X509_set_pubkey(cert.get(), key.get());
  X509* iss = issuer ? issuer : cert.get();
  AddExt(cert.get(), iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExt(cert.get(), iss, NID_key_usage,
         ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation");
  AddExt(cert.get(), iss, NID_subject_key_identifier, "hash");
  if (!sgx_ext.empty()) {
    crypto::Asn1ObjectPtr obj(OBJ_txt2obj("1.2.840.113741.1.13.1", 1));
    crypto::Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(sgx_ext.data()),
                          static_cast<int>(sgx_ext.size()));
    crypto::X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, os.get()));
    X509_add_ext(cert.get(), ext.get(), -1);
  }
  Check(X509_sign(cert.get(), issuer_key.get(), EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string Pem(X509* cert) {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string Crl(X509* issuer, const crypto::PrivateKey& key, core::TimePoint this_update,
                core::TimePoint next_update, const std::vector<X509*>& revoked, long number) {
  crypto::X509CrlPtr owned(X509_CRL_new());
  X509_CRL* crl = owned.get();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
  X509_CRL_set1_lastUpdate(crl, Time(this_update).get());
  X509_CRL_set1_nextUpdate(crl, Time(next_update).get());
  for (X509* c : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(r, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(c)));
    X509_REVOKED_set_revocationDate(r, Time(this_update).get());
    X509_CRL_add0_revoked(crl, r);
  }
  crypto::Asn1IntegerPtr num(ASN1_INTEGER_new());
  ASN1_INTEGER_set(num.get(), number);
  X509_CRL_add1_ext_i2d(crl, NID_crl_number, num.get(), 0, 0);
  X509_CRL_sort(crl);
  Check(X509_CRL_sign(crl, key.get(), EVP_sha256()) > 0, "X509_CRL_sign");
  unsigned char* der = nullptr;
  int n = i2d_X509_CRL(crl, &der);
  std::string out(reinterpret_cast<char*>(der), n);
  OPENSSL_free(der);
  return out;
}

std::string RawPoint(const crypto::PrivateKey& key) {
  unsigned char buf[65];
  size_t len = 0;
  Check(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf),
                                        &len) == 1 &&
            len == 65,
        "EVP_PKEY_get_octet_string_param");
  return std::string(reinterpret_cast<char*>(buf) + 1, 64);
}

void U16(std::string& o, uint16_t v) {
  o.push_back(static_cast<char>(v & 0xff));
  o.push_back(static_cast<char>(v >> 8));
}
void U32(std::string& o, uint32_t v) {
  for (int i = 0; i < 4; ++i) o.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::string Pad(std::string_view s, size_t n) {
  std::string out(s.substr(0, std::min(s.size(), n)));
  out.resize(n, '\0');
  return out;
}
std::string Bytes(const std::array<uint8_t, 16>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}
std::string HexUp(std::string_view b) {
  std::string h = core::HexEncode(b);
  for (char& c : h) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return h;
}
std::string Components(const std::array<uint8_t, 16>& svns) {
  std::string out = "[";
  for (size_t i = 0; i < 16; ++i) out += fmt::format("{}{{\"svn\":{}}}", i ? "," : "", svns[i]);
  return out + "]";
}
std::string Advisories(const std::vector<std::string>& ids) {
  if (ids.empty()) return "";
  std::string out = ",\"advisoryIDs\":[";
  for (size_t i = 0; i < ids.size(); ++i) out += fmt::format("{}\"{}\"", i ? "," : "", ids[i]);
  return out + "]";
}

// --- persistence ----------------------------------------------------------------------------
namespace json = core::json;

constexpr const char* kOptionsFile = "hierarchy.json";

absl::Status WriteFile(const std::string& dir, const std::string& name, std::string_view data) {
  return core::WriteFile(dir + "/" + name, data);
}

absl::StatusOr<std::string> ReadFile(const std::string& dir, const std::string& name) {
  return core::ReadFile(dir + "/" + name);
}

absl::StatusOr<int64_t> GetInt(const json::object& o, std::string_view key, int64_t max,
                               const std::string& what) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !(v->is_int64() || v->is_uint64())) {
    return absl::InvalidArgumentError(fmt::format("{}: missing integer `{}`", what, key));
  }
  int64_t n = v->is_int64() ? v->as_int64() : static_cast<int64_t>(v->as_uint64());
  if (n < 0 || n > max) {
    return absl::InvalidArgumentError(fmt::format("{}: `{}` out of range", what, key));
  }
  return n;
}

absl::StatusOr<std::string> GetHex(const json::object& o, std::string_view key, size_t size,
                                   const std::string& what) {
  CCB_ASSIGN_OR_RETURN(std::string_view hex, core::GetString(o, key, what));
  auto bytes = core::HexDecode(hex);
  if (!bytes.ok() || bytes->size() != size) {
    return absl::InvalidArgumentError(
        fmt::format("{}: `{}` is not {} bytes of hex", what, key, size));
  }
  return *bytes;
}

absl::StatusOr<HierarchyOptions> ParseOptions(std::string_view text, const std::string& dir) {
  std::string what = fmt::format("hierarchy: `{}/{}`", dir, kOptionsFile);
  CCB_ASSIGN_OR_RETURN(json::value doc, core::ParseJson(text));
  CCB_ASSIGN_OR_RETURN(const json::object* o, core::AsObject(doc, what));
  HierarchyOptions out;
  constexpr int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z
  CCB_ASSIGN_OR_RETURN(int64_t not_before, GetInt(*o, "not_before", kMaxTime, what));
  CCB_ASSIGN_OR_RETURN(int64_t not_after, GetInt(*o, "not_after", kMaxTime, what));
  out.not_before = core::FromUnixSeconds(not_before);
  out.not_after = core::FromUnixSeconds(not_after);
  CCB_ASSIGN_OR_RETURN(out.fmspc, GetHex(*o, "fmspc", 6, what));
  CCB_ASSIGN_OR_RETURN(out.pce_id, GetHex(*o, "pce_id", 2, what));
  const json::value* svns = o->if_contains("sgx_svns");
  if (svns == nullptr || !svns->is_array() || svns->as_array().size() != out.sgx_svns.size()) {
    return absl::InvalidArgumentError(fmt::format("{}: `sgx_svns` is not 16 numbers", what));
  }
  for (size_t i = 0; i < out.sgx_svns.size(); ++i) {
    const json::value& v = svns->as_array()[i];
    if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > 255) {
      return absl::InvalidArgumentError(fmt::format("{}: `sgx_svns[{}]` is not a byte", what, i));
    }
    out.sgx_svns[i] = static_cast<uint8_t>(v.as_int64());
  }
  CCB_ASSIGN_OR_RETURN(int64_t pcesvn, GetInt(*o, "pcesvn", 0xffff, what));
  out.pcesvn = static_cast<uint16_t>(pcesvn);
  return out;
}

}  // namespace

struct TdxTestHierarchy::Impl {
  Impl(HierarchyOptions o, crypto::PrivateKey root, crypto::PrivateKey pck_ca,
       crypto::PrivateKey tcb, crypto::PrivateKey pck_leaf, crypto::PrivateKey attestation)
      : options(std::move(o)),
        root_key(std::move(root)),
        pck_ca_key(std::move(pck_ca)),
        tcb_key(std::move(tcb)),
        pck_key(std::move(pck_leaf)),
        attestation_key(std::move(attestation)),
        root_public(root_key.Public()),
        attestation_point(RawPoint(attestation_key)) {}

  // The key and certificate files (the attestation key has no certificate).
  struct File {
    const char* name;
    crypto::PrivateKey Impl::*key;
    X509Ptr Impl::*cert;
  };
  static const std::array<File, 4> kFiles;

  // Called once the certificates are in place.
  void Finish() { pck_chain_pem = Pem(pck.get()) + Pem(pck_ca.get()) + Pem(root.get()); }

  HierarchyOptions options;
  crypto::PrivateKey root_key;
  crypto::PrivateKey pck_ca_key;
  crypto::PrivateKey tcb_key;
  crypto::PrivateKey pck_key;
  crypto::PrivateKey attestation_key;
  crypto::PublicKey root_public;
  X509Ptr root, pck_ca, tcb_signer, pck;
  std::string qe_mrsigner = crypto::Sha256("ccburst test QE signer");
  std::string attestation_point;
  std::string pck_chain_pem;
};

const std::array<TdxTestHierarchy::Impl::File, 4> TdxTestHierarchy::Impl::kFiles = {{
    {"root", &Impl::root_key, &Impl::root},
    {"pck_ca", &Impl::pck_ca_key, &Impl::pck_ca},
    {"tcb_signer", &Impl::tcb_key, &Impl::tcb_signer},
    {"pck", &Impl::pck_key, &Impl::pck},
}};

TdxTestHierarchy::TdxTestHierarchy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TdxTestHierarchy::~TdxTestHierarchy() = default;

std::unique_ptr<TdxTestHierarchy> TdxTestHierarchy::Create(HierarchyOptions options) {
  auto impl = std::make_unique<Impl>(
      options, crypto::PrivateKey::GenerateEcP256(), crypto::PrivateKey::GenerateEcP256(),
      crypto::PrivateKey::GenerateEcP256(), crypto::PrivateKey::GenerateEcP256(),
      crypto::PrivateKey::GenerateEcP256());
  impl->root =
      MakeCert("Test SGX Root CA", nullptr, impl->root_key, impl->root_key, 1, true, options);
  impl->pck_ca =
      MakeCert(kPckCaName, impl->root.get(), impl->root_key, impl->pck_ca_key, 2, true, options);
  impl->tcb_signer = MakeCert("Test SGX TCB Signing", impl->root.get(), impl->root_key,
                              impl->tcb_key, 3, false, options);
  impl->pck = MakeCert(options.pck_subject_cn, impl->pck_ca.get(), impl->pck_ca_key, impl->pck_key,
                       4, false, options, SgxExtension(options, std::string(16, '\x07')));
  impl->Finish();
  return std::unique_ptr<TdxTestHierarchy>(new TdxTestHierarchy(std::move(impl)));
}

absl::Status TdxTestHierarchy::Save(const std::string& dir) const {
  const Impl& m = *impl_;
  const HierarchyOptions& o = m.options;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(fmt::format("hierarchy: cannot create `{}`: {}", dir, ec.message()));
  }
  json::array svns;
  for (uint8_t v : o.sgx_svns) svns.push_back(v);
  json::object options{{"not_before", core::ToUnixSeconds(o.not_before)},
                       {"not_after", core::ToUnixSeconds(o.not_after)},
                       {"fmspc", core::HexEncode(o.fmspc)},
                       {"pce_id", core::HexEncode(o.pce_id)},
                       {"sgx_svns", std::move(svns)},
                       {"pcesvn", o.pcesvn}};
  CCB_RETURN_IF_ERROR(WriteFile(dir, kOptionsFile, core::Serialize(options) + "\n"));
  for (const Impl::File& f : Impl::kFiles) {
    CCB_RETURN_IF_ERROR(WriteFile(dir, std::string(f.name) + ".key", (m.*f.key).ToPem()));
    CCB_RETURN_IF_ERROR(WriteFile(dir, std::string(f.name) + ".crt", Pem((m.*f.cert).get())));
  }
  return WriteFile(dir, "attestation.key", m.attestation_key.ToPem());
}

absl::StatusOr<std::unique_ptr<TdxTestHierarchy>> TdxTestHierarchy::Load(const std::string& dir) {
  CCB_ASSIGN_OR_RETURN(std::string options_text, ReadFile(dir, kOptionsFile));
  CCB_ASSIGN_OR_RETURN(HierarchyOptions options, ParseOptions(options_text, dir));
  std::vector<crypto::PrivateKey> keys;
  for (const char* name : {"root", "pck_ca", "tcb_signer", "pck", "attestation"}) {
    CCB_ASSIGN_OR_RETURN(std::string pem, ReadFile(dir, std::string(name) + ".key"));
    auto key = crypto::PrivateKey::FromPem(pem);
    if (!key.ok() || key->type() != crypto::KeyType::kEcP256) {
      return absl::InvalidArgumentError(
          fmt::format("hierarchy: `{}/{}.key` is not an EC P-256 private key", dir, name));
    }
    keys.push_back(*std::move(key));
  }
  auto impl = std::make_unique<Impl>(options, keys[0], keys[1], keys[2], keys[3], keys[4]);
  for (const Impl::File& f : Impl::kFiles) {
    std::string file = std::string(f.name) + ".crt";
    CCB_ASSIGN_OR_RETURN(std::string pem, ReadFile(dir, file));
    CCB_ASSIGN_OR_RETURN(
        std::vector<std::string> ders,
        crypto::PemCertificatesToDer(pem, fmt::format("hierarchy: `{}/{}`", dir, file), true));
    std::vector<X509Ptr> certs;
    for (const std::string& der : ders) {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
      certs.emplace_back(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    }
    if (certs.size() != 1 || certs[0] == nullptr ||
        X509_check_private_key(certs[0].get(), ((*impl).*f.key).get()) != 1) {
      return absl::InvalidArgumentError(
          fmt::format("hierarchy: `{}/{}` is not one certificate for `{}.key`", dir, file, f.name));
    }
    (*impl).*f.cert = std::move(certs[0]);
  }
  impl->Finish();
  return std::unique_ptr<TdxTestHierarchy>(new TdxTestHierarchy(std::move(impl)));
}

dcap::TrustAnchor TdxTestHierarchy::anchor() const { return dcap::TrustAnchor(impl_->root_public); }
const crypto::PublicKey& TdxTestHierarchy::root_key() const { return impl_->root_public; }
std::string TdxTestHierarchy::root_pem() const { return Pem(impl_->root.get()); }

absl::StatusOr<std::string> TdxTestHierarchy::IssueQuote(const QuoteSpec& s) const {
  const Impl& m = *impl_;
  std::string q;
  U16(q, static_cast<uint16_t>(s.version));
  U16(q, kAttestationKeyTypeEcdsaP256);
  U32(q, kTeeTypeTdx);
  q += std::string(4, '\0');
  q += s.qe_vendor_id.empty() ? std::string(kIntelQeVendorId) : Pad(s.qe_vendor_id, 16);
  q += std::string(20, '\0');
  if (s.version == 5) {
    U16(q, 3);
    U32(q, 648);
  }
  q += Bytes(s.tee_tcb_svn);
  q += std::string(48, '\x5a');  // mr_seam
  q += Pad(s.mr_signer_seam, 48);
  q += Pad(s.seam_attributes, 8);
  q += Pad(s.td_attributes, 8);
  q += std::string("\xe7\x02\x06\x00\x00\x00\x00\x00", 8);  // xfam
  q += Pad(s.mr_td, 48);
  q += Pad(s.mr_config_id, 48);
  q += std::string(48, '\0');  // mr_owner
  q += std::string(48, '\0');  // mr_owner_config
  for (const auto& r : s.rtmr) q += Pad(r, 48);
  q += Pad(s.report_data, 64);
  if (s.version == 5) {
    q += Bytes(s.tee_tcb_svn2);
    q += std::string(48, '\0');  // mr_servicetd
  }
  CCB_ASSIGN_OR_RETURN(std::string quote_sig,
                       crypto::SignEcdsa(m.attestation_key, crypto::HashAlg::kSha256, q));

  std::string auth(32, '\x33');
  std::string qe;                 // SGX report of the QE
  qe += std::string(16, '\x01');  // cpusvn
  U32(qe, s.qe_miscselect);
  qe += std::string(28, '\0');
  qe += Pad(s.qe_attributes, 16);
  qe += std::string(32, '\x22');  // mrenclave
  qe += std::string(32, '\0');
  qe += s.qe_mrsigner.empty() ? m.qe_mrsigner : Pad(s.qe_mrsigner, 32);
  qe += std::string(96, '\0');
  U16(qe, 2);  // isvprodid
  U16(qe, s.qe_isvsvn);
  qe += std::string(60, '\0');
  qe += crypto::Sha256(m.attestation_point + auth) + std::string(32, '\0');
  CCB_ASSIGN_OR_RETURN(std::string qe_sig,
                       crypto::SignEcdsa(m.pck_key, crypto::HashAlg::kSha256, qe));

  std::string chain = m.pck_chain_pem + std::string(1, '\0');
  std::string cert6 = qe + qe_sig;
  U16(cert6, static_cast<uint16_t>(auth.size()));
  cert6 += auth;
  U16(cert6, 5);
  U32(cert6, static_cast<uint32_t>(chain.size()));
  cert6 += chain;
  std::string sig = quote_sig + m.attestation_point;
  U16(sig, 6);
  U32(sig, static_cast<uint32_t>(cert6.size()));
  sig += cert6;
  U32(q, static_cast<uint32_t>(sig.size()));
  q += sig;
  return q;
}

absl::StatusOr<dcap::Collateral> TdxTestHierarchy::MakeCollateral(const CollateralSpec& s) const {
  const Impl& m = *impl_;
  const HierarchyOptions& o = m.options;
  std::string issue = core::FormatRfc3339(s.issue_date);
  std::string next = core::FormatRfc3339(s.next_update);
  std::string zeros48 = HexUp(std::string(48, '\0'));
  std::array<uint8_t, 16> tdx_level = {6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::string tcb_info = fmt::format(
      "{{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"{}\",\"nextUpdate\":\"{}\",\"fmspc\":\"{}\","
      "\"pceId\":\"{}\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,\"tdxModule\":{{"
      "\"mrsigner\":\"{}\",\"attributes\":\"{}\",\"attributesMask\":"
      "\"FFFFFFFFFFFFFFFF\"}},\"tdxModuleIdentities\":[{{\"id\":\"TDX_01\",\"mrsigner\":\"{}\","
      "\"attributes\":\"{}\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":["
      "{{\"tcb\":{{\"isvsvn\":4}},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"{}\"}},"
      "{{\"tcb\":{{\"isvsvn\":2}},\"tcbDate\":\"2023-08-09T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}"
      "}"
      "]}}],\"tcbLevels\":[{{\"tcb\":{{\"sgxtcbcomponents\":{},\"pcesvn\":{},\"tdxtcbcomponents\":"
      "{}}},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"{}\"{}}},{{\"tcb\":{{"
      "\"sgxtcbcomponents\":{},\"pcesvn\":0,\"tdxtcbcomponents\":{}}},\"tcbDate\":"
      "\"2018-01-04T00:00:00Z\",\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00106\"]}}]"
      "}}",
      issue, next, HexUp(o.fmspc), HexUp(s.tcb_info_pce_id.empty() ? o.pce_id : s.tcb_info_pce_id),
      zeros48, HexUp(Pad(s.module_attributes, 8)), HexUp(Pad(s.module_identity_mrsigner, 48)),
      HexUp(Pad(s.module_attributes, 8)), s.module_status, Components(o.sgx_svns), o.pcesvn,
      Components(tdx_level), s.tcb_status, Advisories(s.advisory_ids), Components({}),
      Components({}));
  std::string qe_identity = fmt::format(
      "{{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"{}\",\"nextUpdate\":\"{}\","
      "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
      "\"attributes\":\"11000000000000000000000000000000\",\"attributesMask\":"
      "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"{}\",\"isvprodid\":2,\"tcbLevels\":["
      "{{\"tcb\":{{\"isvsvn\":4}},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"{}\"}},"
      "{{\"tcb\":{{\"isvsvn\":1}},\"tcbDate\":\"2021-11-10T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}"
      "}"
      "]}}",
      issue, next, HexUp(m.qe_mrsigner), s.qe_status);
  CCB_ASSIGN_OR_RETURN(std::string tcb_sig,
                       crypto::SignEcdsa(m.tcb_key, crypto::HashAlg::kSha256, tcb_info));
  CCB_ASSIGN_OR_RETURN(std::string qe_sig,
                       crypto::SignEcdsa(m.tcb_key, crypto::HashAlg::kSha256, qe_identity));
  dcap::Collateral c;
  c.tcb_info_json =
      fmt::format("{{\"tcbInfo\":{},\"signature\":\"{}\"}}", tcb_info, core::HexEncode(tcb_sig));
  c.qe_identity_json = fmt::format("{{\"enclaveIdentity\":{},\"signature\":\"{}\"}}", qe_identity,
                                   core::HexEncode(qe_sig));
  std::string signing_chain = Pem(m.tcb_signer.get()) + Pem(m.root.get());
  c.tcb_info_issuer_chain = signing_chain;
  c.qe_identity_issuer_chain = signing_chain;
  std::vector<X509*> pck_revoked, root_revoked;
  if (s.revoke_pck) pck_revoked.push_back(m.pck.get());
  if (s.revoke_pck_ca) root_revoked.push_back(m.pck_ca.get());
  if (s.pck_crl_issuer == CollateralSpec::PckCrlIssuer::kPckCa) {
    c.pck_crl = Crl(m.pck_ca.get(), m.pck_ca_key, s.issue_date, s.next_update, pck_revoked, 7);
    c.pck_crl_issuer_chain = Pem(m.pck_ca.get()) + Pem(m.root.get());
  } else {
    // A genuine CA under the same root, with a CRL of its own that is valid in every other way.
    bool same_name = s.pck_crl_issuer == CollateralSpec::PckCrlIssuer::kSameNameOtherKey;
    crypto::PrivateKey other_key = crypto::PrivateKey::GenerateEcP256();
    X509Ptr other = MakeCert(same_name ? kPckCaName : "Test SGX PCK Processor CA", m.root.get(),
                             m.root_key, other_key, 5, true, o);
    c.pck_crl = Crl(other.get(), other_key, s.issue_date, s.next_update, pck_revoked, 7);
    c.pck_crl_issuer_chain = Pem(other.get()) + Pem(m.root.get());
  }
  c.root_ca_crl = Crl(m.root.get(), m.root_key, s.issue_date, s.next_update, root_revoked, 3);
  return c;
}

}  // namespace ccburst::evidence::tdx::testing
