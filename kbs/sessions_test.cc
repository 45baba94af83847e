#include "kbs/sessions.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;

TEST(SessionStore, LifecycleAndExpiry) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300));
  auto id = store.Create("sample", "nonce");
  ASSERT_OK(id);
  EXPECT_EQ(id->size(), 32u);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
  auto s = store.Get(*id);
  ASSERT_OK(s);
  EXPECT_EQ(s->state, Session::State::kAuthed);
  EXPECT_EQ(s->nonce, "nonce");
  EXPECT_TRUE(store.MarkAttested(*id, "token", "digest"));
  EXPECT_EQ(store.Get(*id)->state, Session::State::kAttested);
  EXPECT_EQ(store.Get(*id)->token, "token");
  EXPECT_THAT(store.Get("nope"), StatusIs(absl::StatusCode::kNotFound));

  clock.Advance(std::chrono::seconds(300));
  auto expired = store.Get(*id);
  EXPECT_THAT(expired, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(store.Get(*id), StatusIs(absl::StatusCode::kNotFound));  // removed on first sight
  EXPECT_FALSE(store.MarkAttested(*id, "t", "d"));
}

// Attested sessions keep tokens packed; Get must give back every token byte for byte, whatever
// its shape.
TEST(SessionStore, KeepsTokensExactly) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300));
  std::string header = core::Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})");
  std::string sig = core::Base64UrlEncode(std::string(64, '\x7f'));
  const std::string digest(32, '\xaa');
  const std::vector<std::string> tokens = {
      header + "." + core::Base64UrlEncode(R"({"iss":"a","n":1})") + "." + sig,
      header + "." + core::Base64UrlEncode(std::string(1000, 'p')) + "." + sig,
      header + ".." + sig,  // empty payload
      // Another header than the first token's: kept verbatim.
      core::Base64UrlEncode(R"({"alg":"EdDSA"})") + ".e30." + sig,
      // Base64url that does not re-encode to itself (non-zero trailing bits): kept verbatim.
      header + ".e31." + sig,
      header + ".e30",  // two parts
      "a.b.c.d",
      "not a jwt",
      "",
  };
  for (const std::string& token : tokens) {
    auto id = store.Create("sample", "nonce");
    ASSERT_OK(id);
    ASSERT_TRUE(store.MarkAttested(*id, token, digest));
    auto s = store.Get(*id);
    ASSERT_OK(s);
    EXPECT_EQ(s->state, Session::State::kAttested);
    EXPECT_EQ(s->token, token);
    EXPECT_EQ(s->attestation_digest, digest);
    EXPECT_EQ(s->tee, "sample");
    EXPECT_EQ(s->nonce, "");  // spent
  }
}

TEST(SessionStore, IdsAreExactLowercaseHex) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300));
  auto id = store.Create("sample", "nonce");
  ASSERT_OK(id);
  std::string upper = *id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& other : {upper, *id + "0", id->substr(1), std::string("")}) {
    if (other == *id) continue;
    EXPECT_THAT(store.Get(other), StatusIs(absl::StatusCode::kNotFound)) << other;
    EXPECT_FALSE(store.MarkAttested(other, "t", "d")) << other;
    store.Erase(other);
  }
  EXPECT_OK(store.Get(*id));
  store.Erase(*id);
  EXPECT_THAT(store.Get(*id), StatusIs(absl::StatusCode::kNotFound));
}

TEST(SessionStore, CapsSessionsAndSweepsExpiredOnes) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300), 16 * 4);
  std::set<std::string> ids;
  size_t refused = 0;
  for (int i = 0; i < 400; ++i) {
    auto id = store.Create("sample", "n");
    if (id.ok()) {
      ids.insert(*id);
    } else {
      EXPECT_THAT(id, StatusIs(absl::StatusCode::kResourceExhausted));
      ++refused;
    }
  }
  EXPECT_EQ(store.Size(), 64u);
  EXPECT_EQ(ids.size(), 64u);
  EXPECT_EQ(refused, 400u - 64u);
  // Once they expire, room is made again without an explicit Sweep().
  clock.Advance(std::chrono::seconds(301));
  EXPECT_OK(store.Create("sample", "n"));
  EXPECT_EQ(store.Sweep(), 1u);
}

}  // namespace
}  // namespace ccburst::kbs
