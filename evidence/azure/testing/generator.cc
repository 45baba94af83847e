#include "evidence/azure/testing/generator.h"

#include <boost/json.hpp>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "evidence/azure/hcl.h"

namespace ccburst::evidence::azure::testing {
namespace {

namespace json = boost::json;

std::string Padded(std::string s, size_t n) {
  s.resize(n, '\0');
  return s;
}

std::string UpperHex(std::string_view b) {
  std::string h = core::HexEncode(b);
  for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

// The hardware REPORT_DATA for `spec`: SHA-256(variable data), or something else.
std::string HwReportData(const std::string& var_data, bool bind) {
  return bind ? crypto::Sha256(var_data) : crypto::Sha256("not the variable data");
}

// As the paravisor returns it from the NV index on Azure: zero-padded to 2600 bytes.
std::string PaddedHcl(std::string hcl) {
  if (hcl.size() < 2600) hcl.resize(2600, '\0');
  return hcl;
}

}  // namespace

AzAttester::AzAttester() : ak_(crypto::PrivateKey::GenerateRsa(2048)) {}

std::string VarDataFor(const crypto::PublicKey& ak_pub, const AzSpec& spec) {
  json::object ak = ak_pub.ToJwk();
  ak["kid"] = "HCLAkPub";
  ak["key_ops"] = json::array{"sign"};
  json::array keys{ak};
  if (spec.include_ek) {
    json::object ek = ak_pub.ToJwk();
    ek["kid"] = "HCLEkPub";
    ek["key_ops"] = json::array{"encrypt"};
    keys.push_back(std::move(ek));
  }
  std::string user_data = spec.user_data.value_or(spec.version >= 2 ? spec.nonce : std::string());
  json::object o{
      {"keys", std::move(keys)},
      {"vm-configuration", json::object{{"console-enabled", false},
                                        {"secure-boot", true},
                                        {"tpm-enabled", true},
                                        {"vmUniqueId", "00000000-1111-2222-3333-444444444444"}}},
      {"user-data", UpperHex(Padded(user_data, 64))}};
  return json::serialize(o);
}

absl::StatusOr<HclBundle> SnpHclBundle(const snp::testing::TestHierarchy& h,
                                       const crypto::PublicKey& ak, const AzSpec& spec) {
  HclBundle b;
  std::string var = VarDataFor(ak, spec);
  snp::testing::ReportSpec rs = spec.snp;
  rs.report_data = HwReportData(var, spec.bind_var_data);
  b.hcl_report = BuildHclReport(HwReportType::kSnp, h.SignReport(rs), var);
  b.hcl_report.resize(kHclVarDataOffset + var.size());
  b.vcek_der = h.vcek_der();
  return b;
}

absl::StatusOr<HclBundle> TdxHclBundle(const tdx::testing::TdxTestHierarchy& h,
                                       const crypto::PublicKey& ak, const AzSpec& spec) {
  HclBundle b;
  std::string var = VarDataFor(ak, spec);
  std::string rd = HwReportData(var, spec.bind_var_data);
  // TDREPORT-shaped: REPORTMACSTRUCT with REPORTDATA at 128 and TDINFO with the TD's
  // measurements as in spec.td (what IMDS copies into the quote); the MAC cannot be checked off
  // the platform anyway.
  std::string td_report(kTdReportSize, '\0');
  td_report[0] = '\x81';
  td_report.replace(kTdReportReportDataOffset, rd.size(), rd);
  td_report.replace(kTdReportAttributesOffset, 8, Padded(spec.td.td_attributes, 8));
  td_report.replace(kTdReportXfamOffset, 8, std::string("\xe7\x02\x06\x00\x00\x00\x00\x00", 8));
  td_report.replace(kTdReportMrTdOffset, 48, Padded(spec.td.mr_td, 48));
  td_report.replace(kTdReportMrConfigIdOffset, 48, Padded(spec.td.mr_config_id, 48));
  for (size_t i = 0; i < spec.td.rtmr.size(); ++i) {
    td_report.replace(kTdReportRtmrOffset + 48 * i, 48, Padded(spec.td.rtmr[i], 48));
  }
  b.hcl_report = BuildHclReport(HwReportType::kTdx, td_report, var);
  b.hcl_report.resize(kHclVarDataOffset + var.size());
  tdx::testing::QuoteSpec qs = spec.td;
  qs.report_data = spec.td_quote_binds_var_data ? rd : crypto::Sha256("another VM");
  CCB_ASSIGN_OR_RETURN(b.td_quote, h.IssueQuote(qs));
  return b;
}

std::string AzAttester::VarData(const AzSpec& spec) const { return VarDataFor(ak_.Public(), spec); }

Pcrs AzAttester::MakePcrs(const AzSpec& spec) const {
  Pcrs pcrs;
  for (size_t i = 0; i < kPcrCount; ++i) {
    pcrs[i] = crypto::Sha256("pcr " + std::to_string(i));
  }
  pcrs[kInitDataPcr] = spec.init_data_digest.has_value() ? InitDataPcrValue(*spec.init_data_digest)
                                                         : std::string(kPcrSize, '\0');
  if (spec.pcr11.has_value()) pcrs[11] = Padded(*spec.pcr11, kPcrSize);
  return pcrs;
}

absl::StatusOr<TpmQuote> AzAttester::MakeTpmQuote(const AzSpec& spec) const {
  TpmQuote q;
  q.pcrs = MakePcrs(spec);
  QuoteAttest a;
  a.qualified_signer = std::string("\x00\x0b", 2) + crypto::Sha256("ak name");
  a.extra_data = spec.nonce;
  a.clock = 1000;
  a.safe = true;
  a.firmware_version = 0x2000000000001ULL;
  a.selection.push_back({kTpmAlgSha256, {}});
  std::string concat;
  for (uint32_t i = 0; i < kPcrCount; ++i) {
    a.selection[0].pcrs.push_back(i);
    concat += q.pcrs[i];
  }
  a.pcr_digest = crypto::Sha256(concat);
  CCB_ASSIGN_OR_RETURN(q.message, MarshalQuoteAttest(a));
  const crypto::PrivateKey& signer = spec.tpm_signer != nullptr ? *spec.tpm_signer : ak_;
  CCB_ASSIGN_OR_RETURN(q.signature,
                       crypto::SignRsaPkcs1(signer, crypto::HashAlg::kSha256, q.message));
  return q;
}

absl::StatusOr<Evidence> AzAttester::SnpEvidence(const snp::testing::TestHierarchy& h,
                                                 const AzSpec& spec) const {
  Evidence ev;
  ev.version = spec.version;
  CCB_ASSIGN_OR_RETURN(HclBundle b, SnpHclBundle(h, ak_.Public(), spec));
  ev.hcl_report = PaddedHcl(std::move(b.hcl_report));
  CCB_ASSIGN_OR_RETURN(ev.tpm_quote, MakeTpmQuote(spec));
  ev.vcek = std::move(b.vcek_der);
  if (ev.version == 0) {
    ev.vcek = "-----BEGIN CERTIFICATE-----\n" + core::Base64Encode(ev.vcek) +
              "\n-----END CERTIFICATE-----\n";
  }
  return ev;
}

absl::StatusOr<Evidence> AzAttester::TdxEvidence(const tdx::testing::TdxTestHierarchy& h,
                                                 const AzSpec& spec) const {
  Evidence ev;
  ev.version = spec.version;
  CCB_ASSIGN_OR_RETURN(HclBundle b, TdxHclBundle(h, ak_.Public(), spec));
  ev.hcl_report = PaddedHcl(std::move(b.hcl_report));
  ev.td_quote = std::move(b.td_quote);
  CCB_ASSIGN_OR_RETURN(ev.tpm_quote, MakeTpmQuote(spec));
  return ev;
}

absl::StatusOr<std::string> AzAttester::SnpEvidenceJson(const snp::testing::TestHierarchy& h,
                                                        const AzSpec& spec) const {
  CCB_ASSIGN_OR_RETURN(Evidence ev, SnpEvidence(h, spec));
  return json::serialize(EvidenceToJson(ev, Platform::kSnp));
}

absl::StatusOr<std::string> AzAttester::TdxEvidenceJson(const tdx::testing::TdxTestHierarchy& h,
                                                        const AzSpec& spec) const {
  CCB_ASSIGN_OR_RETURN(Evidence ev, TdxEvidence(h, spec));
  return json::serialize(EvidenceToJson(ev, Platform::kTdx));
}

}  // namespace ccburst::evidence::azure::testing
