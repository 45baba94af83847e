#include "agent/init_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace ccburst::agent {
namespace {

using core::testing::StatusIs;
using ::testing::HasSubstr;

constexpr std::string_view kInitData = R"(version = "0.1.0"
algorithm = "sha384"
[data]
"aa.toml" = '''
[token_configs.kbs]
url = "http://aa.example:8080"
'''
"cdh.toml" = '''
[kbc]
name = "cc_kbc"
url = "https://kbs.example:8080"
kbs_cert = """
-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----
"""
'''
"policy.rego" = '''
package agent_policy
default AllowRequestsFailingPolicy := true
'''
)";

TEST(InitDataTest, ReadsKbsSettingsFromCdhToml) {
  ASSERT_OK_AND_ASSIGN(InitData d, ParseInitData(kInitData));
  EXPECT_EQ(d.algorithm, crypto::HashAlg::kSha384);
  EXPECT_EQ(d.digest, crypto::Sha384(kInitData));
  EXPECT_EQ(d.toml, kInitData);
  EXPECT_EQ(d.kbs_url, "https://kbs.example:8080");
  ASSERT_TRUE(d.kbs_cert.has_value());
  EXPECT_THAT(*d.kbs_cert, HasSubstr("BEGIN CERTIFICATE"));
}

TEST(InitDataTest, FallsBackToAaTokenConfig) {
  std::string text = R"(version = "0.1.0"
algorithm = "sha256"
[data]
"aa.toml" = '''
[token_configs.kbs]
url = "http://aa.example:8080"
cert = "PEM"
'''
)";
  ASSERT_OK_AND_ASSIGN(InitData d, ParseInitData(text));
  EXPECT_EQ(d.digest, crypto::Sha256(text));
  EXPECT_EQ(d.kbs_url, "http://aa.example:8080");
  EXPECT_EQ(d.kbs_cert, "PEM");
}

TEST(InitDataTest, NoKbsSettingsIsFine) {
  ASSERT_OK_AND_ASSIGN(InitData d,
                       ParseInitData("version = \"0.1.0\"\nalgorithm = \"sha512\"\n[data]\n"));
  EXPECT_EQ(d.digest.size(), 64u);
  EXPECT_FALSE(d.kbs_url.has_value());
}

TEST(InitDataTest, RefusesBadDocuments) {
  EXPECT_THAT(ParseInitData("version = \"0.1.0\"\nalgorithm = \"md5\"\n[data]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsupported algorithm")));
  EXPECT_THAT(ParseInitData("algorithm = \"sha384\"\n[data]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing `version`")));
  EXPECT_THAT(ParseInitData("not toml ["), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseInitData("version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n"
                            "\"cdh.toml\" = '''\n[kbc]\nurl = 5\n'''\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kbc.url must be a string")));
}

}  // namespace
}  // namespace ccburst::agent
