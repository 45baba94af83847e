#include "evidence/dcap/verify.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include <cstring>
#include <optional>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/openssl.h"
#include "crypto/signature.h"

namespace ccburst::evidence::dcap {
namespace {

absl::Status Denied(std::string msg) { return absl::PermissionDeniedError(std::move(msg)); }

// The attestation key (64 raw bytes x||y) as a P-256 public key. Built with EVP_PKEY_fromdata,
// which checks that the point is on the curve and costs a seventh of decoding the same key
// as a SubjectPublicKeyInfo (d2i_PUBKEY runs OpenSSL 3's generic decoder machinery).
absl::StatusOr<crypto::PublicKey> P256FromRaw(std::string_view xy) {
  auto bad = [] {
    return absl::InvalidArgumentError("tdx: quote: attestation key is not a P-256 point");
  };
  if (xy.size() != 64) return bad();
  unsigned char point[65];
  point[0] = 0x04;
  memcpy(point + 1, xy.data(), 64);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
      OSSL_PARAM_construct_end()};
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return bad();
  }
  crypto::PkeyPtr pkey(raw);
  return crypto::PublicKey::FromEvp(pkey.get());
}

bool CpuSvnHigherOrEqual(const PckExtensions& pck, const TcbLevel& level) {
  for (size_t i = 0; i < 16; ++i) {
    if (pck.sgx_tcb_comp_svns[i] < level.sgx_svns[i]) return false;
  }
  return true;
}

absl::StatusOr<std::shared_ptr<const PckChainCache::Chain>> ParseChain(
    const std::string& pem, crypto::CertificateCache& certs) {
  // Decoded once per distinct certificate (CertificateCache); verified by the caller.
  CCB_ASSIGN_OR_RETURN(std::vector<CertPtr> chain_certs,
                       ParsePemChain(pem, "tdx: pck certificate chain", certs));
  if (chain_certs.size() != 3) {
    return absl::InvalidArgumentError(
        fmt::format("tdx: pck certificate chain: has {} certificates, want 3 (PCK, PCK CA, root)",
                    chain_certs.size()));
  }
  auto chain = std::make_shared<PckChainCache::Chain>();
  CCB_ASSIGN_OR_RETURN(chain->ext, ParsePckExtensions(*chain_certs[0]));
  CCB_ASSIGN_OR_RETURN(chain->pck_key, CertPublicKey(*chain_certs[0]));
  chain->issuer = chain_certs[0]->issuer_cn();
  chain->not_before = std::max(
      {chain_certs[0]->not_before(), chain_certs[1]->not_before(), chain_certs[2]->not_before()});
  chain->not_after = std::min(
      {chain_certs[0]->not_after(), chain_certs[1]->not_after(), chain_certs[2]->not_after()});
  chain->leaf = std::move(chain_certs[0]);
  chain->ca = std::move(chain_certs[1]);
  chain->root = std::move(chain_certs[2]);
  return std::shared_ptr<const PckChainCache::Chain>(std::move(chain));
}

absl::StatusOr<std::shared_ptr<const PckChainCache::Chain>> GetChain(const std::string& pem,
                                                                     PckChainCache* cache) {
  if (cache != nullptr) return cache->Get(pem);
  crypto::CertificateCache certs;
  return ParseChain(pem, certs);
}

}  // namespace

// Intel's PCK chains are about 4 KB of PEM; the chain comes from an untrusted quote, so a chain
// much larger than that is verified but not kept (bounds the cache's memory).
constexpr size_t kMaxCachedChainBytes = 16 * 1024;

absl::StatusOr<std::shared_ptr<const PckChainCache::Chain>> PckChainCache::Get(
    const std::string& pem) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = chains_.find(pem);
    if (it != chains_.end()) return it->second;
  }
  CCB_ASSIGN_OR_RETURN(auto chain, ParseChain(pem, *certs_));
  if (pem.size() > kMaxCachedChainBytes) return chain;
  std::lock_guard<std::mutex> lock(mu_);
  if (chains_.size() >= max_entries_) chains_.clear();
  chains_.emplace(pem, chain);
  return chain;
}

void PckChainCache::MarkVerified(const std::string& pem, std::shared_ptr<const Chain> chain) {
  if (pem.size() > kMaxCachedChainBytes) return;
  auto verified = std::make_shared<Chain>(*chain);
  verified->verified = true;
  std::lock_guard<std::mutex> lock(mu_);
  chains_[pem] = std::move(verified);
}

absl::StatusOr<crypto::PublicKey> PckChainCache::AttestationKey(const std::string& raw) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(raw);
    if (it != keys_.end()) return it->second;
  }
  CCB_ASSIGN_OR_RETURN(crypto::PublicKey key, P256FromRaw(raw));
  std::lock_guard<std::mutex> lock(mu_);
  if (keys_.size() >= max_entries_) keys_.clear();
  keys_.emplace(raw, key);
  return key;
}

TcbStatus ParseTcbStatus(std::string_view s) {
  if (s == "UpToDate") return TcbStatus::kUpToDate;
  if (s == "SWHardeningNeeded") return TcbStatus::kSwHardeningNeeded;
  if (s == "ConfigurationNeeded") return TcbStatus::kConfigurationNeeded;
  if (s == "ConfigurationAndSWHardeningNeeded") {
    return TcbStatus::kConfigurationAndSwHardeningNeeded;
  }
  if (s == "OutOfDate") return TcbStatus::kOutOfDate;
  if (s == "OutOfDateConfigurationNeeded") return TcbStatus::kOutOfDateConfigurationNeeded;
  if (s == "Revoked") return TcbStatus::kRevoked;
  return TcbStatus::kUnrecognized;
}

std::string_view TcbStatusName(TcbStatus s) {
  switch (s) {
    case TcbStatus::kUpToDate:
      return "UpToDate";
    case TcbStatus::kSwHardeningNeeded:
      return "SWHardeningNeeded";
    case TcbStatus::kConfigurationNeeded:
      return "ConfigurationNeeded";
    case TcbStatus::kConfigurationAndSwHardeningNeeded:
      return "ConfigurationAndSWHardeningNeeded";
    case TcbStatus::kOutOfDate:
      return "OutOfDate";
    case TcbStatus::kOutOfDateConfigurationNeeded:
      return "OutOfDateConfigurationNeeded";
    case TcbStatus::kRevoked:
      return "Revoked";
    case TcbStatus::kTdRelaunchAdvised:
      return "TDRelaunchAdvised";
    case TcbStatus::kTdRelaunchAdvisedConfigurationNeeded:
      return "TDRelaunchAdvisedConfigurationNeeded";
    case TcbStatus::kUnrecognized:
      break;
  }
  return "Unrecognized";
}

bool ConfigurationNeeded(TcbStatus s) {
  return s == TcbStatus::kConfigurationNeeded || s == TcbStatus::kOutOfDateConfigurationNeeded ||
         s == TcbStatus::kConfigurationAndSwHardeningNeeded ||
         s == TcbStatus::kTdRelaunchAdvisedConfigurationNeeded;
}

TcbStatus ConvergeWithQe(TcbStatus tcb, QeStatus qe) {
  if (qe == QeStatus::kOutOfDate) {
    if (tcb == TcbStatus::kUpToDate || tcb == TcbStatus::kSwHardeningNeeded) {
      return TcbStatus::kOutOfDate;
    }
    if (tcb == TcbStatus::kConfigurationNeeded ||
        tcb == TcbStatus::kConfigurationAndSwHardeningNeeded) {
      return TcbStatus::kOutOfDateConfigurationNeeded;
    }
  }
  if (qe == QeStatus::kRevoked) return TcbStatus::kRevoked;
  return tcb;
}

absl::Status TcbNotSupported(std::string_view why) {
  return Denied(fmt::format("tdx: tcb not supported: {}", why));
}

std::string UpperHex(std::string_view b) {
  std::string h = core::HexEncode(b);
  for (char& c : h) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return h;
}

absl::StatusOr<PckInfo> ReadPckInfo(const std::string& pck_chain_pem, PckChainCache* cache) {
  CCB_ASSIGN_OR_RETURN(auto chain, GetChain(pck_chain_pem, cache));
  PckInfo info;
  info.ext = chain->ext;
  info.ca = chain->issuer.find("Processor") != std::string::npos ? "processor" : "platform";
  return info;
}

absl::StatusOr<std::shared_ptr<const PckChainCache::Chain>> VerifyPckChain(
    const QuoteSignatureData& quote, const VerifiedCollateral& col, const TrustAnchor& anchor,
    core::TimePoint now, PckChainCache* cache) {
  CCB_RETURN_IF_ERROR(CheckCollateralTime(col, now));
  if (quote.qe_vendor_id != kIntelQeVendorId) {
    return absl::InvalidArgumentError(fmt::format("tdx: quote: qe vendor id {} is not Intel's",
                                                  core::HexEncode(quote.qe_vendor_id)));
  }

  // PCK certificate chain (QVL 4.1.2.4.x): leaf, PCK CA, root.
  const std::string& pem = *quote.pck_chain_pem;
  CCB_ASSIGN_OR_RETURN(auto chain, GetChain(pem, cache));
  const crypto::Certificate& leaf = *chain->leaf;
  const crypto::Certificate& pck_ca = *chain->ca;
  if (!chain->verified) {
    CCB_RETURN_IF_ERROR(VerifyChain({&leaf, &pck_ca, chain->root.get()}, anchor, now,
                                    "tdx: pck certificate chain"));
    if (cache != nullptr) cache->MarkVerified(pem, chain);
  } else if (now < chain->not_before || now >= chain->not_after) {
    return Denied(fmt::format("tdx: pck certificate chain: not valid at {} (valid {} .. {})",
                              core::FormatRfc3339(now), core::FormatRfc3339(chain->not_before),
                              core::FormatRfc3339(chain->not_after)));
  }
  if (leaf.subject_cn().find("SGX PCK Certificate") == std::string::npos) {
    return Denied(fmt::format("tdx: pck certificate: subject `{}` is not an SGX PCK Certificate",
                              leaf.subject_cn()));
  }
  if (col.root_ca_crl->IsRevoked(pck_ca)) {
    return Denied(fmt::format("tdx: pck certificate chain: `{}` is revoked by the root ca crl",
                              pck_ca.subject_cn()));
  }
  // QVL 4.1.2.4.6: the PCK CRL is the one of the leaf's issuer. The chain is verified, so the
  // leaf's issuer name is the PCK CA's subject name; a CA under the same root may carry that name
  // with another key, hence the key comparison with the certificate that signed the CRL.
  if (!col.pck_crl->NamesIssuer(pck_ca)) {
    return Denied(
        fmt::format("tdx: pck crl: issued by `{}`, not by the pck certificate's issuer `{}`",
                    col.pck_crl_issuer->subject_cn(), leaf.issuer_cn()));
  }
  if (!col.pck_crl_issuer->SameKeyAs(pck_ca)) {
    return Denied(
        fmt::format("tdx: pck crl: issued by a `{}` whose key is not the pck certificate's "
                    "issuer's",
                    col.pck_crl_issuer->subject_cn()));
  }
  if (col.pck_crl->IsRevoked(leaf)) {
    return Denied("tdx: pck certificate is revoked by the pck crl");
  }

  // TCB Info applies to this platform.
  const TcbInfo& info = col.tcb_info;
  if (chain->ext.fmspc != info.fmspc) {
    return Denied(
        fmt::format("tdx: fmspc {} of the pck certificate does not match tcb info fmspc {}",
                    UpperHex(chain->ext.fmspc), UpperHex(info.fmspc)));
  }
  if (chain->ext.pce_id != info.pce_id) {
    return Denied(
        fmt::format("tdx: pce id {} of the pck certificate does not match tcb info pce id {}",
                    UpperHex(chain->ext.pce_id), UpperHex(info.pce_id)));
  }
  return chain;
}

absl::StatusOr<QeVerdict> VerifyQeReport(const QuoteSignatureData& quote,
                                         const PckChainCache::Chain& pck, const QeIdentity& qe) {
  // QE report signed by the PCK key, and binding the attestation key.
  const EnclaveReport& qr = *quote.qe_report;
  if (!crypto::VerifyEcdsa(*pck.pck_key, crypto::HashAlg::kSha256, qr.raw,
                           quote.qe_report_signature)
           .ok()) {
    return Denied("tdx: qe report signature verification failed");
  }
  std::string expected_qe_rd =
      crypto::Sha256(std::string(quote.attestation_key) + std::string(quote.qe_auth_data));
  if (qr.report_data.compare(0, 32, expected_qe_rd) != 0) {
    return Denied("tdx: qe report data does not match sha256(attestation key || qe auth data)");
  }

  // QE identity (EnclaveReportVerifier).
  if ((qr.misc_select & qe.miscselect_mask) != qe.miscselect) {
    return Denied("tdx: qe identity: miscselect mismatch");
  }
  for (size_t i = 0; i < 16; ++i) {
    if ((qr.attributes[i] & qe.attributes_mask[i]) != qe.attributes[i]) {
      return Denied("tdx: qe identity: attributes mismatch");
    }
  }
  if (qr.mr_signer != qe.mrsigner) return Denied("tdx: qe identity: mrsigner mismatch");
  if (qr.isv_prod_id != qe.isvprodid) {
    return Denied(
        fmt::format("tdx: qe identity: isvprodid {} is not {}", qr.isv_prod_id, qe.isvprodid));
  }
  const QeTcbLevel* qe_level = nullptr;
  for (const auto& l : qe.tcb_levels) {
    if (l.isvsvn <= qr.isv_svn) {
      qe_level = &l;
      break;
    }
  }
  if (qe_level == nullptr) {
    return TcbNotSupported(
        fmt::format("qe isvsvn {} is below every qe identity tcb level", qr.isv_svn));
  }
  QeVerdict v;
  v.status = qe_level->status == "UpToDate"  ? QeStatus::kOk
             : qe_level->status == "Revoked" ? QeStatus::kRevoked
                                             : QeStatus::kOutOfDate;
  v.tcb_status = qe_level->status;
  v.tcb_date = qe_level->tcb_date;
  return v;
}

absl::Status VerifyQuoteSignature(const QuoteSignatureData& quote, PckChainCache* cache) {
  std::string raw_key(quote.attestation_key);
  CCB_ASSIGN_OR_RETURN(crypto::PublicKey att_key,
                       cache != nullptr ? cache->AttestationKey(raw_key) : P256FromRaw(raw_key));
  if (!crypto::VerifyEcdsa(att_key, crypto::HashAlg::kSha256, quote.signed_data, quote.signature)
           .ok()) {
    return Denied("tdx: quote signature verification failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<TcbLevels> MatchTcbLevels(const TcbInfo& info, const PckExtensions& pck,
                                         const std::function<bool(const TcbLevel&)>& tee_reaches) {
  TcbLevels out;
  for (const auto& level : info.tcb_levels) {
    if (!CpuSvnHigherOrEqual(pck, level) || pck.pcesvn < level.pcesvn) continue;
    if (out.sgx == nullptr) out.sgx = &level;
    if (tee_reaches(level)) {
      out.tee = &level;
      break;
    }
  }
  if (out.sgx == nullptr) {
    return TcbNotSupported(
        fmt::format("the pck certificate's sgx tcb (pcesvn {}) matches no tcb level of fmspc {}",
                    pck.pcesvn, UpperHex(info.fmspc)));
  }
  return out;
}

}  // namespace ccburst::evidence::dcap
