// TDX claims for attestation policy, with the names and encodings of Trustee's TDX verifier
// (PROTOCOL.md "Claim names"): the quote header and body as lower-case hex, decoded
// td_attributes flags, report_data, init_data (MRCONFIGID), platform_instance_id, the parsed CC
// event log as `uefi_event_logs`, and the DCAP verdict (`tcb_status`, `advisory_ids`,
// `collateral_expiration_status`, tcb dates and numbers).
#pragma once

#include <boost/json.hpp>
#include <optional>

#include "evidence/dcap/pck.h"
#include "evidence/eventlog/ccel.h"
#include "evidence/tdx/quote.h"
#include "evidence/tdx/verify_quote.h"

namespace ccburst::evidence::tdx {

// The parsed-quote part of the claims (Trustee generate_parsed_claim): `quote`
// {header, body[, type, size]}, `td_attributes`, `report_data`, `init_data`,
// `platform_instance_id` (the PCK extension's 16 bytes reversed, as Trustee reports it) and,
// when given, `uefi_event_logs`.
boost::json::object ParsedQuoteClaims(const Quote& quote, const dcap::PckExtensions& pck,
                                      const eventlog::CcEventLog* ccel);

// Adds the DCAP verdict claims (Trustee's supplemental-data claims): tcb_status, advisory_ids,
// collateral_expiration_status ("0": all collateral valid at the verification time), tcb_date,
// tcb_eval_num, pck_crl_num, root_ca_crl_num, earliest/latest_issue_date,
// earliest_expiration_date, platform_provider_id (PPID hex), sgx_type and, for scalable
// platforms, is_dynamic_platform / is_cached_keys / is_smt_enabled.
void AddVerdictClaims(const TdxVerdict& verdict, const dcap::VerifiedCollateral& collateral,
                      boost::json::object* claims);

}  // namespace ccburst::evidence::tdx
