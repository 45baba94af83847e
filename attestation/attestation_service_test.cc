#include "attestation/attestation_service.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "evidence/sample/sample.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const core::TimePoint kNow = core::FromUnixSeconds(1'750'000'000);

constexpr std::string_view kNonce = "q6ZPOVfHQHnsIXDUVjs4DMhJpsnSRUW4OP8bJzxZzSs=";
constexpr std::string_view kTeePubkey =
    R"({"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW",
        "x":"rGTy4nCg8F7YJzlPq1ZmVmhqkw6pU5CnFE6dwD_WR2A",
        "y":"x8lIRCFqHT1FgyxQVd3Z6nyl2n9Uxl1dDDp1m8NXRhI"})";
// Standard base64 of SHA-384 of JCS({"additional-evidence":"","nonce":kNonce,"tee-pubkey":..}),
// computed independently (python3: json.dumps(sort_keys=True, separators=(",", ":")), hashlib).
constexpr std::string_view kBoundReportData =
    "EROaSeoF6lqGy8G3uveDy8ZdzC3uZeyCRhus2l8xBsOz0ip1OhVlkUWfbWr11qsL";

json::value Json(std::string_view text) {
  auto v = core::ParseJson(text);
  EXPECT_OK(v) << text;
  return v.ok() ? *v : json::value();
}

json::object RuntimeData(std::string_view nonce = kNonce) {
  return json::object{{"nonce", nonce}, {"tee-pubkey", Json(kTeePubkey)}};
}

std::string BindingDigest(const json::object& runtime_data, std::string_view additional,
                          bool sha512 = false) {
  json::object material = runtime_data;
  material["additional-evidence"] = additional;
  std::string jcs = core::Jcs(material);
  return sha512 ? crypto::Sha512(jcs) : crypto::Sha384(jcs);
}

AttestationService::Request SampleRequest() {
  AttestationService::Request req;
  req.tee = "sample";
  req.runtime_data = RuntimeData();
  req.primary_evidence = json::object{{"svn", "1"}, {"report_data", kBoundReportData}};
  return req;
}

std::string RvMessage(std::string_view payload) {
  return core::Serialize(json::object{
      {"version", "0.1.0"}, {"type", "sample"}, {"payload", core::Base64Encode(payload)}});
}

std::string PolicyBody(std::string_view id, std::string_view rego) {
  return core::Serialize(
      json::object{{"type", "rego"}, {"policy_id", id}, {"policy", core::Base64UrlEncode(rego)}});
}

// Records the binding it was asked to check and returns fixed claims.
class FakeVerifier final : public evidence::Verifier {
 public:
  FakeVerifier(std::string tee, json::object claims, evidence::ExpectedBinding* seen)
      : tee_(std::move(tee)), claims_(std::move(claims)), seen_(seen) {}
  std::string_view tee() const override { return tee_; }
  absl::StatusOr<json::object> Verify(const json::value&, const evidence::ExpectedBinding& b,
                                      core::TimePoint) const override {
    if (seen_ != nullptr) *seen_ = b;
    return claims_;
  }

 private:
  std::string tee_;
  json::object claims_;
  evidence::ExpectedBinding* seen_;
};

class AttestationServiceTest : public ::testing::Test {
 protected:
  AttestationServiceTest() { service_.RegisterVerifier(evidence::NewSampleVerifier()); }

  // Attests and returns the decoded, signature-checked token.
  crypto::Jwt MustAttest(const AttestationService::Request& req) {
    auto token = service_.Attest(req);
    EXPECT_OK(token);
    if (!token.ok()) return {};
    auto jwt = crypto::DecodeAndVerifyJwt(*token, key_.Public());
    EXPECT_OK(jwt);
    return jwt.ok() ? *jwt : crypto::Jwt{};
  }

  static const json::object& Cpu0(const crypto::Jwt& jwt) {
    return jwt.claims.at("submods").as_object().at("cpu0").as_object();
  }

  void RegisterSampleReferenceValues() {
    ASSERT_OK(rvs_.Register(RvMessage(R"({"launch_digest":["abcde"],"svn":["1"]})")));
  }

  FakeClock clock_{kNow};
  std::unique_ptr<store::KeyValueStore> kv_ = store::NewMemoryStore();
  ReferenceValueStore rvs_{*kv_, clock_};
  crypto::PrivateKey key_ = crypto::PrivateKey::GenerateEcP256();
  AttestationService service_{*kv_, rvs_, key_, clock_, {}};
};

TEST_F(AttestationServiceTest, SupportsRegisteredTees) {
  EXPECT_TRUE(service_.SupportsTee("sample"));
  EXPECT_FALSE(service_.SupportsTee("tdx"));
}

TEST_F(AttestationServiceTest, SampleWithReferenceValuesIsAffirming) {
  RegisterSampleReferenceValues();
  crypto::Jwt jwt = MustAttest(SampleRequest());

  json::object expected_header{{"alg", "ES256"}, {"typ", "JWT"}};
  json::object jwk = key_.Public().ToJwk();
  jwk["alg"] = "ES256";
  expected_header["jwk"] = jwk;
  EXPECT_EQ(jwt.header, expected_header);

  const json::object& c = jwt.claims;
  EXPECT_EQ(c.at("eat_profile"),
            json::value("tag:github.com,2024:confidential-containers/Trustee"));
  EXPECT_EQ(c.at("iat"), json::value(1'750'000'000));
  EXPECT_EQ(c.at("exp"), json::value(1'750'000'300));
  EXPECT_EQ(c.at("iss"), json::value("ccburst"));
  EXPECT_EQ(c.at("ear.verifier-id"), Json(R"({"developer":"ccburst","build":"0.1.0"})"));
  ASSERT_EQ(c.at("submods").as_object().size(), 1u);

  std::string expected_cpu0 = R"({
    "ear.status": "affirming",
    "ear.trustworthiness-vector": {"instance-identity":0,"configuration":2,"executables":3,
      "file-system":0,"hardware":2,"runtime-opaque":0,"storage-opaque":0,"sourced-data":0},
    "ear.trustee.identifiers": {"validated": {}},
    "ear.appraisal-policy-id": "default",
    "ear.veraison.annotated-evidence": {
      "sample": {"svn":"1","launch_digest":"abcde","platform_version":{"major":1,"minor":4},
                 "debug":false},
      "report_data": "EROaSeoF6lqGy8G3uveDy8ZdzC3uZeyCRhus2l8xBsOz0ip1OhVlkUWfbWr11qsL",
      "runtime_data_claims": {"nonce":"q6ZPOVfHQHnsIXDUVjs4DMhJpsnSRUW4OP8bJzxZzSs=",
        "tee-pubkey":{"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW",
          "x":"rGTy4nCg8F7YJzlPq1ZmVmhqkw6pU5CnFE6dwD_WR2A",
          "y":"x8lIRCFqHT1FgyxQVd3Z6nyl2n9Uxl1dDDp1m8NXRhI"}}}})";
  EXPECT_EQ(json::value(Cpu0(jwt)), Json(expected_cpu0)) << core::Serialize(Cpu0(jwt));
}

TEST_F(AttestationServiceTest, StatusWithoutReferenceValues) {
  // Nothing registered: executables 33 (warning), hardware 97 (contraindicated).
  crypto::Jwt jwt = MustAttest(SampleRequest());
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("contraindicated"));
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector"),
            Json(R"({"instance-identity":0,"configuration":2,"executables":33,"file-system":0,
                     "hardware":97,"runtime-opaque":0,"storage-opaque":0,"sourced-data":0})"));

  // The hardware is known but the launch digest is not: warning.
  ASSERT_OK(rvs_.Register(RvMessage(R"({"svn":["1"]})")));
  jwt = MustAttest(SampleRequest());
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("warning"));
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector").at("hardware"), json::value(2));
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector").at("executables"), json::value(33));
}

TEST_F(AttestationServiceTest, ScalarReferenceValuesAndOtherSvns) {
  ASSERT_OK(rvs_.Register(RvMessage(R"({"launch_digest":"abcde","svn":"2"})")));
  crypto::Jwt jwt = MustAttest(SampleRequest());  // svn "1" is not the approved "2"
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector").at("executables"), json::value(3));
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector").at("hardware"), json::value(97));

  ASSERT_OK(rvs_.Register(RvMessage(R"({"svn":"1"})")));
  jwt = MustAttest(SampleRequest());
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("affirming"));
}

TEST_F(AttestationServiceTest, ExpiredReferenceValuesAreNotUsed) {
  RegisterSampleReferenceValues();
  clock_.Advance(std::chrono::days(400));
  crypto::Jwt jwt = MustAttest(SampleRequest());
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("contraindicated"));
}

TEST_F(AttestationServiceTest, BindingMismatchIsRefused) {
  AttestationService::Request req = SampleRequest();
  req.runtime_data = RuntimeData("another-nonce");
  auto token = service_.Attest(req);
  ASSERT_THAT(token, StatusIs(absl::StatusCode::kPermissionDenied,
                              "sample: report_data does not match the session binding"));

  // The additional evidence is part of the binding too.
  req = SampleRequest();
  req.additional_evidence = "{}";
  token = service_.Attest(req);
  ASSERT_THAT(token, StatusIs(absl::StatusCode::kPermissionDenied));

  req.primary_evidence.as_object()["report_data"] =
      core::Base64Encode(BindingDigest(req.runtime_data, "{}"));
  EXPECT_OK(service_.Attest(req));
}

TEST_F(AttestationServiceTest, MalformedRequests) {
  AttestationService::Request req = SampleRequest();
  req.tee = "tdx";
  auto token = service_.Attest(req);
  ASSERT_THAT(token,
              StatusIs(absl::StatusCode::kInvalidArgument, "attestation: unsupported tee `tdx`"));

  req = SampleRequest();
  req.runtime_data.erase("nonce");
  token = service_.Attest(req);
  ASSERT_THAT(token, StatusIs(_, "attestation: runtime data has no string `nonce`"));

  req = SampleRequest();
  req.runtime_data["tee-pubkey"] = "key";
  token = service_.Attest(req);
  ASSERT_THAT(token, StatusIs(_, "attestation: runtime data has no object `tee-pubkey`"));

  req = SampleRequest();
  req.primary_evidence = json::array{};
  token = service_.Attest(req);
  ASSERT_THAT(
      token, StatusIs(absl::StatusCode::kInvalidArgument, "sample: evidence is not a JSON object"));

  req = SampleRequest();
  req.policy_id = "../x";
  token = service_.Attest(req);
  ASSERT_THAT(token, StatusIs(_, "attestation: invalid policy id `../x`"));

  req = SampleRequest();
  req.policy_id = "missing";
  token = service_.Attest(req);
  ASSERT_THAT(token,
              StatusIs(absl::StatusCode::kNotFound, "attestation-policy: `missing_cpu` not found"));
}

constexpr std::string_view kInitData = R"(version = "0.1.0"
algorithm = "sha256"

[data]
"policy.rego" = '''
package agent_policy
policy_data := {"containers": [{"OCI": {"Annotations": {"io.kubernetes.cri.image-name": "quay.io/app:1"}, "Process": {"User": {"UID": 1000}}}}, {"OCI": {"Annotations": {"io.kubernetes.cri.image-name": "quay.io/pause:3"}, "Process": {"User": {"UID": 65535}}}}]}
'''
note = "hello"
)";

TEST_F(AttestationServiceTest, InitDataDigestAndClaims) {
  RegisterSampleReferenceValues();
  AttestationService::Request req = SampleRequest();
  req.init_data_toml = std::string(kInitData);
  crypto::Jwt jwt = MustAttest(req);
  const json::object& annotated = Cpu0(jwt).at("ear.veraison.annotated-evidence").as_object();
  EXPECT_EQ(annotated.at("init_data"), json::value(core::Base64Encode(crypto::Sha256(kInitData))));
  EXPECT_EQ(annotated.at("init_data_claims"),
            Json(R"({"note":"hello","agent_policy_claims":{"containers":[
                     {"OCI":{"Annotations":{"io.kubernetes.cri.image-name":"quay.io/app:1"},
                             "Process":{"User":{"UID":1000}}}},
                     {"OCI":{"Annotations":{"io.kubernetes.cri.image-name":"quay.io/pause:3"},
                             "Process":{"User":{"UID":65535}}}}]}})"));
  EXPECT_FALSE(annotated.at("sample").as_object().contains("init_data"));
  // The default policy publishes the workload identifiers bound through init-data.
  EXPECT_EQ(Cpu0(jwt).at("ear.trustee.identifiers"),
            Json(R"({"validated":{"container_images":["quay.io/app:1","quay.io/pause:3"],
                                  "container_uids":[1000,65535]}})"));
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("affirming"));
}

TEST_F(AttestationServiceTest, InitDataIsPassedToTheVerifier) {
  evidence::ExpectedBinding seen;
  service_.RegisterVerifier(
      std::make_unique<FakeVerifier>("tdx", Json(R"({"quote":{"body":{}}})").as_object(), &seen));
  AttestationService::Request req = SampleRequest();
  req.tee = "tdx";
  req.init_data_toml = std::string(kInitData);
  ASSERT_OK(service_.Attest(req));
  EXPECT_EQ(seen.report_data_digest, BindingDigest(req.runtime_data, ""));
  ASSERT_TRUE(seen.init_data_digest.has_value());
  EXPECT_EQ(*seen.init_data_digest, crypto::Sha256(kInitData));

  req.init_data_toml = "version = \"0.1.0\"\nalgorithm = \"sha1\"\n[data]\n";
  auto token = service_.Attest(req);
  ASSERT_THAT(token, StatusIs(absl::StatusCode::kInvalidArgument,
                              "init-data: unsupported algorithm `sha1`"));
}

TEST_F(AttestationServiceTest, SeUsesSha512Binding) {
  evidence::ExpectedBinding seen;
  service_.RegisterVerifier(std::make_unique<FakeVerifier>("se", json::object{{"x", 1}}, &seen));
  AttestationService::Request req = SampleRequest();
  req.tee = "se";
  ASSERT_OK(service_.Attest(req));
  EXPECT_EQ(seen.report_data_digest.size(), 64u);
  EXPECT_EQ(seen.report_data_digest, BindingDigest(req.runtime_data, "", /*sha512=*/true));
  EXPECT_FALSE(seen.init_data_digest.has_value());
}

TEST_F(AttestationServiceTest, DefaultPolicyAppraisesTdxClaims) {
  const char* tdx_claims = R"({
    "quote":{"header":{"tee_type":"81000000"},
             "body":{"mr_td":"aa","rtmr_1":"b1","rtmr_2":"b2","xfam":"e7","report_data":"00"}},
    "td_attributes":{"debug":false},"tcb_status":"UpToDate","report_data":"00"})";
  service_.RegisterVerifier(
      std::make_unique<FakeVerifier>("tdx", Json(tdx_claims).as_object(), nullptr));
  AttestationService::Request req = SampleRequest();
  req.tee = "tdx";
  crypto::Jwt jwt = MustAttest(req);
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("contraindicated"));

  ASSERT_OK(rvs_.Register(RvMessage(R"({"mr_td":["aa"],"rtmr_1":["b1"],"rtmr_2":["b2"],
                                           "xfam":["e7"]})")));
  jwt = MustAttest(req);
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("affirming"));
  const json::object& annotated = Cpu0(jwt).at("ear.veraison.annotated-evidence").as_object();
  EXPECT_EQ(annotated.at("report_data"), json::value("00"));
  EXPECT_EQ(annotated.at("tdx").at("quote").at("body").at("mr_td"), json::value("aa"));
}

constexpr std::string_view kStrictPolicy = R"(package policy

import rego.v1

default hardware := 97

trust_claims := {"hardware": hardware, "executables": 2}

hardware := 3 if {
	input.sample.svn in query_reference_value("svn")
	input.runtime_data_claims.nonce != ""
}

extensions := [{"name": "ccburst.test", "key": 1000, "value": {"svn": input.sample.svn}}]
)";

TEST_F(AttestationServiceTest, CustomPolicyViaSetPolicy) {
  ASSERT_OK(service_.SetPolicy(PolicyBody("strict_cpu", kStrictPolicy)));
  auto ids = service_.ListPolicies();
  ASSERT_OK(ids);
  EXPECT_THAT(*ids, ElementsAre("default_cpu", "default_gpu", "strict_cpu"));

  AttestationService::Request req = SampleRequest();
  req.policy_id = "strict";
  crypto::Jwt jwt = MustAttest(req);
  EXPECT_EQ(Cpu0(jwt).at("ear.appraisal-policy-id"), json::value("strict"));
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector"), Json(R"({"executables":2,"hardware":97})"));
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("contraindicated"));
  EXPECT_EQ(Cpu0(jwt).at("ccburst.test"), Json(R"({"svn":"1"})"));

  ASSERT_OK(rvs_.Register(RvMessage(R"({"svn":["1"]})")));
  jwt = MustAttest(req);
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("affirming"));
}

TEST_F(AttestationServiceTest, StoredPolicyOverridesBuiltin) {
  constexpr std::string_view kAllNone = R"(package policy
trust_claims := {"configuration": 0}
)";
  ASSERT_OK(service_.SetPolicy(PolicyBody("default_cpu", kAllNone)));
  auto text = service_.GetPolicy("default_cpu");
  ASSERT_OK(text);
  EXPECT_EQ(*text, kAllNone);
  crypto::Jwt jwt = MustAttest(SampleRequest());
  EXPECT_EQ(Cpu0(jwt).at("ear.status"), json::value("none"));
  EXPECT_EQ(Cpu0(jwt).at("ear.trustworthiness-vector"), Json(R"({"configuration":0})"));
  EXPECT_FALSE(Cpu0(jwt).contains("ear.trustee.identifiers"));
  auto ids = service_.ListPolicies();
  ASSERT_OK(ids);
  EXPECT_THAT(*ids, ElementsAre("default_cpu", "default_gpu"));
}

// Issue 16 item 9: a policy that could never appraise anything is refused when it is set, with
// the check and the location, and nothing is stored.
TEST_F(AttestationServiceTest, PolicyThatCannotWorkIsRefused) {
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"package policy\n\nx := 1\n",
       "attestation-policy: policy `empty_cpu` does not compile: empty_cpu.rego:1:9: "
       "rego_compile_error: no trust_claims rule in package policy"},
      {"package policy\ntrust_claims := {\"hardware\": h}\nh := 2 if { h }\n",
       "empty_cpu.rego:3:1: rego_recursion_error: rule data.policy.h is recursive: "
       "data.policy.h -> data.policy.h"},
      {"package policy\ntrust_claims := {\"hardware\": reference_value(\"x\")}\n",
       "empty_cpu.rego:2:30: rego_type_error: undefined function reference_value"},
      {"package policy\ntrust_claims := {\"hardware\": query_reference_value()}\n",
       "rego_type_error: query_reference_value: arity mismatch: 0 arguments given, function "
       "takes 1"},
      {"package policy\ntrust_claims := {\"hardware\": x}\n",
       "empty_cpu.rego:2:1: rego_unsafe_var_error: var x is unsafe"},
      {"package policy\ntrust_claims := {\"hardware\": data.reference.hw}\n",
       "rego_type_error: undefined ref: data.reference"},
      {"package agent\ntrust_claims := {}\n",
       "empty_cpu.rego:1:9: rego_compile_error: package agent is not policy"},
  };
  for (const auto& c : cases) {
    absl::Status s = service_.SetPolicy(PolicyBody("empty_cpu", c.text));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message))) << c.text;
  }
  auto ids = service_.ListPolicies();
  ASSERT_OK(ids);
  EXPECT_THAT(*ids, ElementsAre("default_cpu", "default_gpu"));
}

TEST_F(AttestationServiceTest, UnusablePolicyResultsFailTheAttestation) {
  ASSERT_OK(service_.SetPolicy(PolicyBody("bad_cpu", R"(package policy
trust_claims := {"filesystem": 2}
)")));
  AttestationService::Request req = SampleRequest();
  req.policy_id = "bad";
  auto token = service_.Attest(req);
  ASSERT_THAT(
      token,
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "attestation-policy `bad_cpu`: trust_claims: `filesystem` is not an AR4SI claim"));
}

TEST_F(AttestationServiceTest, PolicyEvaluationErrorsFailTheAttestation) {
  ASSERT_OK(service_.SetPolicy(PolicyBody("err_cpu", R"(package policy
trust_claims := {"hardware": to_number("not a number")}
)")));
  AttestationService::Request req = SampleRequest();
  req.policy_id = "err";
  auto token = service_.Attest(req);
  ASSERT_THAT(token,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("attestation-policy `err_cpu`: data.policy.trust_claims: ")));
}

// A store whose reference values are unreachable.
class ReferenceValuesDownStore final : public store::KeyValueStore {
 public:
  explicit ReferenceValuesDownStore(store::KeyValueStore& inner) : inner_(inner) {}
  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    return inner_.Put(ns, key, value);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    if (ns == kReferenceValueNamespace) return absl::UnavailableError("store: down");
    return inner_.Get(ns, key);
  }
  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    return inner_.Delete(ns, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view prefix) override {
    return inner_.List(ns, prefix);
  }
  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    return inner_.CompareAndSwap(ns, key, expected, desired, expires_unix);
  }
  absl::Status Ping() override { return inner_.Ping(); }

 private:
  store::KeyValueStore& inner_;
};

TEST_F(AttestationServiceTest, ReferenceValueStoreErrorsPassThrough) {
  ReferenceValuesDownStore down(*kv_);
  ReferenceValueStore rvs(down, clock_);
  AttestationService service(down, rvs, key_, clock_, {});
  service.RegisterVerifier(evidence::NewSampleVerifier());
  auto token = service.Attest(SampleRequest());
  ASSERT_THAT(token, StatusIs(absl::StatusCode::kUnavailable,
                              "attestation-policy `default_cpu`: store: down"));
}

TEST_F(AttestationServiceTest, SetPolicyErrors) {
  struct Case {
    std::string body;
    std::string message;
  } cases[] = {
      {"nope", "attestation-policy: json: "},
      {"[]", "attestation-policy: body is not a JSON object"},
      {R"({"type":"opa","policy_id":"a","policy":""})",
       "attestation-policy: unsupported type `opa`"},
      {R"({"policy":""})", "attestation-policy: missing field `policy_id`"},
      {R"({"policy_id":"a b","policy":""})", "attestation-policy: invalid `policy_id` `a b`"},
      {R"({"policy_id":"a"})", "attestation-policy: missing field `policy`"},
      {R"({"policy_id":"a","policy":"$$"})", "attestation-policy: `policy` is not base64url: "},
      {PolicyBody("a", "package policy\n\nx := {\n"),
       "attestation-policy: policy `a` does not compile: "},
  };
  for (const auto& c : cases) {
    absl::Status s = service_.SetPolicy(c.body);
    ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.body;
    EXPECT_TRUE(core::Message(s).starts_with(c.message)) << core::Message(s);
  }
  auto ids = service_.ListPolicies();
  ASSERT_OK(ids);
  EXPECT_THAT(*ids, ElementsAre("default_cpu", "default_gpu"));
}

TEST_F(AttestationServiceTest, CompileErrorNamesLineAndColumn) {
  absl::Status s = service_.SetPolicy(PolicyBody("a", "package policy\n\nx := 1 +\n"));
  ASSERT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attestation-policy: policy `a` does not compile: a.rego:4:1: ")));
}

TEST_F(AttestationServiceTest, VerifyTokenAcceptsOwnToken) {
  RegisterSampleReferenceValues();
  auto token = service_.Attest(SampleRequest());
  ASSERT_OK(token);
  auto claims = service_.VerifyToken(*token);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("submods").at("cpu0").at("ear.status"), json::value("affirming"));

  clock_.Advance(std::chrono::seconds(300 + 60));  // within the leeway
  EXPECT_OK(service_.VerifyToken(*token));
  clock_.Advance(std::chrono::seconds(1));
  claims = service_.VerifyToken(*token);
  ASSERT_THAT(claims,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("token: jwt: expired at ")));
}

TEST_F(AttestationServiceTest, VerifyTokenRejectsTampering) {
  auto token = service_.Attest(SampleRequest());
  ASSERT_OK(token);
  // Re-encode the payload with an affirming status but keep the original signature.
  auto jwt = crypto::DecodeJwt(*token);
  ASSERT_OK(jwt);
  json::object claims = jwt->claims;
  claims["submods"].as_object()["cpu0"].as_object()["ear.status"] = "affirming";
  size_t dot1 = token->find('.');
  size_t dot2 = token->rfind('.');
  std::string forged = token->substr(0, dot1 + 1) + core::Base64UrlEncode(core::Serialize(claims)) +
                       token->substr(dot2);
  auto result = service_.VerifyToken(forged);
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kPermissionDenied,
                               "token: signature verification failed"));

  result = service_.VerifyToken("not.a.token");
  ASSERT_THAT(result,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("token: malformed: ")));
}

TEST_F(AttestationServiceTest, VerifyTokenRejectsOtherKeysIssuersAndTimes) {
  FakeClock other_clock(kNow);
  AttestationService other(*kv_, rvs_, crypto::PrivateKey::GenerateEcP256(), other_clock, {});
  other.RegisterVerifier(evidence::NewSampleVerifier());
  auto foreign = other.Attest(SampleRequest());
  ASSERT_OK(foreign);
  auto result = service_.VerifyToken(*foreign);
  ASSERT_THAT(result, StatusIs(_, "token: signature verification failed"));

  AttestationServiceOptions options;
  options.issuer = "someone-else";
  AttestationService same_key(*kv_, rvs_, key_, other_clock, options);
  same_key.RegisterVerifier(evidence::NewSampleVerifier());
  auto other_issuer = same_key.Attest(SampleRequest());
  ASSERT_OK(other_issuer);
  result = service_.VerifyToken(*other_issuer);
  ASSERT_THAT(result, StatusIs(_, "token: issuer `someone-else` is not accepted"));

  auto future = crypto::SignJwt(key_, json::object{{"iss", "ccburst"},
                                                   {"iat", core::ToUnixSeconds(kNow) + 61},
                                                   {"exp", core::ToUnixSeconds(kNow) + 400}});
  ASSERT_OK(future);
  result = service_.VerifyToken(*future);
  ASSERT_THAT(result, StatusIs(_, HasSubstr("token: jwt: issued in the future at ")));

  // A token signed with our key but another algorithm is refused before the signature check.
  auto es = crypto::SignJwt(crypto::PrivateKey::GenerateEcP384(), json::object{{"iss", "ccburst"}});
  ASSERT_OK(es);
  result = service_.VerifyToken(*es);
  ASSERT_THAT(result, StatusIs(_, "token: algorithm must be ES256"));
}

TEST_F(AttestationServiceTest, NonP256KeyIsRefused) {
  AttestationService wrong(*kv_, rvs_, crypto::PrivateKey::GenerateEcP384(), clock_, {});
  wrong.RegisterVerifier(evidence::NewSampleVerifier());
  auto token = wrong.Attest(SampleRequest());
  ASSERT_THAT(token, StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AttestationServiceTest, Jwks) {
  json::object jwks = service_.Jwks();
  ASSERT_EQ(jwks.at("keys").as_array().size(), 1u);
  json::object expected = key_.Public().ToJwk();
  expected["alg"] = "ES256";
  expected["use"] = "sig";
  expected["kid"] = crypto::JwkThumbprint(key_.Public());
  EXPECT_EQ(jwks.at("keys").at(0), json::value(expected));
  auto from_jwks = crypto::PublicKey::FromJwk(jwks.at("keys").at(0).as_object());
  ASSERT_OK(from_jwks);
  EXPECT_TRUE(from_jwks->Equals(key_.Public()));
}

TEST_F(AttestationServiceTest, ConcurrentAttestations) {
  RegisterSampleReferenceValues();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto token = service_.Attest(SampleRequest());
        if (!token.ok()) {
          ++failures;
          continue;
        }
        auto claims = service_.VerifyToken(*token);
        if (!claims.ok() ||
            claims->at("submods").at("cpu0").at("ear.status") != json::value("affirming")) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace ccburst::attestation

namespace ccburst::attestation {
namespace {

// Records the device binding and returns fixed per-device claims (or an error).
class FakeDeviceVerifier final : public evidence::DeviceVerifier {
 public:
  FakeDeviceVerifier(absl::StatusOr<std::vector<json::object>> result, std::string* seen,
                     std::string expected = R"({"device_evidence_list":[]})")
      : result_(std::move(result)), seen_(seen), expected_(std::move(expected)) {}
  std::string_view tee() const override { return "nvidia"; }
  std::string_view device_class() const override { return "gpu"; }
  absl::StatusOr<std::vector<json::object>> Verify(const json::value& evidence,
                                                   std::string_view binding,
                                                   core::TimePoint) const override {
    if (seen_ != nullptr) *seen_ = std::string(binding);
    EXPECT_EQ(evidence, Json(expected_));
    return result_;
  }

 private:
  absl::StatusOr<std::vector<json::object>> result_;
  std::string* seen_;
  std::string expected_;
};

json::object GpuClaims(std::string_view uuid) {
  return json::object{{"arch", "Hopper"},
                      {"uuid", uuid},
                      {"measurements", json::object{{"1", "aa"}}},
                      {"config", json::object{{"driver_version", "550.90.07"},
                                              {"vbios_version", "96.00.9f.00.01"}}}};
}

AttestationService::Request GpuRequest() {
  AttestationService::Request req = SampleRequest();
  req.additional_evidence = R"({"nvidia":{"device_evidence_list":[]},"other":{"x":1}})";
  req.primary_evidence.as_object()["report_data"] =
      core::Base64Encode(BindingDigest(req.runtime_data, req.additional_evidence));
  return req;
}

TEST_F(AttestationServiceTest, EachGpuIsVerifiedWithTheDeviceBindingAndAppraisedInItsSubmod) {
  std::string seen;
  service_.RegisterDeviceVerifier(std::make_unique<FakeDeviceVerifier>(
      std::vector<json::object>{GpuClaims("u0"), GpuClaims("u1")}, &seen));
  ASSERT_OK(rvs_.Register(RvMessage(
      R"({"nvidia_driver_version":["550.90.07"],"nvidia_vbios_version":["96.00.9f.00.01"]})")));
  crypto::Jwt jwt = MustAttest(GpuRequest());
  EXPECT_EQ(seen, crypto::Sha384(core::Jcs(json::value(RuntimeData()))));
  const json::object& submods = jwt.claims.at("submods").as_object();
  ASSERT_EQ(submods.size(), 3u);
  for (std::string_view name : {"gpu0", "gpu1"}) {
    const json::object& gpu = submods.at(name).as_object();
    const json::object& tv = gpu.at("ear.trustworthiness-vector").as_object();
    EXPECT_EQ(tv.at("hardware"), json::value(2)) << name;
    EXPECT_EQ(tv.at("configuration"), json::value(2)) << name;
    EXPECT_EQ(tv.at("executables"), json::value(33)) << name;  // no golden measurements
    EXPECT_EQ(gpu.at("ear.status"), json::value("warning")) << name;
    const json::object& nv = gpu.at("ear.veraison.annotated-evidence").at("nvidia").as_object();
    EXPECT_FALSE(nv.contains("measurements"));  // kept out of the token
    EXPECT_EQ(nv.at("uuid"), json::value(name == "gpu0" ? "u0" : "u1"));
  }
}

TEST_F(AttestationServiceTest, DeviceOutcomesCarryEachGpusArchAndStatus) {
  json::object other = GpuClaims("u1");
  other["config"].as_object()["driver_version"] = "1.0";  // no reference value: not affirming
  service_.RegisterDeviceVerifier(std::make_unique<FakeDeviceVerifier>(
      std::vector<json::object>{GpuClaims("u0"), other}, nullptr));
  ASSERT_OK(rvs_.Register(RvMessage(
      R"({"nvidia_driver_version":["550.90.07"],"nvidia_vbios_version":["96.00.9f.00.01"],
          "nvidia_measurements":{"1":"aa"}})")));
  std::vector<DeviceOutcome> devices{{"stale", "stale"}};
  auto token = service_.Attest(GpuRequest(), &devices);
  ASSERT_OK(token);
  auto jwt = crypto::DecodeAndVerifyJwt(*token, key_.Public());
  ASSERT_OK(jwt);
  const json::object& submods = jwt->claims.at("submods").as_object();
  ASSERT_EQ(devices.size(), 2u);
  for (size_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(devices[i].arch, "HOPPER");
    EXPECT_EQ(json::value(devices[i].status), submods.at(fmt::format("gpu{}", i)).at("ear.status"));
  }
  EXPECT_EQ(devices[0].status, "affirming");
  EXPECT_NE(devices[1].status, "affirming");

  // Without GPUs: no outcome.
  ASSERT_OK(service_.Attest(SampleRequest(), &devices));
  EXPECT_TRUE(devices.empty());
}

TEST_F(AttestationServiceTest, ARefusedGpuIsAFailedOutcomeWithTheArchOfItsEvidence) {
  const std::string evidence =
      R"({"device_evidence_list":[{"arch":"HOPPER"},{"arch":"Hopper-2"},{"arch":"a b"}]})";
  AttestationService::Request req = SampleRequest();
  req.additional_evidence = fmt::format(R"({{"nvidia":{}}})", evidence);
  req.primary_evidence.as_object()["report_data"] =
      core::Base64Encode(BindingDigest(req.runtime_data, req.additional_evidence));
  struct Case {
    absl::Status error;
    std::vector<std::string> archs;  // of the failed outcome, if any
  };
  for (const Case& c : std::vector<Case>{
           {absl::PermissionDeniedError("nvidia: device 1 (gpu-1): report nonce 00 does not match"),
            {"HOPPER-2"}},
           {absl::PermissionDeniedError("nvidia: device 0: certificate chain"), {"HOPPER"}},
           // An arch that is no identifier, a device not in the list, no device named, a
           // malformed evidence: no outcome.
           {absl::PermissionDeniedError("nvidia: device 2: certificate chain"), {}},
           {absl::PermissionDeniedError("nvidia: device 7: certificate chain"), {}},
           {absl::PermissionDeniedError("nvidia: certificate chain"), {}},
           {absl::InvalidArgumentError("nvidia: device 0: not a JSON object"), {}},
       }) {
    service_.RegisterDeviceVerifier(
        std::make_unique<FakeDeviceVerifier>(c.error, nullptr, evidence));
    std::vector<DeviceOutcome> devices{{"stale", "stale"}};
    auto token = service_.Attest(req, &devices);
    EXPECT_EQ(token.status(), c.error);  // the device's error, unchanged
    std::vector<std::string> archs;
    for (const DeviceOutcome& d : devices) {
      EXPECT_EQ(d.status, "failed");
      archs.push_back(d.arch);
    }
    EXPECT_EQ(archs, c.archs) << c.error;
  }
}

TEST_F(AttestationServiceTest, GoldenMeasurementsFromRimsRaiseExecutablesPerGpu) {
  json::object other = GpuClaims("u1");
  other["measurements"] = json::object{{"1", "bb"}};
  service_.RegisterDeviceVerifier(std::make_unique<FakeDeviceVerifier>(
      std::vector<json::object>{GpuClaims("u0"), other}, nullptr));
  // A single golden value: gpu0 matches, gpu1 (other firmware) does not.
  ASSERT_OK(rvs_.Register(RvMessage(
      R"({"nvidia_driver_version":["550.90.07"],"nvidia_vbios_version":["96.00.9f.00.01"],
          "nvidia_measurements":{"1":"aa"}})")));
  crypto::Jwt jwt = MustAttest(GpuRequest());
  const json::object& submods = jwt.claims.at("submods").as_object();
  EXPECT_EQ(submods.at("gpu0").at("ear.trustworthiness-vector").at("executables"), json::value(3));
  EXPECT_EQ(submods.at("gpu0").at("ear.status"), json::value("affirming"));
  EXPECT_EQ(submods.at("gpu1").at("ear.trustworthiness-vector").at("executables"), json::value(33));
  // A RIM's alternatives: either value is golden.
  ASSERT_OK(rvs_.Register(RvMessage(R"({"nvidia_measurements":{"1":["aa","bb"]}})")));
  jwt = MustAttest(GpuRequest());
  for (std::string_view name : {"gpu0", "gpu1"}) {
    EXPECT_EQ(jwt.claims.at("submods").at(name).at("ear.status"), json::value("affirming")) << name;
  }
}

TEST_F(AttestationServiceTest, AGpuWithoutOcspAssuranceNeverAffirms) {
  json::object good = GpuClaims("u0");
  good["ocsp"] = json::object{{"status", "good"}};
  json::object unknown = GpuClaims("u1");
  unknown["ocsp"] = json::object{{"status", "unknown"}, {"error", "responder unavailable"}};
  json::object revoked = GpuClaims("u2");
  revoked["ocsp"] = json::object{{"status", "revoked"}};
  service_.RegisterDeviceVerifier(std::make_unique<FakeDeviceVerifier>(
      std::vector<json::object>{good, unknown, revoked}, nullptr));
  ASSERT_OK(rvs_.Register(RvMessage(
      R"({"nvidia_driver_version":["550.90.07"],"nvidia_vbios_version":["96.00.9f.00.01"],
          "nvidia_measurements":{"1":"aa"}})")));
  crypto::Jwt jwt = MustAttest(GpuRequest());
  const json::object& submods = jwt.claims.at("submods").as_object();
  EXPECT_EQ(submods.at("gpu0").at("ear.trustworthiness-vector").at("hardware"), json::value(2));
  EXPECT_EQ(submods.at("gpu0").at("ear.status"), json::value("affirming"));
  EXPECT_EQ(submods.at("gpu1").at("ear.trustworthiness-vector").at("hardware"), json::value(32));
  EXPECT_EQ(submods.at("gpu1").at("ear.status"), json::value("warning"));
  EXPECT_EQ(submods.at("gpu2").at("ear.trustworthiness-vector").at("hardware"), json::value(97));
  EXPECT_EQ(submods.at("gpu2").at("ear.status"), json::value("contraindicated"));
}

TEST_F(AttestationServiceTest, AFailingGpuRefusesTheAttestationWithItsReason) {
  service_.RegisterDeviceVerifier(std::make_unique<FakeDeviceVerifier>(
      absl::PermissionDeniedError("nvidia: device 1: report nonce 00 does not match"), nullptr));
  EXPECT_THAT(service_.Attest(GpuRequest()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "nvidia: device 1: report nonce 00 does not match"));

  AttestationService::Request req = GpuRequest();
  req.additional_evidence = "not json";
  req.primary_evidence.as_object()["report_data"] =
      core::Base64Encode(BindingDigest(req.runtime_data, req.additional_evidence));
  EXPECT_THAT(service_.Attest(req),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("additional_evidence is not a JSON object")));
}

}  // namespace
}  // namespace ccburst::attestation
