#include "attestation/ear.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::attestation {
namespace {

using ::ccburst::core::testing::StatusIs;

namespace json = boost::json;

json::value Json(std::string_view text) {
  auto v = core::ParseJson(text);
  EXPECT_OK(v);
  return v.ok() ? *v : json::value();
}

TEST(EarTest, TierBoundaries) {
  struct Case {
    int value;
    TrustTier tier;
  } cases[] = {
      {-128, TrustTier::kContraindicated},
      {-97, TrustTier::kContraindicated},
      {-96, TrustTier::kWarning},
      {-33, TrustTier::kWarning},
      {-32, TrustTier::kAffirming},
      {-2, TrustTier::kAffirming},
      {-1, TrustTier::kNone},
      {0, TrustTier::kNone},
      {1, TrustTier::kNone},
      {2, TrustTier::kAffirming},
      {31, TrustTier::kAffirming},
      {32, TrustTier::kWarning},
      {95, TrustTier::kWarning},
      {96, TrustTier::kContraindicated},
      {127, TrustTier::kContraindicated},
  };
  for (const auto& c : cases) EXPECT_EQ(TierOf(c.value), c.tier) << c.value;
  EXPECT_EQ(TierName(TrustTier::kNone), "none");
  EXPECT_EQ(TierName(TrustTier::kAffirming), "affirming");
  EXPECT_EQ(TierName(TrustTier::kWarning), "warning");
  EXPECT_EQ(TierName(TrustTier::kContraindicated), "contraindicated");
}

TEST(EarTest, UndefinedTrustClaimsSetsAllToZero) {
  auto v = TrustVectorFromPolicy(nullptr);
  ASSERT_OK(v);
  EXPECT_EQ(json::value(v->ToJson()),
            Json(R"({"instance-identity":0,"configuration":0,"executables":0,"file-system":0,
                     "hardware":0,"runtime-opaque":0,"storage-opaque":0,"sourced-data":0})"));
  EXPECT_EQ(v->Status(), TrustTier::kNone);
}

TEST(EarTest, VectorKeepsEarOrderAndWorstTier) {
  json::value claims = Json(R"({"hardware":97,"executables":3,"configuration":2})");
  auto v = TrustVectorFromPolicy(&claims);
  ASSERT_OK(v);
  EXPECT_EQ(core::Serialize(v->ToJson()), R"({"configuration":2,"executables":3,"hardware":97})");
  EXPECT_EQ(v->Status(), TrustTier::kContraindicated);

  json::value affirming = Json(R"({"hardware":2,"executables":3,"file-system":0})");
  v = TrustVectorFromPolicy(&affirming);
  ASSERT_OK(v);
  EXPECT_EQ(v->Status(), TrustTier::kAffirming);

  json::value warning = Json(R"({"hardware":2,"executables":33,"sourced-data":-5})");
  v = TrustVectorFromPolicy(&warning);
  ASSERT_OK(v);
  EXPECT_EQ(v->Status(), TrustTier::kWarning);
}

TEST(EarTest, BadTrustClaims) {
  struct Case {
    std::string json;
    std::string message;
  } cases[] = {
      {R"([1])", "trust_claims: must be an object"},
      {R"({})", "trust_claims: at least one claim must be set"},
      {R"({"filesystem":2})", "trust_claims: `filesystem` is not an AR4SI claim"},
      {R"({"hardware":128})", "trust_claims: `hardware` must be an integer in -128..127"},
      {R"({"hardware":"2"})", "trust_claims: `hardware` must be an integer in -128..127"},
      {R"({"hardware":2.5})", "trust_claims: `hardware` must be an integer in -128..127"},
  };
  for (const auto& c : cases) {
    json::value v = Json(c.json);
    auto r = TrustVectorFromPolicy(&v);
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, c.message)) << c.json;
  }
}

TEST(EarTest, Extensions) {
  json::object appraisal{{"ear.status", "affirming"}};
  json::value ext = Json(R"([
      {"name":"ear.trustee.identifiers","key":-18,"value":{"validated":{"a":[1]}}},
      {"name":"skipped","key":5,"value":null}])");
  ASSERT_OK(AddPolicyExtensions(&ext, appraisal));
  EXPECT_EQ(json::value(appraisal), Json(R"({"ear.status":"affirming",
                     "ear.trustee.identifiers":{"validated":{"a":[1]}}})"));

  json::object untouched;
  ASSERT_OK(AddPolicyExtensions(nullptr, untouched));
  json::value null_value;
  ASSERT_OK(AddPolicyExtensions(&null_value, untouched));
  EXPECT_TRUE(untouched.empty());
}

TEST(EarTest, BadExtensions) {
  struct Case {
    std::string json;
    std::string message;
  } cases[] = {
      {R"({"name":"x"})", "extensions: must be an array"},
      {R"([{"name":"x","value":1}])",
       "extensions[0]: must be an object with string `name`, integer `key` and `value`"},
      {R"([{"name":"x","key":1,"value":1},{"name":"x","key":2,"value":2}])",
       "extensions[1]: name `x` is already used"},
      {R"([{"name":"ear.status","key":1,"value":1}])",
       "extensions[0]: name `ear.status` is already used"},
  };
  for (const auto& c : cases) {
    json::object appraisal;
    json::value v = Json(c.json);
    absl::Status s = AddPolicyExtensions(&v, appraisal);
    ASSERT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, c.message)) << c.json;
  }
}

TEST(EarTest, AnnotateEvidenceLiftsBindingClaims) {
  json::object claims = Json(R"({"svn":"1","report_data":"cmQ=","init_data":"aWQ=",
                                  "debug":false})")
                            .as_object();
  json::object runtime = Json(R"({"nonce":"n","tee-pubkey":{"kty":"EC"}})").as_object();
  json::value init_claims = Json(R"({"note":"hello"})");
  auto annotated = AnnotateEvidence("sample", claims, runtime, init_claims);
  ASSERT_OK(annotated);
  EXPECT_EQ(json::value(*annotated),
            Json(R"({"sample":{"svn":"1","debug":false},"report_data":"cmQ=",
                     "runtime_data_claims":{"nonce":"n","tee-pubkey":{"kty":"EC"}},
                     "init_data":"aWQ=","init_data_claims":{"note":"hello"}})"));
}

TEST(EarTest, AnnotateEvidenceWithoutBindingClaims) {
  auto annotated = AnnotateEvidence("tdx", Json(R"({"a":1})").as_object(), {}, nullptr);
  ASSERT_OK(annotated);
  EXPECT_EQ(json::value(*annotated), Json(R"({"tdx":{"a":1}})"));

  auto bad = AnnotateEvidence("tdx", Json(R"({"report_data":1})").as_object(), {}, nullptr);
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace ccburst::attestation
