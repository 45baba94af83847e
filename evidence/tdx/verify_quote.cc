#include "evidence/tdx/verify_quote.h"

#include <fmt/format.h>

#include "core/encoding.h"

namespace ccburst::evidence::tdx {
namespace {

using dcap::TcbStatus;

absl::Status Denied(std::string msg) { return absl::PermissionDeniedError(std::move(msg)); }

bool TdxTcbHigherOrEqual(std::string_view tee_tcb_svn, const dcap::TcbLevel& level) {
  // With a TDX module of major version > 0, bytes 0-1 (module SVN and version) are evaluated
  // through the TDX module identities instead.
  size_t start = static_cast<uint8_t>(tee_tcb_svn[1]) > 0 ? 2 : 0;
  for (size_t i = start; i < 16; ++i) {
    if (static_cast<uint8_t>(tee_tcb_svn[i]) < level.tdx_svns[i]) return false;
  }
  return true;
}

const dcap::TdxModuleIdentity* FindModuleIdentity(const dcap::TcbInfo& info, uint8_t version) {
  std::string want = fmt::format("TDX_{:02X}", version);
  for (const auto& m : info.module_identities) {
    std::string id = m.id;
    for (char& c : id) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    if (id == want) return &m;
  }
  return nullptr;
}

TcbStatus ConvergeWithModule(TcbStatus tcb, TcbStatus module) {
  if (module == TcbStatus::kOutOfDate) {
    if (tcb == TcbStatus::kUpToDate || tcb == TcbStatus::kSwHardeningNeeded) {
      return TcbStatus::kOutOfDate;
    }
    if (tcb == TcbStatus::kConfigurationNeeded ||
        tcb == TcbStatus::kConfigurationAndSwHardeningNeeded) {
      return TcbStatus::kOutOfDateConfigurationNeeded;
    }
  }
  if (module == TcbStatus::kRevoked) return TcbStatus::kRevoked;
  switch (tcb) {
    case TcbStatus::kOutOfDate:
    case TcbStatus::kRevoked:
    case TcbStatus::kConfigurationNeeded:
    case TcbStatus::kOutOfDateConfigurationNeeded:
    case TcbStatus::kSwHardeningNeeded:
    case TcbStatus::kConfigurationAndSwHardeningNeeded:
    case TcbStatus::kUpToDate:
      return tcb;
    default:
      return TcbStatus::kUnrecognized;
  }
}

// QVL's TD relaunch check for TD report 1.5 bodies: an out-of-date TDX TCB caused only by the
// TDX module, while TEE_TCB_SVN2 (the module the TD would run on after relaunch) is current.
absl::StatusOr<TcbStatus> CheckRelaunch(std::string_view svn2, const dcap::TcbInfo& info,
                                        TcbStatus sgx, TcbStatus tdx, TcbStatus module,
                                        dcap::QeStatus qe) {
  if (qe != dcap::QeStatus::kOk) return tdx;
  if (!(sgx == TcbStatus::kUpToDate || sgx == TcbStatus::kSwHardeningNeeded ||
        sgx == TcbStatus::kConfigurationNeeded ||
        sgx == TcbStatus::kConfigurationAndSwHardeningNeeded)) {
    return tdx;
  }
  if (tdx != TcbStatus::kOutOfDate && tdx != TcbStatus::kOutOfDateConfigurationNeeded) return tdx;
  if (module != TcbStatus::kOutOfDate) return tdx;
  if (info.tcb_levels.empty()) return dcap::TcbNotSupported("tcb info has no tcb levels");
  const dcap::TcbLevel& latest = info.tcb_levels.front();
  auto s2 = [&](int i) { return static_cast<uint8_t>(svn2[i]); };
  bool current = false;
  if (s2(1) == 0) {
    current = s2(0) >= latest.tdx_svns[0] && s2(2) >= latest.tdx_svns[2];
  } else {
    const dcap::TdxModuleIdentity* m2 = FindModuleIdentity(info, s2(1));
    if (m2 == nullptr) {
      return Denied(
          fmt::format("tdx: tdx module identity TDX_{:02X} (tee_tcb_svn2) is not in "
                      "the tcb info",
                      s2(1)));
    }
    if (m2->tcb_levels.empty()) {
      return dcap::TcbNotSupported("tdx module identity has no tcb levels");
    }
    current = s2(0) >= m2->tcb_levels.front().isvsvn && s2(2) >= latest.tdx_svns[2];
  }
  if (!current) return tdx;
  return dcap::ConfigurationNeeded(sgx) || dcap::ConfigurationNeeded(tdx)
             ? TcbStatus::kTdRelaunchAdvisedConfigurationNeeded
             : TcbStatus::kTdRelaunchAdvised;
}

}  // namespace

absl::StatusOr<TdxVerdict> VerifyQuote(const Quote& quote, const dcap::VerifiedCollateral& col,
                                       const dcap::TrustAnchor& anchor, core::TimePoint now,
                                       dcap::PckChainCache* cache) {
  const dcap::QuoteSignatureData sig = quote.SignatureData();
  TdxVerdict v;

  // DCAP: collateral time, QE vendor, PCK chain and CRLs, FMSPC / PCE-ID.
  CCB_ASSIGN_OR_RETURN(auto chain, dcap::VerifyPckChain(sig, col, anchor, now, cache));
  v.pck_issuer = chain->issuer;
  v.pck = chain->ext;
  const dcap::TcbInfo& info = col.tcb_info;

  // TDX module identity and SEAM checks (QVL 4.1.2.4.11).
  const TdReport& body = quote.body;
  uint8_t module_version = static_cast<uint8_t>(body.tee_tcb_svn[1]);
  uint8_t module_isvsvn = static_cast<uint8_t>(body.tee_tcb_svn[0]);
  std::string module_mrsigner = info.module_mrsigner;
  std::string module_attributes = info.module_attributes;
  const dcap::TdxModuleIdentity* module_identity = nullptr;
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

  // DCAP: QE report and identity, quote signature.
  CCB_ASSIGN_OR_RETURN(dcap::QeVerdict qe, dcap::VerifyQeReport(sig, *chain, col.qe_identity));
  v.qe_tcb_status = qe.tcb_status;
  v.qe_tcb_date = qe.tcb_date;
  CCB_RETURN_IF_ERROR(dcap::VerifyQuoteSignature(sig, cache));

  // TCB levels: the SGX level from the PCK, the TDX level also reached by TEE_TCB_SVN.
  CCB_ASSIGN_OR_RETURN(dcap::TcbLevels levels,
                       dcap::MatchTcbLevels(info, v.pck, [&](const dcap::TcbLevel& level) {
                         return TdxTcbHigherOrEqual(body.tee_tcb_svn, level);
                       }));
  if (levels.tee == nullptr) {
    return dcap::TcbNotSupported(fmt::format("tee_tcb_svn {} matches no tcb level of fmspc {}",
                                             core::HexEncode(body.tee_tcb_svn),
                                             dcap::UpperHex(info.fmspc)));
  }
  const dcap::TcbLevel& tdx_level = *levels.tee;
  TcbStatus sgx_status = dcap::ParseTcbStatus(levels.sgx->status);
  v.sgx_tcb_status = levels.sgx->status;

  // TDX module TCB status (checkTdxModuleTcbStatus).
  TcbStatus module_status = TcbStatus::kUpToDate;
  if (module_version > 0) {
    const dcap::TdxModuleTcbLevel* ml = nullptr;
    for (const auto& l : module_identity->tcb_levels) {
      if (module_isvsvn >= l.isvsvn) {
        ml = &l;
        break;
      }
    }
    if (ml == nullptr) {
      return dcap::TcbNotSupported(fmt::format("tdx module isvsvn {} matches no level of {}",
                                               module_isvsvn, module_identity->id));
    }
    module_status = dcap::ParseTcbStatus(ml->status);
  }
  v.tdx_module_status = std::string(dcap::TcbStatusName(module_status));

  // Convergence: TDX level with the module, TD relaunch (TD report 1.5), then the QE.
  TcbStatus tdx_status = ConvergeWithModule(dcap::ParseTcbStatus(tdx_level.status), module_status);
  if (tdx_status != TcbStatus::kRevoked && body.is_td15) {
    CCB_ASSIGN_OR_RETURN(tdx_status, CheckRelaunch(body.tee_tcb_svn2, info, sgx_status, tdx_status,
                                                   module_status, qe.status));
  }
  if (tdx_status != TcbStatus::kRevoked) tdx_status = dcap::ConvergeWithQe(tdx_status, qe.status);
  if (tdx_status == TcbStatus::kUnrecognized) {
    return Denied(fmt::format("tdx: tcb level status `{}` is not recognized", tdx_level.status));
  }
  v.tcb_status = std::string(dcap::TcbStatusName(tdx_status));
  v.advisory_ids = tdx_level.advisory_ids;
  v.tcb_date = tdx_level.tcb_date;
  v.tcb_eval_num =
      std::min(info.tcb_evaluation_data_number, col.qe_identity.tcb_evaluation_data_number);
  v.quote = quote;
  return v;
}

}  // namespace ccburst::evidence::tdx
