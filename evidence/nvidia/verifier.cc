#include "evidence/nvidia/verifier.h"

#include <fmt/format.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "core/byte_reader.h"
#include "core/encoding.h"
#include "core/log_safe.h"
#include "crypto/der.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "evidence/nvidia/device_root.h"

namespace ccburst::evidence::nvidia {
namespace {

absl::Status Refuse(Check check, Check* failed, absl::Status status) {
  if (failed != nullptr) *failed = check;
  return status;
}

absl::Status Denied(Check check, Check* failed, std::string message) {
  return Refuse(check, failed,
                absl::PermissionDeniedError(fmt::format("nvidia: {}", std::move(message))));
}

// The FWID extension: RIoT CompositeDeviceID
// SEQUENCE { INTEGER version, SubjectPublicKeyInfo deviceId, SEQUENCE { OID hashAlg, OCTET STRING }
// }.
struct FwidExtension {
  std::string_view device_spki;  // full DER SEQUENCE
  std::string fwid;
};

absl::StatusOr<FwidExtension> ParseFwidExtension(std::string_view value) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(
        fmt::format("FWID extension {} is not a CompositeDeviceID: {}", kFwidExtensionOid, what));
  };
  uint8_t tag = 0;
  std::string_view body;
  if (!crypto::ReadWholeDerTlv(value, &tag, &body) || tag != 0x30) return bad("no SEQUENCE");
  core::ByteReader r(body, "fwid");
  std::string_view version, hash;
  if (!crypto::ReadDerTlv(r, "version", &tag, &version).ok() || tag != 0x02) {
    return bad("no version INTEGER");
  }
  size_t spki_start = r.offset();
  std::string_view spki_content;
  if (!crypto::ReadDerTlv(r, "deviceId", &tag, &spki_content).ok() || tag != 0x30) {
    return bad("no device key");
  }
  FwidExtension out;
  out.device_spki = body.substr(spki_start, r.offset() - spki_start);
  if (!crypto::ReadDerTlv(r, "fwid", &tag, &hash).ok() || tag != 0x30 || !r.empty()) {
    return bad("no FWID SEQUENCE at the end");
  }
  core::ByteReader h(hash, "fwid");
  std::string_view oid, digest;
  if (!crypto::ReadDerTlv(h, "hashAlg", &tag, &oid).ok() || tag != 0x06 ||
      !crypto::ReadDerTlv(h, "digest", &tag, &digest).ok() || tag != 0x04 || !h.empty()) {
    return bad("FWID is not { OID, OCTET STRING }");
  }
  // 2.16.840.1.101.3.4.2.2 (SHA-384).
  if (oid != std::string_view("\x60\x86\x48\x01\x65\x03\x04\x02\x02", 9)) {
    return bad("FWID hash is not SHA-384");
  }
  if (digest.size() != kFwidSize) return bad("FWID is not 48 bytes");
  out.fwid = std::string(digest);
  return out;
}

absl::StatusOr<std::string> DecodeReport(std::string_view text) {
  bool hex = !text.empty() && text.size() % 2 == 0 &&
             std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(c) != 0; });
  if (hex) return core::HexDecode(text);
  return core::Base64Decode(text);
}

}  // namespace

std::string_view CheckName(Check check) {
  switch (check) {
    case Check::kNone:
      return "none";
    case Check::kParse:
      return "parse";
    case Check::kReportSignature:
      return "report-signature";
    case Check::kChainTooShort:
      return "chain-too-short";
    case Check::kUntrustedRoot:
      return "untrusted-root";
    case Check::kLeafNoFwid:
      return "leaf-no-fwid";
    case Check::kFwidMismatch:
      return "fwid-mismatch";
    case Check::kChainSignature:
      return "chain-signature";
    case Check::kChainExpired:
      return "chain-expired";
    case Check::kLeaf:
      return "leaf";
    case Check::kNonce:
      return "nonce";
  }
  return "none";
}

absl::StatusOr<std::vector<DeviceEvidence>> ParseDeviceEvidenceList(const boost::json::value& v,
                                                                    size_t max_devices) {
  auto invalid = [](std::string m) {
    return absl::InvalidArgumentError(fmt::format("nvidia: {}", m));
  };
  const auto* obj = v.if_object();
  const boost::json::value* list = obj ? obj->if_contains("device_evidence_list") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return invalid("evidence has no device_evidence_list array");
  }
  const auto& arr = list->as_array();
  if (arr.empty()) return invalid("device_evidence_list is empty");
  if (arr.size() > max_devices) {
    return invalid(fmt::format("device_evidence_list has {} devices, more than the limit of {}",
                               arr.size(), max_devices));
  }
  std::vector<DeviceEvidence> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    const auto* d = arr[i].if_object();
    if (d == nullptr) return invalid(fmt::format("device {}: not a JSON object", i));
    auto str = [&](std::string_view key) -> const boost::json::string* {
      const boost::json::value* m = d->if_contains(key);
      return m ? m->if_string() : nullptr;
    };
    DeviceEvidence e;
    const auto* arch = str("arch");
    const auto* evidence = str("evidence");
    const auto* certificate = str("certificate");
    if (arch == nullptr || evidence == nullptr || certificate == nullptr) {
      return invalid(
          fmt::format("device {}: arch, evidence and certificate must be JSON strings", i));
    }
    e.arch = std::string(*arch);
    std::string lower = e.arch;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower != "hopper") {
      return invalid(fmt::format(
          "device {}: architecture `{}` is not supported (only Hopper is verified locally)", i,
          core::LogSafe(e.arch, 32)));
    }
    if (const auto* uuid = str("uuid")) e.uuid = std::string(*uuid);
    CCB_ASSIGN_OR_RETURN(e.report, DecodeReport(*evidence),
                         "nvidia: device {}: evidence is neither hex nor base64", i);
    CCB_ASSIGN_OR_RETURN(e.cert_chain, core::Base64Decode(*certificate),
                         "nvidia: device {}: certificate is not base64", i);
    out.push_back(std::move(e));
  }
  return out;
}

std::string ExpectedNonce(std::string_view report_data) {
  std::string nonce(report_data.substr(0, kNonceSize));
  nonce.resize(kNonceSize, '\0');
  return nonce;
}

absl::StatusOr<std::unique_ptr<NvidiaVerifier>> NvidiaVerifier::Create(
    NvidiaVerifierOptions options) {
  std::unique_ptr<NvidiaVerifier> v(new NvidiaVerifier());
  v->cache_ = options.cache ? options.cache : std::make_shared<crypto::CertificateCache>();
  bool shipped = options.trust_anchors.empty();
  if (shipped) options.trust_anchors.emplace_back(NvidiaDeviceRootPem());
  for (const std::string& a : options.trust_anchors) {
    CCB_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::Parse(a, "nvidia: trust anchor"));
    if (shipped && core::HexEncode(crypto::Sha256(cert.der())) != kNvidiaDeviceRootSha256) {
      return absl::InternalError("nvidia: the shipped device root does not match its pin");
    }
    v->anchors_der_.push_back(cert.der());
  }
  return v;
}

absl::StatusOr<VerifiedChain> NvidiaVerifier::VerifyChain(
    std::string_view chain_pem, std::optional<std::string_view> expected_fwid, core::TimePoint now,
    Check* failed) const {
  if (failed != nullptr) *failed = Check::kNone;
  return CheckChain(chain_pem, expected_fwid, now, failed);
}

absl::StatusOr<VerifiedChain> NvidiaVerifier::CheckChain(
    std::string_view chain_pem, std::optional<std::string_view> expected_fwid, core::TimePoint now,
    Check* failed) const {
  auto ders = crypto::PemCertificatesToDer(chain_pem, "nvidia: certificate chain", false);
  if (!ders.ok()) return Refuse(Check::kParse, failed, ders.status());
  VerifiedChain chain;
  for (size_t i = 0; i < ders->size(); ++i) {
    auto cert = cache_->GetCertificate((*ders)[i], fmt::format("nvidia: certificate {}", i));
    if (!cert.ok()) return Refuse(Check::kParse, failed, cert.status());
    chain.certs.push_back(*std::move(cert));
  }
  const auto& certs = chain.certs;
  if (certs.size() < 2) {
    return Denied(Check::kChainTooShort, failed,
                  fmt::format("certificate chain has {} certificate(s), it needs at least the "
                              "device leaf and the root",
                              certs.size()));
  }
  const crypto::Certificate& leaf = *certs.front();
  const crypto::Certificate& root = *certs.back();
  if (std::find(anchors_der_.begin(), anchors_der_.end(), root.der()) == anchors_der_.end()) {
    return Denied(Check::kUntrustedRoot, failed,
                  fmt::format("certificate chain ends in `{}`, not in a trusted NVIDIA root",
                              root.subject_cn()));
  }
  std::optional<std::string_view> ext = leaf.Extension(kFwidExtensionOid);
  if (!ext) {
    return Denied(Check::kLeafNoFwid, failed,
                  fmt::format("leaf certificate `{}` has no FWID extension ({})", leaf.subject_cn(),
                              kFwidExtensionOid));
  }
  auto fwid = ParseFwidExtension(*ext);
  if (!fwid.ok()) {
    return Denied(
        Check::kLeafNoFwid, failed,
        fmt::format("leaf certificate `{}`: {}", leaf.subject_cn(), core::Message(fwid.status())));
  }
  chain.fwid = fwid->fwid;
  if (expected_fwid && *expected_fwid != chain.fwid) {
    return Denied(Check::kFwidMismatch, failed,
                  fmt::format("leaf certificate FWID {} does not match the report FWID {}",
                              core::HexEncode(chain.fwid), core::HexEncode(*expected_fwid)));
  }
  for (size_t i = 0; i + 1 < certs.size(); ++i) {
    if (absl::Status s = certs[i]->VerifySignedBy(*certs[i + 1]); !s.ok()) {
      return Denied(Check::kChainSignature, failed,
                    fmt::format("certificate chain link {}: {}", i, core::Message(s)));
    }
    X509* issuer = certs[i + 1]->get();
    if (X509_check_ca(issuer) < 1 || ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) != 0 &&
                                      (X509_get_key_usage(issuer) & KU_KEY_CERT_SIGN) == 0)) {
      return Denied(Check::kChainSignature, failed,
                    fmt::format("issuer `{}` of certificate {} is not a CA allowed to sign "
                                "certificates",
                                certs[i + 1]->subject_cn(), i));
    }
  }
  if (absl::Status s = root.VerifySignedBy(root); !s.ok()) {
    return Denied(Check::kChainSignature, failed,
                  fmt::format("root `{}` is not self-signed", root.subject_cn()));
  }
  for (const auto& c : certs) {
    if (now < c->not_before()) {
      return Denied(Check::kChainExpired, failed,
                    fmt::format("certificate `{}` is not valid before {} (verification time {})",
                                c->subject_cn(), core::FormatRfc3339(c->not_before()),
                                core::FormatRfc3339(now)));
    }
    if (now > c->not_after()) {
      return Denied(
          Check::kChainExpired, failed,
          fmt::format("certificate `{}` expired at {} (verification time {})", c->subject_cn(),
                      core::FormatRfc3339(c->not_after()), core::FormatRfc3339(now)));
    }
  }
  X509* leaf_x = leaf.get();
  if (X509_check_ca(leaf_x) != 0) {
    return Denied(
        Check::kLeaf, failed,
        fmt::format("leaf certificate `{}` is a CA, not a device end entity", leaf.subject_cn()));
  }
  if ((X509_get_extension_flags(leaf_x) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(leaf_x) & KU_DIGITAL_SIGNATURE) == 0) {
    return Denied(Check::kLeaf, failed,
                  fmt::format("leaf certificate `{}` may not sign (no digitalSignature key usage)",
                              leaf.subject_cn()));
  }
  const auto& issuer_key = certs[1]->public_key();
  if (!issuer_key.ok() || issuer_key->ToDer() != fwid->device_spki) {
    return Denied(Check::kLeaf, failed,
                  fmt::format("leaf certificate `{}`: FWID extension names a device key other "
                              "than its issuer `{}`'s",
                              leaf.subject_cn(), certs[1]->subject_cn()));
  }
  return chain;
}

absl::StatusOr<DeviceVerification> NvidiaVerifier::VerifyDevice(const DeviceEvidence& evidence,
                                                                const std::string* expected_nonce,
                                                                core::TimePoint now,
                                                                Check* failed) const {
  if (failed != nullptr) *failed = Check::kNone;
  auto report = ParseReport(evidence.report);
  if (!report.ok()) return Refuse(Check::kParse, failed, report.status());
  auto config = ConfigClaims(*report);
  if (!config.ok()) return Refuse(Check::kParse, failed, config.status());
  auto ders = crypto::PemCertificatesToDer(evidence.cert_chain, "nvidia: certificate chain", false);
  if (!ders.ok()) return Refuse(Check::kParse, failed, ders.status());
  auto leaf = cache_->GetCertificate(ders->front(), "nvidia: certificate 0");
  if (!leaf.ok()) return Refuse(Check::kParse, failed, leaf.status());
  const auto& key = (*leaf)->public_key();
  if (!key.ok() || key->type() != crypto::KeyType::kEcP384) {
    return Denied(
        Check::kReportSignature, failed,
        fmt::format("leaf certificate `{}` has no ECDSA P-384 key", (*leaf)->subject_cn()));
  }
  if (!crypto::VerifyEcdsa(*key, crypto::HashAlg::kSha384, report->signed_bytes(),
                           report->signature)
           .ok()) {
    return Denied(Check::kReportSignature, failed,
                  fmt::format("report signature does not verify with the key of leaf certificate "
                              "`{}`",
                              (*leaf)->subject_cn()));
  }
  DeviceVerification out;
  CCB_ASSIGN_OR_RETURN(
      out.chain, CheckChain(evidence.cert_chain, report->Opaque(kOpaqueFwid)->data, now, failed));
  if (expected_nonce != nullptr && report->request_nonce != *expected_nonce) {
    return Denied(
        Check::kNonce, failed,
        fmt::format("report nonce {} does not match the expected nonce {}",
                    core::HexEncode(report->request_nonce), core::HexEncode(*expected_nonce)));
  }
  out.claims["arch"] = "Hopper";
  if (evidence.uuid) out.claims["uuid"] = *evidence.uuid;
  out.claims["measurements"] = MeasurementClaims(*report);
  out.claims["config"] = *std::move(config);
  out.report = *std::move(report);
  return out;
}

}  // namespace ccburst::evidence::nvidia
