#include "evidence/snp/testing/generator.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/openssl.h"
#include "crypto/signature.h"
#include "evidence/snp/certificates.h"

namespace ccburst::evidence::snp::testing {
namespace {

using crypto::X509Ptr;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "snp test generator: %s failed\n", what);
    std::abort();
  }
}

void AddName(X509_NAME* name, const std::string& cn) {
  for (auto [field, value] : {std::pair<const char*, std::string>{"OU", "Engineering"},
                              {"C", "US"},
                              {"L", "Santa Clara"},
                              {"ST", "CA"},
                              {"O", "Advanced Micro Devices"},
                              {"CN", cn}}) {
    Check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.data()),
                                     static_cast<int>(value.size()), -1, 0) == 1,
          "name entry");
  }
}

void AddRawExtension(X509* x, const char* oid, const std::string& value) {
  crypto::Asn1ObjectPtr obj(OBJ_txt2obj(oid, 1));
  crypto::Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
  Check(obj && os &&
            ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(value.data()),
                                  static_cast<int>(value.size())) == 1,
        "extension value");
  crypto::X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, os.get()));
  Check(ext && X509_add_ext(x, ext.get(), -1) == 1, "add extension");
}

std::string DerInteger(int v) {
  std::string out = "\x02";
  if (v >= 0x80) {
    out += '\x02';
    out += '\0';
  } else {
    out += '\x01';
  }
  out += static_cast<char>(v);
  return out;
}

std::string DerIa5(const std::string& s) {
  return std::string("\x16") + static_cast<char>(s.size()) + s;
}

struct CertSpec {
  std::string subject_cn;
  std::string issuer_cn;
  long serial = 0;
  const crypto::PrivateKey* subject_key = nullptr;  // only the public half is used
  const crypto::PrivateKey* issuer_key = nullptr;   // RSA, signs with PSS SHA-384
  core::TimePoint not_before;
  core::TimePoint not_after;
  bool ca = false;
  std::vector<std::pair<const char*, std::string>> raw_extensions;
};

std::string MakeCert(const CertSpec& s) {
  X509Ptr x(X509_new());
  Check(x != nullptr && X509_set_version(x.get(), 2) == 1, "x509 new");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), s.serial) == 1, "serial");
  AddName(X509_get_subject_name(x.get()), s.subject_cn);
  AddName(X509_get_issuer_name(x.get()), s.issuer_cn);
  Check(ASN1_TIME_set(X509_getm_notBefore(x.get()),
                      static_cast<time_t>(core::ToUnixSeconds(s.not_before))) != nullptr &&
            ASN1_TIME_set(X509_getm_notAfter(x.get()),
                          static_cast<time_t>(core::ToUnixSeconds(s.not_after))) != nullptr,
        "validity");
  Check(X509_set_pubkey(x.get(), s.subject_key->get()) == 1, "pubkey");
  if (s.ca) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    crypto::X509ExtensionPtr bc(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
    Check(bc && X509_add_ext(x.get(), bc.get(), -1) == 1, "basic constraints");
  }
  for (const auto& [oid, value] : s.raw_extensions) AddRawExtension(x.get(), oid, value);

  crypto::MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  Check(md && EVP_DigestSignInit(md.get(), &pctx, EVP_sha384(), nullptr, s.issuer_key->get()) == 1,
        "sign init");
  Check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1,
        "PSS parameters");
  Check(X509_sign_ctx(x.get(), md.get()) > 0, "X509_sign_ctx");
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  Check(len > 0, "i2d_X509");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::vector<std::pair<const char*, std::string>> VekExtensionsFor(Generation product,
                                                                  const Tcb& tcb,
                                                                  const std::string* hwid) {
  std::vector<std::pair<const char*, std::string>> e = {
      {"1.3.6.1.4.1.3704.1.1", DerInteger(0)},
      {"1.3.6.1.4.1.3704.1.2", DerIa5(std::string(GenerationName(product)))},
      {"1.3.6.1.4.1.3704.1.3.1", DerInteger(tcb.bootloader)},
      {"1.3.6.1.4.1.3704.1.3.2", DerInteger(tcb.tee)},
      {"1.3.6.1.4.1.3704.1.3.3", DerInteger(tcb.snp)},
      {"1.3.6.1.4.1.3704.1.3.8", DerInteger(tcb.microcode)},
  };
  if (product == Generation::kTurin) {
    e.push_back({"1.3.6.1.4.1.3704.1.3.9", DerInteger(tcb.fmc.value_or(0))});
  }
  if (hwid != nullptr && !hwid->empty()) e.push_back({"1.3.6.1.4.1.3704.1.4", *hwid});
  return e;
}

std::pair<uint8_t, uint8_t> CpuidFor(Generation g) {
  switch (g) {
    case Generation::kMilan:
      return {0x19, 0x01};
    case Generation::kGenoa:
      return {0x19, 0x11};
    case Generation::kTurin:
      return {0x1a, 0x02};
    case Generation::kUnknown:
      break;
  }
  return {0, 0};
}

void Put(std::string& out, size_t off, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void PutBytes(std::string& out, size_t off, const std::string& v, size_t n) {
  std::string padded = v.substr(0, std::min(v.size(), n));
  padded.resize(n, '\0');
  std::memcpy(out.data() + off, padded.data(), n);
}

std::string Hwid(const HierarchyOptions& o) {
  return o.product == Generation::kTurin ? o.chip_id.substr(0, 8) : o.chip_id;
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

absl::StatusOr<uint64_t> GetUint(const json::object& o, std::string_view key, uint64_t max,
                                 const std::string& what) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !(v->is_uint64() || (v->is_int64() && v->as_int64() >= 0))) {
    return absl::InvalidArgumentError(fmt::format("{}: missing unsigned integer `{}`", what, key));
  }
  uint64_t n = v->is_uint64() ? v->as_uint64() : static_cast<uint64_t>(v->as_int64());
  if (n > max) return absl::InvalidArgumentError(fmt::format("{}: `{}` out of range", what, key));
  return n;
}

absl::StatusOr<HierarchyOptions> ParseOptions(std::string_view text, const std::string& dir) {
  std::string what = fmt::format("hierarchy: `{}/{}`", dir, kOptionsFile);
  CCB_ASSIGN_OR_RETURN(json::value doc, core::ParseJson(text));
  CCB_ASSIGN_OR_RETURN(const json::object* o, core::AsObject(doc, what));
  HierarchyOptions out;
  CCB_ASSIGN_OR_RETURN(std::string_view product, core::GetString(*o, "product", what));
  out.product = GenerationFromName(product);
  if (out.product == Generation::kUnknown) {
    return absl::InvalidArgumentError(fmt::format("{}: unknown product `{}`", what, product));
  }
  constexpr uint64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z
  CCB_ASSIGN_OR_RETURN(uint64_t not_before, GetUint(*o, "not_before", kMaxTime, what));
  CCB_ASSIGN_OR_RETURN(uint64_t not_after, GetUint(*o, "not_after", kMaxTime, what));
  out.not_before = core::FromUnixSeconds(static_cast<int64_t>(not_before));
  out.not_after = core::FromUnixSeconds(static_cast<int64_t>(not_after));
  CCB_ASSIGN_OR_RETURN(uint64_t rsa_bits, GetUint(*o, "rsa_bits", 16384, what));
  out.rsa_bits = static_cast<int>(rsa_bits);
  CCB_ASSIGN_OR_RETURN(uint64_t tcb, GetUint(*o, "tcb", UINT64_MAX, what));
  out.tcb = DecodeTcb(tcb, out.product);
  CCB_ASSIGN_OR_RETURN(std::string_view chip_id, core::GetString(*o, "chip_id", what));
  auto chip = core::HexDecode(chip_id);
  if (!chip.ok() || chip->size() != 64) {
    return absl::InvalidArgumentError(fmt::format("{}: `chip_id` is not 64 bytes of hex", what));
  }
  out.chip_id = *std::move(chip);
  return out;
}

// A key file and its DER certificate file, as Load fills them in.
struct KeyFile {
  const char* name;
  std::unique_ptr<crypto::PrivateKey>* key;
  std::string* der;
};

}  // namespace

std::unique_ptr<TestHierarchy> TestHierarchy::Create(HierarchyOptions options) {
  std::unique_ptr<TestHierarchy> h(new TestHierarchy());
  if (options.tcb == Tcb{}) {
    options.tcb.bootloader = 10;
    options.tcb.tee = 0;
    options.tcb.snp = 23;
    options.tcb.microcode = 84;
    if (options.product == Generation::kTurin) options.tcb.fmc = 1;
  }
  if (options.product == Generation::kTurin && !options.tcb.fmc) options.tcb.fmc = 0;
  options.tcb.raw = EncodeTcb(options.tcb, options.product);
  if (options.chip_id.empty()) {
    for (int i = 0; i < 64; ++i) options.chip_id.push_back(static_cast<char>(i ^ 0xa5));
    if (options.product == Generation::kTurin)
      std::fill(options.chip_id.begin() + 8, options.chip_id.end(), '\0');
  }
  h->options_ = options;
  std::string product(GenerationName(options.product));
  h->ark_ = std::make_unique<crypto::PrivateKey>(crypto::PrivateKey::GenerateRsa(options.rsa_bits));
  h->ask_ = std::make_unique<crypto::PrivateKey>(crypto::PrivateKey::GenerateRsa(options.rsa_bits));
  h->asvk_ =
      std::make_unique<crypto::PrivateKey>(crypto::PrivateKey::GenerateRsa(options.rsa_bits));
  h->vcek_ = std::make_unique<crypto::PrivateKey>(crypto::PrivateKey::GenerateEcP384());
  h->vlek_ = std::make_unique<crypto::PrivateKey>(crypto::PrivateKey::GenerateEcP384());
  std::string ark_cn = "ARK-" + product;
  h->ark_der_ = MakeCert({ark_cn,
                          ark_cn,
                          0x10000,
                          h->ark_.get(),
                          h->ark_.get(),
                          options.not_before,
                          options.not_after,
                          true,
                          {}});
  h->ask_der_ = MakeCert({"SEV-" + product,
                          ark_cn,
                          0x10001,
                          h->ask_.get(),
                          h->ark_.get(),
                          options.not_before,
                          options.not_after,
                          true,
                          {}});
  h->asvk_der_ = MakeCert({"SEV-VLEK-" + product,
                           ark_cn,
                           0x10101,
                           h->asvk_.get(),
                           h->ark_.get(),
                           options.not_before,
                           options.not_after,
                           true,
                           {}});
  h->vcek_der_ = h->IssueVcek(options.tcb, Hwid(options), options.not_before, options.not_after);
  auto vlek_ext = VekExtensionsFor(options.product, options.tcb, nullptr);
  vlek_ext.push_back({"1.3.6.1.4.1.3704.1.5", DerIa5("CN=test.example")});
  h->vlek_der_ = MakeCert({"SEV-VLEK", "SEV-VLEK-" + product, 0, h->vlek_.get(), h->asvk_.get(),
                           options.not_before, options.not_after, false, vlek_ext});
  return h;
}

absl::Status TestHierarchy::Save(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(fmt::format("hierarchy: cannot create `{}`: {}", dir, ec.message()));
  }
  json::object options{{"product", std::string(GenerationName(options_.product))},
                       {"not_before", core::ToUnixSeconds(options_.not_before)},
                       {"not_after", core::ToUnixSeconds(options_.not_after)},
                       {"rsa_bits", options_.rsa_bits},
                       {"tcb", EncodeTcb(options_.tcb, options_.product)},
                       {"chip_id", core::HexEncode(options_.chip_id)}};
  CCB_RETURN_IF_ERROR(WriteFile(dir, kOptionsFile, core::Serialize(options) + "\n"));
  struct SavedFile {
    const char* name;
    const crypto::PrivateKey& key;
    const std::string& der;
  };
  for (const SavedFile& f :
       {SavedFile{"ark", *ark_, ark_der_}, SavedFile{"ask", *ask_, ask_der_},
        SavedFile{"asvk", *asvk_, asvk_der_}, SavedFile{"vcek", *vcek_, vcek_der_},
        SavedFile{"vlek", *vlek_, vlek_der_}}) {
    CCB_RETURN_IF_ERROR(WriteFile(dir, std::string(f.name) + ".key", f.key.ToPem()));
    CCB_RETURN_IF_ERROR(WriteFile(dir, std::string(f.name) + ".der", f.der));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TestHierarchy>> TestHierarchy::Load(const std::string& dir) {
  CCB_ASSIGN_OR_RETURN(std::string options_text, ReadFile(dir, kOptionsFile));
  std::unique_ptr<TestHierarchy> h(new TestHierarchy());
  CCB_ASSIGN_OR_RETURN(h->options_, ParseOptions(options_text, dir));
  for (const KeyFile& f :
       {KeyFile{"ark", &h->ark_, &h->ark_der_}, KeyFile{"ask", &h->ask_, &h->ask_der_},
        KeyFile{"asvk", &h->asvk_, &h->asvk_der_}, KeyFile{"vcek", &h->vcek_, &h->vcek_der_},
        KeyFile{"vlek", &h->vlek_, &h->vlek_der_}}) {
    std::string name(f.name);
    CCB_ASSIGN_OR_RETURN(std::string pem, ReadFile(dir, name + ".key"));
    auto key = crypto::PrivateKey::FromPem(pem);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("hierarchy: `{}/{}.key`: {}", dir, name, core::Message(key.status())));
    }
    *f.key = std::make_unique<crypto::PrivateKey>(*std::move(key));
    CCB_ASSIGN_OR_RETURN(*f.der, ReadFile(dir, name + ".der"));
    const auto* p = reinterpret_cast<const unsigned char*>(f.der->data());
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(f.der->size())));
    if (cert == nullptr ||
        p != reinterpret_cast<const unsigned char*>(f.der->data()) + f.der->size() ||
        X509_check_private_key(cert.get(), (*f.key)->get()) != 1) {
      return absl::InvalidArgumentError(fmt::format(
          "hierarchy: `{}/{}.der` is not one DER certificate for `{}.key`", dir, name, name));
    }
  }
  return h;
}

std::string TestHierarchy::IssueVcek(const Tcb& tcb, const std::string& hwid,
                                     core::TimePoint not_before, core::TimePoint not_after) const {
  std::string product(GenerationName(options_.product));
  return MakeCert({"SEV-VCEK", "SEV-" + product, 0, vcek_.get(), ask_.get(), not_before, not_after,
                   false, VekExtensionsFor(options_.product, tcb, &hwid)});
}

std::string TestHierarchy::IssueCrl(const std::vector<long>& serials) const {
  crypto::X509CrlPtr crl(X509_CRL_new());
  Check(crl != nullptr && X509_CRL_set_version(crl.get(), 1) == 1, "crl new");
  X509_NAME* name = X509_NAME_new();
  AddName(name, "ARK-" + std::string(GenerationName(options_.product)));
  Check(X509_CRL_set_issuer_name(crl.get(), name) == 1, "crl issuer");
  X509_NAME_free(name);
  crypto::Asn1TimePtr last(
      ASN1_TIME_set(nullptr, static_cast<time_t>(core::ToUnixSeconds(options_.not_before))));
  crypto::Asn1TimePtr next(
      ASN1_TIME_set(nullptr, static_cast<time_t>(core::ToUnixSeconds(options_.not_after))));
  Check(X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1 &&
            X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1,
        "crl dates");
  for (long serial : serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    Check(r && s && ASN1_INTEGER_set(s, serial) == 1 && X509_REVOKED_set_serialNumber(r, s) == 1 &&
              X509_REVOKED_set_revocationDate(r, last.get()) == 1,
          "revoked entry");
    ASN1_INTEGER_free(s);
    Check(X509_CRL_add0_revoked(crl.get(), r) == 1, "add revoked");
  }
  crypto::MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  Check(md && EVP_DigestSignInit(md.get(), &pctx, EVP_sha384(), nullptr, ark_->get()) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1,
        "crl sign init");
  Check(X509_CRL_sign_ctx(crl.get(), md.get()) > 0, "X509_CRL_sign_ctx");
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl.get(), &der);
  Check(len > 0, "i2d_X509_CRL");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

ProductAnchor TestHierarchy::anchor() const {
  return {options_.product, ark_der_, ask_der_, asvk_der_};
}

SnpVerifierOptions TestHierarchy::VerifierOptions() const {
  SnpVerifierOptions o;
  o.anchors = {anchor()};
  o.allow_unpinned_arks = true;
  return o;
}

std::string TestHierarchy::SignReport(const ReportSpec& spec) const {
  std::string r(kReportSize, '\0');
  Generation g = options_.product;
  Tcb tcb = spec.reported_tcb.value_or(options_.tcb);
  uint64_t tcb_raw = EncodeTcb(tcb, g);
  Put(r, 0x00, spec.version, 4);
  Put(r, 0x04, 1, 4);  // GUEST_SVN
  Put(r, 0x08, spec.policy, 8);
  Put(r, 0x30, spec.vmpl, 4);
  Put(r, 0x34, kSigAlgoEcdsaP384Sha384, 4);
  Put(r, 0x38, tcb_raw, 8);
  Put(r, 0x40, spec.platform_info, 8);
  Put(r, 0x48, spec.signing_key == SigningKey::kVlek ? (1u << 2) : 0u, 4);
  PutBytes(r, 0x50, spec.report_data, 64);
  PutBytes(r, 0x90, spec.measurement, 48);
  PutBytes(r, 0xC0, spec.host_data, 32);
  PutBytes(r, 0x140, std::string(32, '\x42'), 32);  // REPORT_ID
  PutBytes(r, 0x160, std::string(32, '\xff'), 32);  // REPORT_ID_MA
  Put(r, 0x180, tcb_raw, 8);
  if (spec.version >= 3) {
    auto [fam, mod] = CpuidFor(g);
    Put(r, 0x188, fam, 1);
    Put(r, 0x189, mod, 1);
    Put(r, 0x18A, 1, 1);
  }
  PutBytes(r, 0x1A0, spec.chip_id.value_or(options_.chip_id), 64);
  Put(r, 0x1E0, tcb_raw, 8);
  Put(r, 0x1E8, 40, 1);
  Put(r, 0x1E9, 55, 1);
  Put(r, 0x1EA, 1, 1);
  Put(r, 0x1EC, 40, 1);
  Put(r, 0x1ED, 55, 1);
  Put(r, 0x1EE, 1, 1);
  Put(r, 0x1F0, tcb_raw, 8);
  if (spec.version >= 5) {
    Put(r, 0x1F8, 0x1, 8);
    Put(r, 0x200, 0x3, 8);
  }
  return Resign(std::move(r), spec.signing_key);
}

std::string TestHierarchy::Resign(std::string r, SigningKey key) const {
  const crypto::PrivateKey& k = key == SigningKey::kVlek ? *vlek_ : *vcek_;
  auto sig =
      crypto::SignEcdsa(k, crypto::HashAlg::kSha384, std::string_view(r).substr(0, kSignedSize));
  Check(sig.ok() && sig->size() == 96, "ECDSA sign");
  std::fill(r.begin() + kSignatureROffset, r.end(), '\0');
  for (size_t i = 0; i < 48; ++i) {
    r[kSignatureROffset + i] = (*sig)[47 - i];
    r[kSignatureSOffset + i] = (*sig)[95 - i];
  }
  return r;
}

std::string TestHierarchy::TsmEvidenceJson(const ReportSpec& spec, bool with_certs) const {
  std::string report = SignReport(spec);
  std::string aux = "null";
  if (with_certs) {
    bool vlek = spec.signing_key == SigningKey::kVlek;
    std::vector<EvidenceCert> certs = {
        {vlek ? CertKind::kVlek : CertKind::kVcek, vlek ? vlek_der_ : vcek_der_},
        {CertKind::kAsk, vlek ? asvk_der_ : ask_der_},
        {CertKind::kArk, ark_der_}};
    aux = "\"" + core::Base64Encode(EncodeCertTable(certs)) + "\"";
  }
  return "{\"report\":\"" + core::Base64Encode(report) + "\",\"auxblob\":" + aux + "}";
}

}  // namespace ccburst::evidence::snp::testing
