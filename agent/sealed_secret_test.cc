#include "agent/sealed_secret.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"

namespace ccburst::agent {
namespace {

using core::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SealedSecretTest, RoundTrip) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, SealVaultSecret("kbs:///default/key/model"));
  EXPECT_EQ(sealed.substr(0, 7), "sealed.");
  ASSERT_OK_AND_ASSIGN(SealedSecret s, ParseSealedSecret(sealed + "\n"));
  EXPECT_EQ(s.version, "0.1.0");
  EXPECT_EQ(s.type, "vault");
  EXPECT_EQ(s.provider, "kbs");
  EXPECT_EQ(s.name, "kbs:///default/key/model");
}

TEST(SealedSecretTest, ReadsTheReferenceExample) {
  // guest-components confidential-data-hub/docs/SEALED_SECRET.md, dummy header and signature.
  std::string payload = core::Base64UrlEncode(
      R"({"version":"0.1.0","type":"vault","name":"kbs:///default/sealed-secret/test",)"
      R"("provider":"kbs","provider_settings":{},"annotations":{}})");
  ASSERT_OK_AND_ASSIGN(SealedSecret s,
                       ParseSealedSecret("sealed.fakejwsheader." + payload + ".fakesignature"));
  EXPECT_EQ(s.name, "kbs:///default/sealed-secret/test");
}

TEST(SealedSecretTest, RefusesMalformedText) {
  EXPECT_THAT(ParseSealedSecret("notsealed.a.b.c"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing `sealed.` prefix")));
  EXPECT_THAT(ParseSealedSecret("sealed.a.b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want 4")));
  EXPECT_THAT(ParseSealedSecret("sealed.a.!!.c"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not base64url")));
  std::string no_name =
      core::Base64UrlEncode(R"({"version":"0.1.0","type":"vault","provider":"kbs"})");
  EXPECT_THAT(ParseSealedSecret("sealed.h." + no_name + ".s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing `name`")));
  std::string v2 = core::Base64UrlEncode(R"({"version":"9","type":"vault","provider":"kbs"})");
  EXPECT_THAT(ParseSealedSecret("sealed.h." + v2 + ".s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsupported version")));
  EXPECT_THAT(ParseSealedSecret("sealed.h." + std::string(70000, 'A') + ".s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceed")));
  EXPECT_THAT(SealVaultSecret("kbs:///default/../model"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ccburst::agent
