#include "kbs/sessions.h"

#include <set>

#include <gtest/gtest.h>

namespace ccburst::kbs {
namespace {

class FakeClock : public core::Clock {
 public:
  core::TimePoint Now() const override { return now; }
  core::TimePoint now = core::FromUnixSeconds(1'800'000'000);
};

TEST(SessionStore, LifecycleAndExpiry) {
  FakeClock clock;
  SessionStore store(clock, std::chrono::seconds(300));
  auto id = store.Create("sample", "nonce");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), 32u);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
  auto s = store.Get(*id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, Session::State::kAuthed);
  EXPECT_EQ(s->nonce, "nonce");
  EXPECT_TRUE(store.MarkAttested(*id, "token", "digest"));
  EXPECT_EQ(store.Get(*id)->state, Session::State::kAttested);
  EXPECT_EQ(store.Get(*id)->token, "token");
  EXPECT_TRUE(absl::IsNotFound(store.Get("nope").status()));

  clock.now += std::chrono::seconds(300);
  auto expired = store.Get(*id);
  EXPECT_TRUE(absl::IsPermissionDenied(expired.status()));
  EXPECT_TRUE(absl::IsNotFound(store.Get(*id).status()));  // removed on first sight
  EXPECT_FALSE(store.MarkAttested(*id, "t", "d"));
}

TEST(SessionStore, CapsSessionsAndSweepsExpiredOnes) {
  FakeClock clock;
  SessionStore store(clock, std::chrono::seconds(300), 16 * 4);
  std::set<std::string> ids;
  size_t refused = 0;
  for (int i = 0; i < 400; ++i) {
    auto id = store.Create("sample", "n");
    if (id.ok()) {
      ids.insert(*id);
    } else {
      EXPECT_TRUE(absl::IsResourceExhausted(id.status()));
      ++refused;
    }
  }
  EXPECT_EQ(store.Size(), 64u);
  EXPECT_EQ(ids.size(), 64u);
  EXPECT_EQ(refused, 400u - 64u);
  // Once they expire, room is made again without an explicit Sweep().
  clock.now += std::chrono::seconds(301);
  EXPECT_TRUE(store.Create("sample", "n").ok());
  EXPECT_EQ(store.Sweep(), 1u);
}

}  // namespace
}  // namespace ccburst::kbs
