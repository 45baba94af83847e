#include "agent/encrypted_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::agent {
namespace {

using core::testing::StatusIs;

TEST(EncryptedFileTest, RoundTripAndTamper) {
  std::string key(32, 'k');
  std::string model = "weights " + std::string(100000, 'w');
  ASSERT_OK_AND_ASSIGN(std::string file, EncryptFile(key, model));
  EXPECT_EQ(file.size(), model.size() + 8 + 12 + 16);
  ASSERT_OK_AND_ASSIGN(std::string back, DecryptFile(key, file));
  EXPECT_EQ(back, model);

  std::string tampered = file;
  tampered[30] ^= 1;
  EXPECT_THAT(DecryptFile(key, tampered), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(DecryptFile(std::string(32, 'x'), file),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(DecryptFile(std::string(16, 'k'), file),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecryptFile(key, "plain text, not encrypted"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ccburst::agent
