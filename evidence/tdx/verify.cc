#include "evidence/tdx/verify.h"

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

namespace ccburst::evidence::tdx {
namespace {

// QVL's status values, in the vocabulary of TCB Info and the sgx_ql_qv_result_t names.
enum class Tcb {
  kUpToDate,
  kSwHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSwHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
  kTdRelaunchAdvised,
  kTdRelaunchAdvisedConfigurationNeeded,
  kUnrecognized,
};

Tcb ParseStatus(std::string_view s) {
  if (s == "UpToDate") return Tcb::kUpToDate;
  if (s == "SWHardeningNeeded") return Tcb::kSwHardeningNeeded;
  if (s == "ConfigurationNeeded") return Tcb::kConfigurationNeeded;
  if (s == "ConfigurationAndSWHardeningNeeded") return Tcb::kConfigurationAndSwHardeningNeeded;
  if (s == "OutOfDate") return Tcb::kOutOfDate;
  if (s == "OutOfDateConfigurationNeeded") return Tcb::kOutOfDateConfigurationNeeded;
  if (s == "Revoked") return Tcb::kRevoked;
  return Tcb::kUnrecognized;
}

std::string_view StatusName(Tcb s) {
  switch (s) {
    case Tcb::kUpToDate:
      return "UpToDate";
    case Tcb::kSwHardeningNeeded:
      return "SWHardeningNeeded";
    case Tcb::kConfigurationNeeded:
      return "ConfigurationNeeded";
    case Tcb::kConfigurationAndSwHardeningNeeded:
      return "ConfigurationAndSWHardeningNeeded";
    case Tcb::kOutOfDate:
      return "OutOfDate";
    case Tcb::kOutOfDateConfigurationNeeded:
      return "OutOfDateConfigurationNeeded";
    case Tcb::kRevoked:
      return "Revoked";
    case Tcb::kTdRelaunchAdvised:
      return "TDRelaunchAdvised";
    case Tcb::kTdRelaunchAdvisedConfigurationNeeded:
      return "TDRelaunchAdvisedConfigurationNeeded";
    case Tcb::kUnrecognized:
      break;
  }
  return "Unrecognized";
}

// QE identity outcome (EnclaveReportVerifier).
enum class QeStatus { kOk, kOutOfDate, kRevoked };

absl::Status Denied(std::string msg) { return absl::PermissionDeniedError(std::move(msg)); }

absl::Status NotSupported(std::string_view why) {
  return Denied(fmt::format("tdx: tcb not supported: {}", why));
}

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

std::string Hex(std::string_view b) {
  std::string h = core::HexEncode(b);
  for (char& c : h) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return h;
}

bool CpuSvnHigherOrEqual(const PckExtensions& pck, const TcbLevel& level) {
  for (size_t i = 0; i < 16; ++i) {
    if (pck.sgx_tcb_comp_svns[i] < level.sgx_svns[i]) return false;
  }
  return true;
}

bool TdxTcbHigherOrEqual(std::string_view tee_tcb_svn, const TcbLevel& level) {
  // With a TDX module of major version > 0, bytes 0-1 (module SVN and version) are evaluated
  // through the TDX module identities instead.
  size_t start = static_cast<uint8_t>(tee_tcb_svn[1]) > 0 ? 2 : 0;
  for (size_t i = start; i < 16; ++i) {
    if (static_cast<uint8_t>(tee_tcb_svn[i]) < level.tdx_svns[i]) return false;
  }
  return true;
}

const TdxModuleIdentity* FindModuleIdentity(const TcbInfo& info, uint8_t version) {
  std::string want = fmt::format("TDX_{:02X}", version);
  for (const auto& m : info.module_identities) {
    std::string id = m.id;
    for (char& c : id) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    if (id == want) return &m;
  }
  return nullptr;
}

Tcb ConvergeWithQe(Tcb tcb, QeStatus qe) {
  if (qe == QeStatus::kOutOfDate) {
    if (tcb == Tcb::kUpToDate || tcb == Tcb::kSwHardeningNeeded) return Tcb::kOutOfDate;
    if (tcb == Tcb::kConfigurationNeeded || tcb == Tcb::kConfigurationAndSwHardeningNeeded) {
      return Tcb::kOutOfDateConfigurationNeeded;
    }
  }
  if (qe == QeStatus::kRevoked) return Tcb::kRevoked;
  return tcb;
}

Tcb ConvergeWithModule(Tcb tcb, Tcb module) {
  if (module == Tcb::kOutOfDate) {
    if (tcb == Tcb::kUpToDate || tcb == Tcb::kSwHardeningNeeded) return Tcb::kOutOfDate;
    if (tcb == Tcb::kConfigurationNeeded || tcb == Tcb::kConfigurationAndSwHardeningNeeded) {
      return Tcb::kOutOfDateConfigurationNeeded;
    }
  }
  if (module == Tcb::kRevoked) return Tcb::kRevoked;
  switch (tcb) {
    case Tcb::kOutOfDate:
    case Tcb::kRevoked:
    case Tcb::kConfigurationNeeded:
    case Tcb::kOutOfDateConfigurationNeeded:
    case Tcb::kSwHardeningNeeded:
    case Tcb::kConfigurationAndSwHardeningNeeded:
    case Tcb::kUpToDate:
      return tcb;
    default:
      return Tcb::kUnrecognized;
  }
}

bool ConfigurationNeeded(Tcb s) {
  return s == Tcb::kConfigurationNeeded || s == Tcb::kOutOfDateConfigurationNeeded ||
         s == Tcb::kConfigurationAndSwHardeningNeeded ||
         s == Tcb::kTdRelaunchAdvisedConfigurationNeeded;
}

// QVL's TD relaunch check for TD report 1.5 bodies: an out-of-date TDX TCB caused only by the
// TDX module, while TEE_TCB_SVN2 (the module the TD would run on after relaunch) is current.
absl::StatusOr<Tcb> CheckRelaunch(std::string_view svn2, const TcbInfo& info, Tcb sgx, Tcb tdx,
                                  Tcb module, QeStatus qe) {
  if (qe != QeStatus::kOk) return tdx;
  if (!(sgx == Tcb::kUpToDate || sgx == Tcb::kSwHardeningNeeded ||
        sgx == Tcb::kConfigurationNeeded || sgx == Tcb::kConfigurationAndSwHardeningNeeded)) {
    return tdx;
  }
  if (tdx != Tcb::kOutOfDate && tdx != Tcb::kOutOfDateConfigurationNeeded) return tdx;
  if (module != Tcb::kOutOfDate) return tdx;
  if (info.tcb_levels.empty()) return NotSupported("tcb info has no tcb levels");
  const TcbLevel& latest = info.tcb_levels.front();
  auto s2 = [&](int i) { return static_cast<uint8_t>(svn2[i]); };
  bool current = false;
  if (s2(1) == 0) {
    current = s2(0) >= latest.tdx_svns[0] && s2(2) >= latest.tdx_svns[2];
  } else {
    const TdxModuleIdentity* m2 = FindModuleIdentity(info, s2(1));
    if (m2 == nullptr) {
      return Denied(
          fmt::format("tdx: tdx module identity TDX_{:02X} (tee_tcb_svn2) is not in "
                      "the tcb info",
                      s2(1)));
    }
    if (m2->tcb_levels.empty()) return NotSupported("tdx module identity has no tcb levels");
    current = s2(0) >= m2->tcb_levels.front().isvsvn && s2(2) >= latest.tdx_svns[2];
  }
  if (!current) return tdx;
  return ConfigurationNeeded(sgx) || ConfigurationNeeded(tdx)
             ? Tcb::kTdRelaunchAdvisedConfigurationNeeded
             : Tcb::kTdRelaunchAdvised;
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

absl::StatusOr<PckInfo> ReadPckInfo(const Quote& quote, PckChainCache* cache) {
  CCB_ASSIGN_OR_RETURN(auto chain, GetChain(quote.pck_chain_pem, cache));
  PckInfo info;
  info.ext = chain->ext;
  info.ca = chain->issuer.find("Processor") != std::string::npos ? "processor" : "platform";
  return info;
}

absl::StatusOr<TdxVerdict> VerifyQuote(const Quote& quote, const VerifiedCollateral& col,
                                       const TrustAnchor& anchor, core::TimePoint now,
                                       PckChainCache* cache) {
  CCB_RETURN_IF_ERROR(CheckCollateralTime(col, now));
  if (quote.header.qe_vendor_id != kIntelQeVendorId) {
    return absl::InvalidArgumentError(fmt::format("tdx: quote: qe vendor id {} is not Intel's",
                                                  core::HexEncode(quote.header.qe_vendor_id)));
  }
  TdxVerdict v;

  // PCK certificate chain (QVL 4.1.2.4.x): leaf, PCK CA, root.
  CCB_ASSIGN_OR_RETURN(auto chain, GetChain(quote.pck_chain_pem, cache));
  const crypto::Certificate& leaf = *chain->leaf;
  const crypto::Certificate& pck_ca = *chain->ca;
  if (!chain->verified) {
    CCB_RETURN_IF_ERROR(VerifyChain({&leaf, &pck_ca, chain->root.get()}, anchor, now,
                                    "tdx: pck certificate chain"));
    if (cache != nullptr) cache->MarkVerified(quote.pck_chain_pem, chain);
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
  // The chain is verified, so the leaf's issuer name is the PCK CA's subject name.
  if (!col.pck_crl->NamesIssuer(pck_ca) || !col.pck_crl_issuer->SameKeyAs(pck_ca)) {
    return Denied(
        fmt::format("tdx: pck crl: issued by `{}`, not by the pck certificate's issuer `{}`",
                    col.pck_crl_issuer->subject_cn(), leaf.issuer_cn()));
  }
  if (col.pck_crl->IsRevoked(leaf)) {
    return Denied("tdx: pck certificate is revoked by the pck crl");
  }
  v.pck_issuer = chain->issuer;
  v.pck = chain->ext;

  // TCB Info applies to this platform.
  const TcbInfo& info = col.tcb_info;
  if (v.pck.fmspc != info.fmspc) {
    return Denied(
        fmt::format("tdx: fmspc {} of the pck certificate does not match tcb info fmspc {}",
                    Hex(v.pck.fmspc), Hex(info.fmspc)));
  }
  if (v.pck.pce_id != info.pce_id) {
    return Denied(
        fmt::format("tdx: pce id {} of the pck certificate does not match tcb info pce id {}",
                    Hex(v.pck.pce_id), Hex(info.pce_id)));
  }

  // TDX module identity and SEAM checks (QVL 4.1.2.4.11).
  const TdReport& body = quote.body;
  uint8_t module_version = static_cast<uint8_t>(body.tee_tcb_svn[1]);
  uint8_t module_isvsvn = static_cast<uint8_t>(body.tee_tcb_svn[0]);
  std::string module_mrsigner = info.module_mrsigner;
  std::string module_attributes = info.module_attributes;
  const TdxModuleIdentity* module_identity = nullptr;
  if (module_version > 0) {
    module_identity = FindModuleIdentity(info, module_version);
    if (module_identity == nullptr) {
      return Denied(fmt::format("tdx: tdx module identity TDX_{:02X} is not in the tcb info",
                                module_version));
    }
    module_mrsigner = module_identity->mrsigner;
    module_attributes = module_identity->attributes;
  }
  if (body.mr_signer_seam != module_mrsigner) {
    return Denied("tdx: mr_signer_seam does not match the tdx module identity mrsigner");
  }
  for (size_t i = 0; i < body.seam_attributes.size(); ++i) {
    if (body.seam_attributes[i] != 0 || body.seam_attributes[i] != module_attributes[i]) {
      return Denied("tdx: seam_attributes are not zero or do not match the tdx module identity");
    }
  }

  // QE report signed by the PCK key, and binding the attestation key.
  if (!crypto::VerifyEcdsa(*chain->pck_key, crypto::HashAlg::kSha256, quote.qe_report.raw,
                           quote.qe_report_signature)
           .ok()) {
    return Denied("tdx: qe report signature verification failed");
  }
  std::string expected_qe_rd = crypto::Sha256(quote.attestation_key + quote.qe_auth_data);
  if (quote.qe_report.report_data.compare(0, 32, expected_qe_rd) != 0) {
    return Denied("tdx: qe report data does not match sha256(attestation key || qe auth data)");
  }

  // QE identity (EnclaveReportVerifier).
  const QeIdentity& qe = col.qe_identity;
  const EnclaveReport& qr = quote.qe_report;
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
    return NotSupported(
        fmt::format("qe isvsvn {} is below every qe identity tcb level", qr.isv_svn));
  }
  QeStatus qe_status = qe_level->status == "UpToDate"  ? QeStatus::kOk
                       : qe_level->status == "Revoked" ? QeStatus::kRevoked
                                                       : QeStatus::kOutOfDate;
  v.qe_tcb_status = qe_level->status;
  v.qe_tcb_date = qe_level->tcb_date;

  // Quote signature by the attestation key.
  CCB_ASSIGN_OR_RETURN(crypto::PublicKey att_key, cache != nullptr
                                                      ? cache->AttestationKey(quote.attestation_key)
                                                      : P256FromRaw(quote.attestation_key));
  if (!crypto::VerifyEcdsa(att_key, crypto::HashAlg::kSha256, quote.signed_data, quote.signature)
           .ok()) {
    return Denied("tdx: quote signature verification failed");
  }

  // TCB level selection (QVL matchTcbLevels): the first level, in QVL's order, that the PCK's
  // SGX components and PCESVN reach is the SGX level; the first such level that TEE_TCB_SVN
  // also reaches is the TDX level.
  const TcbLevel* sgx_level = nullptr;
  const TcbLevel* tdx_level = nullptr;
  for (const auto& level : info.tcb_levels) {
    if (!CpuSvnHigherOrEqual(v.pck, level) || v.pck.pcesvn < level.pcesvn) continue;
    if (sgx_level == nullptr) sgx_level = &level;
    if (TdxTcbHigherOrEqual(body.tee_tcb_svn, level)) {
      tdx_level = &level;
      break;
    }
  }
  if (sgx_level == nullptr) {
    return NotSupported(
        fmt::format("the pck certificate's sgx tcb (pcesvn {}) matches no tcb level of fmspc {}",
                    v.pck.pcesvn, Hex(info.fmspc)));
  }
  if (tdx_level == nullptr) {
    return NotSupported(fmt::format("tee_tcb_svn {} matches no tcb level of fmspc {}",
                                    core::HexEncode(body.tee_tcb_svn), Hex(info.fmspc)));
  }
  Tcb sgx_status = ParseStatus(sgx_level->status);
  v.sgx_tcb_status = sgx_level->status;

  // TDX module TCB status (checkTdxModuleTcbStatus).
  Tcb module_status = Tcb::kUpToDate;
  if (module_version > 0) {
    const TdxModuleTcbLevel* ml = nullptr;
    for (const auto& l : module_identity->tcb_levels) {
      if (module_isvsvn >= l.isvsvn) {
        ml = &l;
        break;
      }
    }
    if (ml == nullptr) {
      return NotSupported(fmt::format("tdx module isvsvn {} matches no level of {}", module_isvsvn,
                                      module_identity->id));
    }
    module_status = ParseStatus(ml->status);
  }
  v.tdx_module_status = std::string(StatusName(module_status));

  Tcb tdx_status = ConvergeWithModule(ParseStatus(tdx_level->status), module_status);
  if (tdx_status != Tcb::kRevoked && body.is_td15) {
    CCB_ASSIGN_OR_RETURN(tdx_status, CheckRelaunch(body.tee_tcb_svn2, info, sgx_status, tdx_status,
                                                   module_status, qe_status));
  }
  if (tdx_status != Tcb::kRevoked) tdx_status = ConvergeWithQe(tdx_status, qe_status);
  if (tdx_status == Tcb::kUnrecognized) {
    return Denied(fmt::format("tdx: tcb level status `{}` is not recognized", tdx_level->status));
  }
  v.tcb_status = std::string(StatusName(tdx_status));
  v.advisory_ids = tdx_level->advisory_ids;
  v.tcb_date = tdx_level->tcb_date;
  v.tcb_eval_num = std::min(info.tcb_evaluation_data_number, qe.tcb_evaluation_data_number);
  v.quote = quote;
  return v;
}

}  // namespace ccburst::evidence::tdx
