#include "store/encrypted_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/random.h"

namespace ccburst::store {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

std::string KeyLine(std::string_view id) {
  return std::string(id) + " " + core::Base64Encode(crypto::RandomBytes(32)) + "\n";
}

Keyring Ring(const std::string& text) {
  auto ring = Keyring::Parse(text, "test");
  EXPECT_OK(ring);
  return *std::move(ring);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(KeyringTest, ParsesCurrentFirstAndRejectsMalformedLines) {
  std::string k1 = KeyLine("2026-12"), k0 = KeyLine("2026-01");
  Keyring ring = Ring("# kbs key-encryption keys\n\n" + k1 + k0);
  EXPECT_EQ(ring.current().id, "2026-12");
  ASSERT_NE(ring.Find("2026-01"), nullptr);
  EXPECT_EQ(ring.Find("2026-01")->bytes.size(), 32u);
  EXPECT_EQ(ring.Find("nope"), nullptr);

  EXPECT_THAT(Keyring::Parse("", "KBS_KEK"),
              StatusIs(absl::StatusCode::kInvalidArgument, "kek: KBS_KEK holds no key"));
  EXPECT_THAT(Keyring::Parse("k1 c2hvcnQ=\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "kek: f line 1: key `k1` must be the base64 of 32 bytes"));
  EXPECT_THAT(Keyring::Parse("bad/id " + core::Base64Encode(std::string(32, 'x')), "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1: key id")));
  EXPECT_THAT(Keyring::Parse(k1 + k1, "f"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                     "kek: f line 2: duplicate key id `2026-12`"));
  EXPECT_THAT(Keyring::Parse("lonely\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f line 1: expected")));
}

// A stolen database file (and its WAL) holds no secret byte sequence, only envelopes.
TEST(EncryptedStoreTest, SqliteFileAndWalHoldNoPlaintext) {
  std::string dir = (fs::temp_directory_path() / "ccb_enc_XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::string path = dir + "/kbs.db";
  const std::string secret = "TOP-SECRET-disk-key-0123456789abcdef";
  {
    auto inner = OpenSqliteStore(path);
    ASSERT_OK(inner);
    EncryptedStore s(std::move(*inner), Ring(KeyLine("k1")));
    ASSERT_OK(s.Put("repository", "default/key/disk", secret));
    auto v = s.Get("repository", "default/key/disk");
    ASSERT_OK(v);
    EXPECT_EQ(**v, secret);
    // Checked while the WAL still holds the write (before the close checkpoints it).
    std::string wal = ReadAll(path + "-wal");
    EXPECT_FALSE(wal.empty());
    EXPECT_EQ(wal.find(secret), std::string::npos);
    EXPECT_EQ(wal.find("TOP-SECRET"), std::string::npos);
  }
  std::string db = ReadAll(path);
  EXPECT_NE(db.find("default/key/disk"), std::string::npos);  // keys stay in the clear
  EXPECT_EQ(db.find("TOP-SECRET"), std::string::npos);
  fs::remove_all(dir);
}

TEST(EncryptedStoreTest, ValueIsBoundToItsNamespaceAndKey) {
  auto mem = NewMemoryStore();
  KeyValueStore* raw = mem.get();
  EncryptedStore s(std::move(mem), Ring(KeyLine("k1")));
  ASSERT_OK(s.Put("repository", "a/b/c", "secret-a"));
  auto sealed = raw->Get("repository", "a/b/c");
  ASSERT_OK(sealed);
  ASSERT_TRUE(sealed->has_value());
  EXPECT_EQ((*sealed)->find("secret-a"), std::string::npos);
  // The attacker copies A's sealed bytes over B: B does not open.
  ASSERT_OK(raw->Put("repository", "a/b/d", **sealed));
  EXPECT_THAT(s.Get("repository", "a/b/d"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("`a/b/d` in `repository` cannot be decrypted"),
                             HasSubstr("authentication failed under key id `k1`"))));
  // One flipped byte.
  std::string tampered = **sealed;
  tampered.back() ^= 1;
  ASSERT_OK(raw->Put("repository", "a/b/c", tampered));
  EXPECT_THAT(s.Get("repository", "a/b/c"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(EncryptedStoreTest, RotationKeepsOldValuesReadableThenMovesThem) {
  std::string old_key = KeyLine("old"), new_key = KeyLine("new");
  auto mem = NewMemoryStore();
  KeyValueStore* raw = mem.get();
  ASSERT_OK(raw->Put("kbs", "legacy", "written before encryption"));
  ASSERT_OK(raw->PutExpiring("sessions", "s1", "session", 4000));
  {
    EncryptedStore before(NewMemoryStore(), Ring(old_key));  // only to seal with `old`
    ASSERT_OK(raw->Put("repository", "r/t/1", before.Seal("repository", "r/t/1", "one")));
    ASSERT_OK(raw->Put("repository", "r/t/2", before.Seal("repository", "r/t/2", "two")));
  }
  EncryptedStore s(std::move(mem), Ring(new_key + old_key));
  auto one = s.Get("repository", "r/t/1");
  ASSERT_OK(one);
  EXPECT_EQ(**one, "one");
  auto legacy = s.Get("kbs", "legacy");
  ASSERT_OK(legacy);
  EXPECT_EQ(**legacy, "written before encryption");
  ASSERT_OK(s.Put("repository", "r/t/3", "three"));  // new writes use the current key

  auto rotated = s.Rotate();
  ASSERT_OK(rotated);
  EXPECT_EQ(rotated->resealed, 4u);  // two under `old`, the legacy value, the session
  EXPECT_EQ(rotated->current, 1u);
  auto again = s.Rotate();
  ASSERT_OK(again);
  EXPECT_EQ(again->resealed, 0u);
  EXPECT_EQ(again->current, 5u);
  auto legacy_raw = raw->Get("kbs", "legacy");
  ASSERT_OK(legacy_raw);
  EXPECT_EQ((*legacy_raw)->find("written"), std::string::npos);
  // The session kept its expiry through the re-seal.
  auto swept = raw->DeleteExpired("sessions", 5000, 10);
  ASSERT_OK(swept);
  EXPECT_EQ(*swept, 1u);

  // The old key can now be dropped from the keyring.
  std::vector<std::pair<std::string, std::string>> all;
  {
    auto listed = s.List("repository", "r/t/");
    ASSERT_OK(listed);
    all = *listed;
  }
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].second, "two");
}

TEST(EncryptedStoreTest, UnknownKeyIdIsDataLossNamingTheId) {
  auto mem = NewMemoryStore();
  KeyValueStore* raw = mem.get();
  EncryptedStore old_only(NewMemoryStore(), Ring(KeyLine("retired")));
  ASSERT_OK(raw->Put("repository", "x/y/z", old_only.Seal("repository", "x/y/z", "v")));
  EncryptedStore s(std::move(mem), Ring(KeyLine("current")));
  EXPECT_THAT(s.Get("repository", "x/y/z"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("key id `retired` is not in the key-encryption keyring")));
}

TEST(EncryptedStoreTest, CompareAndSwapComparesPlaintexts) {
  EncryptedStore s(NewMemoryStore(), Ring(KeyLine("k")));
  ASSERT_OK(s.Put("sessions", "id", "authed"));
  auto lost = s.CompareAndSwap("sessions", "id", "attested", "x", 0);
  ASSERT_OK(lost);
  EXPECT_FALSE(*lost);
  auto won = s.CompareAndSwap("sessions", "id", "authed", "attested", 0);
  ASSERT_OK(won);
  EXPECT_TRUE(*won);
  auto v = s.Get("sessions", "id");
  ASSERT_OK(v);
  EXPECT_EQ(**v, "attested");
}

// The version of an encrypted value is its sealed bytes: a re-sealing by Rotate (same plaintext)
// makes a swap from the old version fail, and reading again gives a version that works.
TEST(EncryptedStoreTest, CompareVersionAndSwapFailsAfterResealing) {
  auto inner = NewMemoryStore();
  KeyValueStore* raw = inner.get();
  std::string old_key = KeyLine("old");
  EncryptedStore s(std::move(inner), Ring(KeyLine("new") + old_key));
  EncryptedStore old(NewMemoryStore(), Ring(old_key));  // only to seal with `old`
  ASSERT_OK(raw->Put("sessions", "id", old.Seal("sessions", "id", "authed")));
  auto read = s.GetVersioned("sessions", "id");
  ASSERT_OK(read);
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->value, "authed");
  ASSERT_OK(s.Rotate());
  auto stale = s.CompareVersionAndSwap("sessions", "id", (*read)->version, "attested", 0);
  ASSERT_OK(stale);
  EXPECT_FALSE(*stale);
  auto again = s.GetVersioned("sessions", "id");
  ASSERT_OK(again);
  EXPECT_EQ((*again)->value, "authed");
  auto won = s.CompareVersionAndSwap("sessions", "id", (*again)->version, "attested", 0);
  ASSERT_OK(won);
  EXPECT_TRUE(*won);
  auto v = s.Get("sessions", "id");
  ASSERT_OK(v);
  EXPECT_EQ(**v, "attested");
}

}  // namespace
}  // namespace ccburst::store
