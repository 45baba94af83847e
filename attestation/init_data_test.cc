#include "attestation/init_data.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr std::string_view kInitData = R"toml(version = "0.1.0"
algorithm = "sha384"

[data]
"aa.toml" = '''
[token_configs]
[token_configs.kbs]
url = "http://10.0.0.1:8080"
'''
"cdh.toml" = "not [valid toml"
"policy.rego" = '''
package agent_policy
default AllowRequestsFailingPolicy := false
policy_data := {"containers": [{"OCI": {"Annotations": {"io.kubernetes.cri.image-name": "quay.io/app:1"}, "Process": {"User": {"UID": 1000}}}}]}
'''
note = "hello"
)toml";

// sha384 of kInitData, computed independently (python3 hashlib).
constexpr std::string_view kInitDataSha384 =
    "85d3a7412750995c4787c2cb7e1e900e44741863aaecc670cd3ceecf70eab428dce339d899a6fc0f97789583a41a0e"
    "85";

TEST(InitDataTest, DigestsRawTextAndConvertsData) {
  auto init = ParseInitData(kInitData);
  ASSERT_OK(init);
  EXPECT_EQ(init->algorithm, crypto::HashAlg::kSha384);
  EXPECT_EQ(core::HexEncode(init->digest), kInitDataSha384);

  auto expected = core::ParseJson(R"({
    "aa.toml": {"token_configs": {"kbs": {"url": "http://10.0.0.1:8080"}}},
    "cdh.toml": "not [valid toml",
    "agent_policy_claims": {"containers": [{"OCI": {
        "Annotations": {"io.kubernetes.cri.image-name": "quay.io/app:1"},
        "Process": {"User": {"UID": 1000}}}}]},
    "note": "hello"})");
  ASSERT_OK(expected);
  EXPECT_EQ(json::value(init->claims), *expected) << core::Serialize(init->claims);
}

TEST(InitDataTest, AlgorithmsSelectTheDigest) {
  for (auto [name, size] : {std::pair{"sha256", 32u}, {"sha384", 48u}, {"sha512", 64u}}) {
    std::string text = fmt::format("version = \"0.1.0\"\nalgorithm = \"{}\"\n[data]\n", name);
    auto init = ParseInitData(text);
    ASSERT_OK(init);
    EXPECT_EQ(init->digest.size(), size);
    EXPECT_EQ(init->digest, crypto::Hash(init->algorithm, text));
    EXPECT_TRUE(init->claims.empty());
  }
}

TEST(InitDataTest, PolicyRegoWithoutPolicyDataStaysText) {
  auto init = ParseInitData(
      "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"policy.rego\" = \"package x\"\n");
  ASSERT_OK(init);
  EXPECT_EQ(init->claims.at("policy.rego"), json::value("package x"));
  EXPECT_FALSE(init->claims.contains("agent_policy_claims"));
}

TEST(InitDataTest, Errors) {
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"algorithm = \"sha256\"\n[data]\n", "init-data: missing `version`"},
      {"version = 1\nalgorithm = \"sha256\"\n[data]\n", "init-data: `version` must be a string"},
      {"version = \"0.1.0\"\n[data]\n", "init-data: missing `algorithm`"},
      {"version = \"0.1.0\"\nalgorithm = \"md5\"\n[data]\n",
       "init-data: unsupported algorithm `md5`"},
      {"version = \"0.1.0\"\nalgorithm = \"sha256\"\n", "init-data: missing `data`"},
      {"version = \"0.1.0\"\nalgorithm = \"sha256\"\ndata = 3\n",
       "init-data: `data` must be a table"},
      {"version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nx = 1\n",
       "init-data: `data.x` must be a string"},
  };
  for (const auto& c : cases) {
    auto init = ParseInitData(c.text);
    ASSERT_THAT(init, StatusIs(absl::StatusCode::kInvalidArgument, c.message)) << c.text;
  }
}

TEST(InitDataTest, SyntaxErrorNamesLineAndColumn) {
  auto init = ParseInitData("version = \"0.1.0\"\nalgorithm = = \"sha256\"\n");
  ASSERT_THAT(init, StatusIs(absl::StatusCode::kInvalidArgument,
                             AllOf(HasSubstr("init-data: "), HasSubstr("at line 2, column"))));
}

}  // namespace
}  // namespace ccburst::attestation
