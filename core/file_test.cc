#include "core/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/testing/status_matchers.h"

namespace ccburst::core {
namespace {

using ::ccburst::core::testing::StatusIs;

TEST(FileTest, WriteThenReadReturnsTheSameBytes) {
  std::string path =
      std::filesystem::temp_directory_path() / ("ccb_file_test_" + std::to_string(::getpid()));
  std::string data("a\0b\nc", 5);
  ASSERT_OK(WriteFile(path, data));
  auto read = ReadFile(path);
  ASSERT_OK(read);
  EXPECT_EQ(*read, data);
  ASSERT_OK(WriteFile(path, "x"));  // replaces, does not append
  EXPECT_EQ(*ReadFile(path), "x");
  std::filesystem::remove(path);
}

TEST(FileTest, ErrorsNameThePath) {
  auto read = ReadFile("/nonexistent-dir/f");
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_NE(read.status().message().find("`/nonexistent-dir/f`"), std::string::npos);
  absl::Status write = WriteFile("/nonexistent-dir/f", "x");
  EXPECT_THAT(write, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_NE(write.message().find("cannot write `/nonexistent-dir/f`"), std::string::npos);
}

}  // namespace
}  // namespace ccburst::core
