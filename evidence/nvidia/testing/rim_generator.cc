// Test RIMs: SWID tags shaped like NVIDIA's driver/VBIOS RIMs, signed with xmlsec1.
#include <fmt/format.h>
#include <libxml/tree.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>

#include <cstdlib>
#include <iostream>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/certificate.h"
#include "crypto/hash.h"
#include "evidence/nvidia/internal/xml.h"
#include "evidence/nvidia/testing/cert_maker.h"
#include "evidence/nvidia/testing/generator.h"

namespace ccburst::evidence::nvidia::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "nvidia test RIM CA: " << what << " failed\n";
    std::abort();
  }
}

std::string Document(const RimSpec& spec, bool with_signature_template) {
  std::string payload;
  for (size_t i = 0; i < spec.blocks; ++i) {
    payload += fmt::format(
        "    <Resource type=\"Measurement\" index=\"{}\" active=\"True\" alternatives=\"1\" "
        "name=\"Measurement {}\" size=\"48\" SHA384:Hash0=\"{}\"/>\n",
        i, i, core::HexEncode(GeneratedMeasurement(i + 1)));
  }
  std::string signature;
  if (with_signature_template) {
    signature =
        "  <ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384\"/>"
        "<ds:Reference URI=\"\"><ds:Transforms>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>"
        "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"/>"
        "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>\n";
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<SoftwareIdentity xmlns=\"{}\" xmlns:SHA384=\"{}\" corpus=\"false\" "
      "name=\"Test GH100 Driver RIM\" patch=\"false\" supplemental=\"false\" "
      "tagId=\"TEST_NV_GPU_DRIVER_GH100_{}\" tagVersion=\"0\" version=\"{}\" "
      "versionScheme=\"multipartnumeric\">\n"
      "  <Meta colloquialVersion=\"{}\" product=\"GH100\" revision=\"0\"/>\n"
      "  <Entity name=\"Test NVIDIA\" regid=\"nvidia.example\" role=\"softwareCreator "
      "tagCreator\"/>\n"
      "  <Payload>\n{}  </Payload>\n{}</SoftwareIdentity>\n",
      internal::kSwidNs, internal::kSha384Ns, spec.version, spec.version, spec.version, payload,
      signature);
}

xmlSecKeyPtr SignKey(const crypto::PrivateKey& key) {
  EVP_PKEY* pkey = key.get();
  Check(EVP_PKEY_up_ref(pkey) == 1, "key reference");
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pkey);
  Check(data != nullptr, "xmlsec key data");
  xmlSecKeyPtr k = xmlSecKeyCreate();
  Check(k != nullptr && xmlSecKeySetValue(k, data) == 0, "xmlsec key");
  return k;
}

}  // namespace

std::unique_ptr<TestRimCa> TestRimCa::Create(core::TimePoint not_before,
                                             core::TimePoint not_after) {
  std::unique_ptr<TestRimCa> ca(new TestRimCa());
  ca->not_before_ = not_before;
  ca->not_after_ = not_after;
  ca->root_der_ = MakeCert({"Test NVIDIA RIM Root CA", "Test NVIDIA RIM Root CA", &ca->root_key_,
                            &ca->root_key_, not_before, not_after, true, ""});
  ca->root_pem_ = Pem(ca->root_der_);
  return ca;
}

absl::Status TestRimCa::Save(const std::string& dir) const {
  CCB_RETURN_IF_ERROR(core::WriteFile(dir + "/rim_root.pem", root_pem_));
  return core::WriteFile(dir + "/rim_root_key.pem", root_key_.ToPem());
}

absl::StatusOr<std::unique_ptr<TestRimCa>> TestRimCa::Load(const std::string& dir) {
  CCB_ASSIGN_OR_RETURN(std::string pem, core::ReadFile(dir + "/rim_root.pem"));
  CCB_ASSIGN_OR_RETURN(crypto::Certificate root, crypto::Certificate::Parse(pem, "rim_root.pem"));
  CCB_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                       crypto::PrivateKey::LoadPemFile(dir + "/rim_root_key.pem"));
  std::unique_ptr<TestRimCa> ca(new TestRimCa());
  ca->not_before_ = root.not_before();
  ca->not_after_ = root.not_after();
  ca->root_key_ = std::move(key);
  ca->root_der_ = root.der();
  ca->root_pem_ = std::move(pem);
  return ca;
}

std::string TestRimCa::UnsignedRim(const RimSpec& spec) { return Document(spec, false); }

std::string TestRimCa::MakeRim(const RimSpec& spec) const {
  Check(internal::EnsureXmlSecInitialized().ok(), "xmlsec init");
  crypto::PrivateKey signer = crypto::PrivateKey::GenerateEcP384();
  std::string signer_der = MakeCert({"Test NVIDIA RIM Signer", "Test NVIDIA RIM Root CA", &signer,
                                     &root_key_, spec.signer_not_before.value_or(not_before_),
                                     spec.signer_not_after.value_or(not_after_), false, ""});
  crypto::PrivateKey other = crypto::PrivateKey::GenerateEcP384();

  auto doc = internal::ParseXml(Document(spec, true));
  Check(doc.ok(), "template parse");
  xmlNode* root = xmlDocGetRootElement(doc->get());
  xmlNode* sig = internal::ChildElement(root, internal::kDsigNs, "Signature");
  Check(sig != nullptr, "template signature");
  internal::DsigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr));
  Check(ctx != nullptr, "xmlsec context");
  ctx->signKey = SignKey(spec.foreign_key ? other : signer);
  Check(xmlSecDSigCtxSign(ctx.get(), sig) == 0, "xmlsec sign");
  // KeyInfo is outside SignedInfo: added after signing, as the signer and the root.
  xmlNode* key_info = xmlNewChild(sig, sig->ns, BAD_CAST "KeyInfo", nullptr);
  xmlNode* x509 = xmlNewChild(key_info, sig->ns, BAD_CAST "X509Data", nullptr);
  for (const std::string* der : {static_cast<const std::string*>(&signer_der), &root_der_}) {
    xmlNewTextChild(x509, sig->ns, BAD_CAST "X509Certificate",
                    BAD_CAST core::Base64Encode(*der).c_str());
  }
  xmlChar* out = nullptr;
  int len = 0;
  xmlDocDumpMemoryEnc(doc->get(), &out, &len, "UTF-8");
  Check(out != nullptr && len > 0, "xml dump");
  std::string xml(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  xmlFree(out);
  return xml;
}

}  // namespace ccburst::evidence::nvidia::testing
