#include "evidence/nvidia/testing/generator.h"

#include <fmt/format.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <iostream>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/certificate.h"
#include "crypto/der.h"
#include "crypto/hash.h"
#include "crypto/openssl.h"
#include "crypto/random.h"
#include "crypto/signature.h"
#include "evidence/nvidia/report.h"
#include "evidence/nvidia/testing/cert_maker.h"
#include "evidence/nvidia/verifier.h"

namespace ccburst::evidence::nvidia::testing {
namespace {

using crypto::X509Ptr;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "nvidia test CA: " << what << " failed\n";
    std::abort();
  }
}

using crypto::DerTlv;

// RIoT CompositeDeviceID: { INTEGER 1, device SPKI, { OID sha384, OCTET STRING fwid } }.
std::string FwidExtension(const crypto::PublicKey& device_key, std::string_view fwid) {
  std::string oid = DerTlv(0x06, std::string_view("\x60\x86\x48\x01\x65\x03\x04\x02\x02", 9));
  return DerTlv(0x30, DerTlv(0x02, std::string(1, '\x01')) + device_key.ToDer() +
                          DerTlv(0x30, oid + DerTlv(0x04, fwid)));
}

void AddExt(X509* x, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  Check(ext && X509_add_ext(x, ext.get(), -1) == 1, "extension");
}

}  // namespace

std::string MakeCert(const CertSpec& s) {
  X509Ptr x(X509_new());
  Check(x && X509_set_version(x.get(), 2) == 1, "x509");
  uint64_t serial = 0;
  for (char c : crypto::RandomBytes(7)) serial = (serial << 8) | static_cast<uint8_t>(c);
  Check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x.get()), serial) == 1, "serial");
  for (auto [name, cn] : {std::pair{X509_get_subject_name(x.get()), &s.subject_cn},
                          std::pair{X509_get_issuer_name(x.get()), &s.issuer_cn}}) {
    Check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>("NVIDIA Corporation"),
                                     -1, -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(cn->c_str()), -1,
                                         -1, 0) == 1,
          "name");
  }
  Check(ASN1_TIME_set(X509_getm_notBefore(x.get()), core::ToUnixSeconds(s.not_before)) &&
            ASN1_TIME_set(X509_getm_notAfter(x.get()), core::ToUnixSeconds(s.not_after)),
        "validity");
  Check(X509_set_pubkey(x.get(), s.subject_key->get()) == 1, "pubkey");
  if (s.ca) {
    AddExt(x.get(), NID_basic_constraints, "critical,CA:TRUE");
    AddExt(x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(x.get(), NID_key_usage, "critical,digitalSignature");
  }
  if (!s.fwid_extension.empty()) {
    crypto::Asn1ObjectPtr obj(OBJ_txt2obj(std::string(kFwidExtensionOid).c_str(), 1));
    crypto::Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
    Check(obj && os &&
              ASN1_OCTET_STRING_set(os.get(),
                                    reinterpret_cast<const unsigned char*>(s.fwid_extension.data()),
                                    static_cast<int>(s.fwid_extension.size())) == 1,
          "fwid value");
    crypto::X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, os.get()));
    Check(ext && X509_add_ext(x.get(), ext.get(), -1) == 1, "fwid extension");
  }
  Check(X509_sign(x.get(), s.issuer_key->get(), EVP_sha384()) > 0, "sign");
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  Check(len > 0, "i2d_X509");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string Pem(std::string_view der) {
  std::string b64 = core::Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

namespace {

void Le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Opaque(uint16_t type, std::string_view data) {
  std::string out;
  Le(out, type, 2);
  Le(out, data.size(), 2);
  return out + std::string(data);
}

}  // namespace

std::string GeneratedMeasurement(size_t index) {
  return crypto::Sha384(fmt::format("measurement {}", index));
}

std::unique_ptr<TestDeviceCa> TestDeviceCa::Create(core::TimePoint not_before,
                                                   core::TimePoint not_after) {
  std::unique_ptr<TestDeviceCa> ca(new TestDeviceCa());
  ca->not_before_ = not_before;
  ca->not_after_ = not_after;
  ca->root_der_ = MakeCert({"Test NVIDIA Device Identity CA", "Test NVIDIA Device Identity CA",
                            &ca->root_key_, &ca->root_key_, not_before, not_after, true, ""});
  ca->root_pem_ = Pem(ca->root_der_);
  return ca;
}

absl::Status TestDeviceCa::Save(const std::string& dir) const {
  CCB_RETURN_IF_ERROR(core::WriteFile(dir + "/root.pem", root_pem_));
  return core::WriteFile(dir + "/root_key.pem", root_key_.ToPem());
}

absl::StatusOr<std::unique_ptr<TestDeviceCa>> TestDeviceCa::Load(const std::string& dir) {
  CCB_ASSIGN_OR_RETURN(std::string pem, core::ReadFile(dir + "/root.pem"));
  CCB_ASSIGN_OR_RETURN(crypto::Certificate root, crypto::Certificate::Parse(pem, "root.pem"));
  CCB_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                       crypto::PrivateKey::LoadPemFile(dir + "/root_key.pem"));
  std::unique_ptr<TestDeviceCa> ca(new TestDeviceCa());
  ca->not_before_ = root.not_before();
  ca->not_after_ = root.not_after();
  ca->root_key_ = std::move(key);
  ca->root_der_ = root.der();
  ca->root_pem_ = std::move(pem);
  return ca;
}

TestGpu TestDeviceCa::MakeGpu(bool with_fwid) const {
  TestGpu gpu;
  gpu.fwid = crypto::RandomBytes(kFwidSize);
  crypto::PrivateKey brom = crypto::PrivateKey::GenerateEcP384();
  std::string brom_der = MakeCert({"GH100 A01 GSP BROM", "Test NVIDIA Device Identity CA", &brom,
                                   &root_key_, not_before_, not_after_, true, ""});
  std::string leaf_der =
      MakeCert({"GH100 A01 GSP FMC LF", "GH100 A01 GSP BROM", &gpu.leaf_key, &brom, not_before_,
                not_after_, false, with_fwid ? FwidExtension(brom.Public(), gpu.fwid) : ""});
  gpu.chain_pem = Pem(leaf_der) + Pem(brom_der) + root_pem_;
  return gpu;
}

std::string TestDeviceCa::MakeReport(const TestGpu& gpu, const ReportSpec& spec) {
  std::string r = {static_cast<char>(kSpdmVersion11), static_cast<char>(kGetMeasurements), '\x01',
                   '\xff'};
  r += spec.nonce;
  r.push_back('\0');
  std::string record;
  for (size_t i = 1; i <= spec.blocks; ++i) {
    record.push_back(static_cast<char>(i));
    record.push_back(static_cast<char>(kDmtfMeasurementSpecification));
    Le(record, 51, 2);
    record.push_back('\x01');
    Le(record, 48, 2);
    record += spec.other_firmware ? crypto::Sha384(fmt::format("other measurement {}", i))
                                  : GeneratedMeasurement(i);
  }
  r += {static_cast<char>(kSpdmVersion11), static_cast<char>(kMeasurements), '\0', '\0',
        static_cast<char>(spec.blocks)};
  Le(r, record.size(), 3);
  r += record;
  r += crypto::RandomBytes(kNonceSize);
  std::string opaque = Opaque(kOpaqueDriverVersion, spec.driver_version + std::string(1, '\0')) +
                       Opaque(kOpaqueVbiosVersion, spec.vbios) +
                       Opaque(kOpaqueFwid, spec.fwid.empty() ? gpu.fwid : spec.fwid) +
                       Opaque(kOpaqueNvdec0Status, "\x55") +
                       Opaque(kOpaqueProtectedPcieStatus, "\x55");
  Le(r, opaque.size(), 2);
  r += opaque;
  auto sig = crypto::SignEcdsa(gpu.leaf_key, crypto::HashAlg::kSha384, r);
  Check(sig.ok() && sig->size() == kSignatureSize, "report signature");
  return r + *sig;
}

boost::json::object TestDeviceCa::EvidenceEntry(const TestGpu& gpu, std::string_view report,
                                                std::string_view uuid) {
  return boost::json::object{{"arch", "HOPPER"},
                             {"uuid", uuid},
                             {"evidence", core::HexEncode(report)},
                             {"certificate", core::Base64Encode(gpu.chain_pem)}};
}

}  // namespace ccburst::evidence::nvidia::testing
