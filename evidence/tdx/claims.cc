#include "evidence/tdx/claims.h"

#include <algorithm>

#include "core/clock.h"
#include "core/encoding.h"

namespace ccburst::evidence::tdx {
namespace {

namespace json = boost::json;

std::string Le16Hex(uint16_t v) {
  std::string b = {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  return core::HexEncode(b);
}
std::string Le32Hex(uint32_t v) {
  std::string b;
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return core::HexEncode(b);
}

}  // namespace

json::object ParsedQuoteClaims(const Quote& q, const dcap::PckExtensions& pck,
                               const eventlog::CcEventLog* ccel) {
  using core::HexEncode;
  json::object header{
      {"version", Le16Hex(q.header.version)},
      {"att_key_type", Le16Hex(q.header.att_key_type)},
      {"tee_type", Le32Hex(q.header.tee_type)},
      {"reserved", HexEncode(q.header.reserved)},
      {"vendor_id", HexEncode(q.header.qe_vendor_id)},
      {"user_data", HexEncode(q.header.user_data)},
  };
  const TdReport& b = q.body;
  json::object body{
      {"tcb_svn", HexEncode(b.tee_tcb_svn)},
      {"mr_seam", HexEncode(b.mr_seam)},
      {"mrsigner_seam", HexEncode(b.mr_signer_seam)},
      {"seam_attributes", HexEncode(b.seam_attributes)},
      {"td_attributes", HexEncode(b.td_attributes)},
      {"xfam", HexEncode(b.xfam)},
      {"mr_td", HexEncode(b.mr_td)},
      {"mr_config_id", HexEncode(b.mr_config_id)},
      {"mr_owner", HexEncode(b.mr_owner)},
      {"mr_owner_config", HexEncode(b.mr_owner_config)},
      {"rtmr_0", HexEncode(b.rtmr[0])},
      {"rtmr_1", HexEncode(b.rtmr[1])},
      {"rtmr_2", HexEncode(b.rtmr[2])},
      {"rtmr_3", HexEncode(b.rtmr[3])},
      {"report_data", HexEncode(b.report_data)},
  };
  if (b.is_td15) {
    body["tee_tcb_svn2"] = HexEncode(b.tee_tcb_svn2);
    body["mr_servicetd"] = HexEncode(b.mr_servicetd);
  }
  json::object quote{{"header", std::move(header)}, {"body", std::move(body)}};
  if (q.header.version == 5) {
    quote["type"] = Le16Hex(q.body_type);
    quote["size"] = Le32Hex(q.body_size);
  }

  uint64_t attrs = 0;
  for (int i = 7; i >= 0; --i) attrs = (attrs << 8) | static_cast<uint8_t>(b.td_attributes[i]);
  json::object td_attributes{
      {"debug", (attrs & (1ull << 0)) != 0},
      {"septve_disable", (attrs & (1ull << 28)) != 0},
      {"protection_keys", (attrs & (1ull << 30)) != 0},
      {"key_locker", (attrs & (1ull << 31)) != 0},
      {"perfmon", (attrs & (1ull << 63)) != 0},
  };

  json::object claims;
  if (ccel != nullptr) claims["uefi_event_logs"] = eventlog::ToJson(*ccel);
  claims["quote"] = std::move(quote);
  claims["td_attributes"] = std::move(td_attributes);
  claims["report_data"] = HexEncode(b.report_data);
  claims["init_data"] = HexEncode(b.mr_config_id);
  if (pck.platform_instance_id) {
    std::string reversed(pck.platform_instance_id->rbegin(), pck.platform_instance_id->rend());
    claims["platform_instance_id"] = HexEncode(reversed);
  }
  return claims;
}

void AddVerdictClaims(const TdxVerdict& v, const dcap::VerifiedCollateral& c,
                      json::object* claims) {
  json::object& out = *claims;
  out["tcb_status"] = v.tcb_status;
  json::array advisories;
  for (const auto& a : v.advisory_ids) advisories.emplace_back(a);
  out["advisory_ids"] = std::move(advisories);
  out["collateral_expiration_status"] = "0";
  out["tcb_date"] = v.tcb_date;
  out["tcb_eval_num"] = v.tcb_eval_num;
  out["pck_crl_num"] = c.pck_crl_number;
  out["root_ca_crl_num"] = c.root_ca_crl_number;
  out["earliest_issue_date"] = c.earliest_issue_date;
  out["latest_issue_date"] = c.latest_issue_date;
  out["earliest_expiration_date"] = core::FormatRfc3339(c.valid_until);
  out["platform_provider_id"] = core::HexEncode(v.pck.ppid);
  switch (v.pck.sgx_type) {
    case 0:
      out["sgx_type"] = "Standard";
      break;
    case 1:
      out["sgx_type"] = "Scalable";
      break;
    case 2:
      out["sgx_type"] = "Scalable with Integrity";
      break;
    default:
      out["sgx_type"] = "Unknown (" + std::to_string(v.pck.sgx_type) + ")";
  }
  if (v.pck.sgx_type > 0) {
    out["is_dynamic_platform"] = v.pck.dynamic_platform.value_or(false);
    out["is_cached_keys"] = v.pck.cached_keys.value_or(false);
    out["is_smt_enabled"] = v.pck.smt_enabled.value_or(false);
  }
}

}  // namespace ccburst::evidence::tdx
