// The Azure verifiers over every real-hardware case in ../shared/testdata/azure at its verify_at,
// and the binding checks refusing edited copies of them.
#include "evidence/azure/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace ccburst::evidence::azure {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Shared(const std::string& rel) {
  auto s = core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/" + rel);
  EXPECT_OK(s) << rel;
  return s.ok() ? *s : std::string();
}

dcap::Collateral LoadCollateral(const std::string& c) {
  std::string d = "tdx/" + c + "/collateral/";
  dcap::Collateral col;
  col.tcb_info_json = Shared(d + "tcb_info.json");
  col.tcb_info_issuer_chain = Shared(d + "tcb_info_issuer_chain.pem");
  col.qe_identity_json = Shared(d + "qe_identity.json");
  col.qe_identity_issuer_chain = Shared(d + "qe_identity_issuer_chain.pem");
  col.pck_crl = Shared(d + "pck_crl.der");
  col.pck_crl_issuer_chain = Shared(d + "pck_crl_issuer_chain.pem");
  col.root_ca_crl = Shared(d + "root_ca_crl.der");
  return col;
}

struct Case {
  std::string name;
  json::object meta;  // case.json
  json::value evidence;
  core::TimePoint at;
  ExpectedBinding binding;
  const json::object& expected() const { return meta.at("expected").as_object(); }
};

Case Load(const std::string& name) {
  Case c;
  c.name = name;
  c.meta = core::ParseJson(Shared("azure/" + name + "/case.json"))->as_object();
  c.evidence = *core::ParseJson(Shared("azure/" + name + "/evidence.json"));
  c.at = *core::ParseRfc3339(std::string(c.meta.at("verify_at").as_string()));
  c.binding.report_data_digest =
      *core::HexDecode(c.expected().at("expected_report_data").at("hex").as_string());
  return c;
}

const AzSnpVtpmVerifier& Snp() {
  static const auto* v = AzSnpVtpmVerifier::Create()->release();
  return *v;
}

const AzTdxVtpmVerifier& Tdx() {
  static const auto* v =
      AzTdxVtpmVerifier::Create(
          {std::make_shared<dcap::FixedCollateralSource>(LoadCollateral("t3-spr-outofdate"))})
          ->release();
  return *v;
}

const Verifier& For(const Case& c) {
  if (c.meta.at("kind").as_string() == "az-snp-vtpm") return Snp();
  return Tdx();
}

const std::vector<std::string> kCases = {"a1-az-snp-vtpm-v0", "a1-az-snp-vtpm-v1",
                                         "a1-az-snp-vtpm-v2", "a4-az-tdx-vtpm-v0",
                                         "a4-az-tdx-vtpm-v1"};

class VectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VectorTest, VerifiesAtVerifyAtWithExpectedClaims) {
  Case c = Load(GetParam());
  const json::object& e = c.expected();
  EXPECT_EQ(e.at("result").as_string(), "valid");
  auto claims = For(c).Verify(c.evidence, c.binding, c.at);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data"), json::value(e.at("tpm_quote").at("nonce_hex")));
  EXPECT_EQ(claims->at("tpm").at("pcr00"), e.at("pcr00"));
  EXPECT_EQ(claims->at("tpm").at("pcr08"), e.at("pcr08"));
  EXPECT_EQ(claims->at("init_data"), e.at("pcr08"));
  EXPECT_EQ(claims->at("tpm").as_object().size(), 24u);
  EXPECT_EQ(claims->at("vm_configuration"), e.at("vm_configuration"));
  if (c.meta.at("kind").as_string() == "az-snp-vtpm") {
    const json::object& r = e.at("snp_report").as_object();
    EXPECT_EQ(claims->at("measurement"), r.at("measurement"));
    EXPECT_EQ(claims->at("chip_id"), r.at("chip_id"));
    EXPECT_EQ(claims->at("reported_tcb_microcode").to_number<int64_t>(),
              r.at("reported_tcb").at("microcode").to_number<int64_t>());
    EXPECT_EQ(claims->at("policy_debug_allowed"), json::value(false));
  } else {
    const json::object& q = e.at("td_quote").as_object();
    EXPECT_EQ(claims->at("tcb_status"), q.at("tcb_status"));
    EXPECT_EQ(claims->at("advisory_ids"), q.at("advisory_ids"));
    EXPECT_EQ(claims->at("quote").at("body").at("mr_td"), q.at("mr_td"));
    EXPECT_EQ(claims->at("quote").at("body").at("xfam"), q.at("xfam"));
  }
}

TEST_P(VectorTest, ParsedFactsMatchCaseJson) {
  Case c = Load(GetParam());
  const json::object& e = c.expected();
  Platform p = c.meta.at("kind").as_string() == "az-snp-vtpm" ? Platform::kSnp : Platform::kTdx;
  auto ev = ParseEvidence(c.evidence, p);
  ASSERT_OK(ev);
  EXPECT_EQ(ev->version, e.at("evidence_format_version").to_number<int>());
  auto hcl = ParseHclReport(ev->hcl_report);
  ASSERT_OK(hcl);
  EXPECT_EQ(hcl->version, e.at("hcl_report").at("version").to_number<uint32_t>());
  EXPECT_EQ(static_cast<int>(hcl->type),
            e.at("hcl_report").at("igvm_report_type").to_number<int>());
  EXPECT_EQ(hcl->var_data.size(), e.at("hcl_report").at("var_data_size").to_number<size_t>());
  EXPECT_EQ(core::HexEncode(hcl->var_data_sha256), e.at("var_data_sha256").as_string());
  auto rd = ParseRuntimeData(hcl->var_data);
  ASSERT_OK(rd);
  EXPECT_EQ(EVP_PKEY_get_bits(rd->ak_pub.get()), 2048);
  EXPECT_TRUE(rd->ek_pub.has_value());
  EXPECT_EQ(core::HexEncode(*rd->user_data),
            core::HexEncode(*core::HexDecode(e.at("user_data").as_string())));
  auto q = ParseQuoteAttest(ev->tpm_quote.message);
  ASSERT_OK(q);
  EXPECT_EQ(core::HexEncode(q->extra_data), e.at("tpm_quote").at("nonce_hex").as_string());
  EXPECT_EQ(core::HexEncode(q->pcr_digest), e.at("tpm_quote").at("pcr_digest").as_string());
  EXPECT_OK(CheckPcrs(*q, ev->tpm_quote.pcrs));
  if (p == Platform::kTdx) {
    EXPECT_EQ(ev->td_quote, Shared("azure/" + c.name + "/td-quote.bin"));
  }
}

TEST_P(VectorTest, WrongNonceRefused) {
  Case c = Load(GetParam());
  std::string tee(c.meta.at("kind").as_string());
  c.binding.report_data_digest = crypto::Sha384("another session");
  auto r = For(c).Verify(c.evidence, c.binding, c.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee + ": tpm quote: extraData "));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("does not match the session binding"));
}

TEST_P(VectorTest, InitDataNotInPcr8Refused) {
  Case c = Load(GetParam());
  std::string tee(c.meta.at("kind").as_string());
  c.binding.init_data_digest = crypto::Sha256("init-data toml");
  auto r = For(c).Verify(c.evidence, c.binding, c.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee + ": init-data: PCR8 0000"));
}

// Editing a reported PCR breaks pcrDigest.
TEST_P(VectorTest, FlippedPcrRefused) {
  Case c = Load(GetParam());
  std::string tee(c.meta.at("kind").as_string());
  bool snp = tee == "az-snp-vtpm";
  Platform p = snp ? Platform::kSnp : Platform::kTdx;
  auto ev = ParseEvidence(c.evidence, p);
  ASSERT_OK(ev);
  ev->tpm_quote.pcrs[11][5] ^= 1;
  json::value edited = EvidenceToJson(*ev, p);
  auto r = For(c).Verify(edited, c.binding, c.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee + ": tpm quote: pcrDigest "));
}

// One byte of the variable data changed (inside vmUniqueId): still JSON with the same HCLAkPub,
// but no longer what the hardware report binds.
TEST_P(VectorTest, VariableDataNotBoundRefused) {
  Case c = Load(GetParam());
  std::string tee(c.meta.at("kind").as_string());
  Platform p = tee == "az-snp-vtpm" ? Platform::kSnp : Platform::kTdx;
  auto ev = ParseEvidence(c.evidence, p);
  ASSERT_OK(ev);
  size_t at = ev->hcl_report.find("\"vmUniqueId\":\"");
  ASSERT_NE(at, std::string::npos);
  ev->hcl_report[at + 15] = ev->hcl_report[at + 15] == 'A' ? 'B' : 'A';
  auto r = For(c).Verify(EvidenceToJson(*ev, p), c.binding, c.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee + ": hcl report: "));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("does not match sha256(variable data)"));
}

// Every format round-trips through EvidenceToJson and still verifies.
TEST_P(VectorTest, EveryFormatOfTheSameEvidenceVerifies) {
  Case c = Load(GetParam());
  Platform p = c.meta.at("kind").as_string() == "az-snp-vtpm" ? Platform::kSnp : Platform::kTdx;
  auto ev = ParseEvidence(c.evidence, p);
  ASSERT_OK(ev);
  if (ev->version == 2) return;  // v2 needs user-data = binding; v0/v1 carry zeros
  for (int v : {0, 1}) {
    Evidence copy = *ev;
    copy.version = v;
    if (p == Platform::kSnp && v == 0 && copy.vcek.rfind("-----BEGIN", 0) != 0) {
      copy.vcek = "-----BEGIN CERTIFICATE-----\n" + core::Base64Encode(copy.vcek) +
                  "\n-----END CERTIFICATE-----\n";
    }
    auto r = For(c).Verify(EvidenceToJson(copy, p), c.binding, c.at);
    EXPECT_OK(r) << "v" << v;
  }
}

INSTANTIATE_TEST_SUITE_P(Azure, VectorTest, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string n = info.param;
  for (char& ch : n) {
    if (ch == '-') ch = '_';
  }
  return n;
});

TEST(AzureVerifierTest, EvidenceOfTheOtherTeeRefused) {
  Case snp = Load("a1-az-snp-vtpm-v1");
  auto r = Tdx().Verify(snp.evidence, snp.binding, snp.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(core::Message(r.status()), StartsWith("az-tdx-vtpm: evidence: "));
}

TEST(AzureVerifierTest, UnknownVersionRefused) {
  Case c = Load("a1-az-snp-vtpm-v1");
  c.evidence.as_object()["version"] = 3;
  auto r = Snp().Verify(c.evidence, c.binding, c.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(core::Message(r.status()),
            "az-snp-vtpm: evidence: unknown evidence version 3 (1 and 2 are known)");
  c.evidence.as_object()["version"] = "1";
  EXPECT_THAT(Snp().Verify(c.evidence, c.binding, c.at), Not(IsOk()));
}

TEST(AzureVerifierTest, UnknownMemberRefused) {
  Case c = Load("a4-az-tdx-vtpm-v1");
  c.evidence.as_object()["extra"] = 1;
  auto r = Tdx().Verify(c.evidence, c.binding, c.at);
  EXPECT_EQ(core::Message(r.status()), "az-tdx-vtpm: evidence: unknown member `extra`");
}

// v2 binds the report data in the HCL user-data too; v2 evidence with the v1 binding fails.
TEST(AzureVerifierTest, V2UserDataMustStartWithBinding) {
  Case c = Load("a1-az-snp-vtpm-v2");
  auto ev = ParseEvidence(c.evidence, Platform::kSnp);
  ASSERT_OK(ev);
  auto v = Snp().VerifyEvidence(*ev, &c.binding, c.at);
  ASSERT_OK(v);
  EXPECT_EQ(v->evidence_version, 2);
  EXPECT_EQ(v->product, snp::Generation::kMilan);
  // The same quote read as v1 skips the user-data check; as v2 with v1's zero user-data it fails.
  Case v1 = Load("a1-az-snp-vtpm-v1");
  auto ev1 = ParseEvidence(v1.evidence, Platform::kSnp);
  ASSERT_OK(ev1);
  ev1->version = 2;
  auto r = Snp().VerifyEvidence(*ev1, &v1.binding, v1.at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "az-snp-vtpm: hcl report: `user-data` does not start with the session binding (v2 "
            "evidence)");
}

// Verification after the TDX collateral window names the expired item, as `tdx` does.
TEST(AzureVerifierTest, TdxCollateralExpiredNamed) {
  Case c = Load("a4-az-tdx-vtpm-v0");
  auto r = Tdx().Verify(c.evidence, c.binding, *core::ParseRfc3339("2025-03-15T03:39:01Z"));
  EXPECT_THAT(r, StatusIs(_, StartsWith("az-tdx-vtpm: td quote: ")));
}

// Without a session (operator command) the nonce is reported, not checked.
TEST(AzureVerifierTest, NoBindingReportsNonce) {
  Case c = Load("a4-az-tdx-vtpm-v1");
  auto ev = ParseEvidence(c.evidence, Platform::kTdx);
  ASSERT_OK(ev);
  auto v = Tdx().VerifyEvidence(*ev, nullptr, c.at);
  ASSERT_OK(v);
  EXPECT_EQ(v->quote.extra_data, "challenge");
  EXPECT_EQ(v->tcb_status, "OutOfDate");
  EXPECT_THAT(v->advisory_ids,
              ::testing::ElementsAre("INTEL-SA-00960", "INTEL-SA-00982", "INTEL-SA-00986"));
}

}  // namespace
}  // namespace ccburst::evidence::azure
