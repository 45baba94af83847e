#include "attestation/reference_values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::ElementsAre;

// 2024-02-29T12:00:00Z: a leap day, so that "12 months later" has to be clamped.
const core::TimePoint kLeapDay = core::FromUnixSeconds(1709208000);
// 2025-02-28T12:00:00Z.
const core::TimePoint kLeapDayPlusYear = core::FromUnixSeconds(1740744000);

std::string Message(std::string_view payload_json, std::string_view type = "sample",
                    std::string_view version = "0.1.0") {
  return core::Serialize(json::object{
      {"version", version}, {"type", type}, {"payload", core::Base64Encode(payload_json)}});
}

json::value Json(std::string_view text) {
  auto v = core::ParseJson(text);
  EXPECT_OK(v);
  return v.ok() ? *v : json::value();
}

class ReferenceValueStoreTest : public ::testing::Test {
 protected:
  std::optional<json::value> MustGet(std::string_view id) {
    auto v = rvs_.Get(id);
    EXPECT_OK(v);
    return v.ok() ? *v : std::nullopt;
  }
  std::vector<std::string> MustList() {
    auto v = rvs_.List();
    EXPECT_OK(v);
    return v.ok() ? *v : std::vector<std::string>{};
  }

  FakeClock clock_{kLeapDay};
  std::unique_ptr<store::KeyValueStore> kv_ = store::NewMemoryStore();
  ReferenceValueStore rvs_{*kv_, clock_};
};

TEST_F(ReferenceValueStoreTest, RegisterGetListDelete) {
  ASSERT_OK(
      rvs_.Register(Message(R"({"svn":["1","2"],"launch_digest":"abcde","major_version":1})")));
  EXPECT_EQ(MustGet("svn"), Json(R"(["1","2"])"));
  EXPECT_EQ(MustGet("launch_digest"), Json(R"("abcde")"));
  EXPECT_EQ(MustGet("major_version"), Json("1"));
  EXPECT_EQ(MustGet("unknown"), std::nullopt);
  EXPECT_THAT(MustList(), ElementsAre("launch_digest", "major_version", "svn"));

  auto deleted = rvs_.Delete("svn");
  ASSERT_OK(deleted);
  EXPECT_TRUE(*deleted);
  deleted = rvs_.Delete("svn");
  ASSERT_OK(deleted);
  EXPECT_FALSE(*deleted);
  EXPECT_EQ(MustGet("svn"), std::nullopt);
  EXPECT_THAT(MustList(), ElementsAre("launch_digest", "major_version"));
}

TEST_F(ReferenceValueStoreTest, ReRegisteringReplaces) {
  ASSERT_OK(rvs_.Register(Message(R"({"svn":["1"]})")));
  ASSERT_OK(rvs_.Register(Message(R"({"svn":["3","4"]})")));
  EXPECT_EQ(MustGet("svn"), Json(R"(["3","4"])"));
}

TEST_F(ReferenceValueStoreTest, VersionMayBeOmitted) {
  std::string body = core::Serialize(
      json::object{{"type", "sample"}, {"payload", core::Base64Encode(R"({"a":[true]})")}});
  ASSERT_OK(rvs_.Register(body));
  EXPECT_EQ(MustGet("a"), Json("[true]"));
}

TEST_F(ReferenceValueStoreTest, ExpireTwelveMonthsAfterRegistration) {
  ASSERT_OK(rvs_.Register(Message(R"({"svn":["1"]})")));
  clock_.Set(kLeapDayPlusYear);  // exactly the expiration: still valid
  EXPECT_EQ(MustGet("svn"), Json(R"(["1"])"));
  EXPECT_THAT(MustList(), ElementsAre("svn"));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(MustGet("svn"), std::nullopt);
  EXPECT_THAT(MustList(), ElementsAre());
  // Expired values are hidden, not deleted: an admin can still remove them.
  auto deleted = rvs_.Delete("svn");
  ASSERT_OK(deleted);
  EXPECT_TRUE(*deleted);
}

TEST_F(ReferenceValueStoreTest, ConfigurableValidityAndExplicitExpiration) {
  ReferenceValueStore short_lived(*kv_, clock_, std::chrono::months(1));
  ASSERT_OK(short_lived.Register(Message(R"({"a":["x"]})")));
  ASSERT_OK(rvs_.Put("b", Json(R"(["y"])"), kLeapDay + std::chrono::hours(1)));
  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(MustGet("b"), std::nullopt);
  EXPECT_EQ(MustGet("a"), Json(R"(["x"])"));
  clock_.Set(core::FromUnixSeconds(1711886400));  // 2024-03-31T12:00:00Z, past 2024-03-29
  EXPECT_EQ(MustGet("a"), std::nullopt);
}

TEST_F(ReferenceValueStoreTest, MalformedBodies) {
  struct Case {
    std::string body;
    std::string message;
  } cases[] = {
      {"{", "reference-value: json: "},
      {"[]", "reference-value: body is not a JSON object"},
      {Message("{}", "sample", "0.2.0"),
       "reference-value: unsupported version `0.2.0` (expected `0.1.0`)"},
      {R"({"version":1,"type":"sample","payload":""})",
       "reference-value: `version` must be a string"},
      {R"({"payload":""})", "reference-value: missing field `type`"},
      {R"({"type":7,"payload":""})", "reference-value: `type` must be a string"},
      {Message("{}", "corim"), "reference-value: unsupported type `corim`"},
      {R"({"type":"sample"})", "reference-value: missing field `payload`"},
      {R"({"type":"sample","payload":{}})", "reference-value: `payload` must be a string"},
      {R"({"type":"sample","payload":"***"})",
       "reference-value: `payload` is not standard base64: "},
      {Message("[1]"), "reference-value: `payload` is not a JSON object"},
      {Message("{nope"), "reference-value: `payload` is not JSON: "},
      {Message(R"({"":["x"]})"), "reference-value: `payload` has an empty reference value name"},
  };
  for (const auto& c : cases) {
    absl::Status s = rvs_.Register(c.body);
    ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.body;
    EXPECT_TRUE(core::Message(s).starts_with(c.message)) << core::Message(s);
  }
  EXPECT_THAT(MustList(), ElementsAre());
}

TEST_F(ReferenceValueStoreTest, CorruptRecordIsAnError) {
  ASSERT_OK(kv_->Put(kReferenceValueNamespace, "svn", "not json"));
  auto v = rvs_.Get("svn");
  ASSERT_THAT(v, StatusIs(_, "reference-value: stored record of `svn` is corrupt"));
}

TEST(ReferenceValueStoreDurabilityTest, SurvivesReopeningTheStore) {
  std::string dir = std::filesystem::temp_directory_path() / "ccb_rvs_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::string path = dir + "/kv.db";
  FakeClock clock(kLeapDay);
  {
    auto kv = store::OpenSqliteStore(path);
    ASSERT_OK(kv);
    ReferenceValueStore rvs(**kv, clock);
    ASSERT_OK(rvs.Register(Message(R"({"svn":["1"]})")));
  }
  auto kv = store::OpenSqliteStore(path);
  ASSERT_OK(kv);
  ReferenceValueStore rvs(**kv, clock);
  auto v = rvs.Get("svn");
  ASSERT_OK(v);
  EXPECT_EQ(*v, Json(R"(["1"])"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccburst::attestation
