#include "core/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace ccburst::core {
namespace {

TEST(FileTest, WriteThenReadReturnsTheSameBytes) {
  std::string path =
      std::filesystem::temp_directory_path() / ("ccb_file_test_" + std::to_string(::getpid()));
  std::string data("a\0b\nc", 5);
  ASSERT_TRUE(WriteFile(path, data).ok());
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, data);
  ASSERT_TRUE(WriteFile(path, "x").ok());  // replaces, does not append
  EXPECT_EQ(*ReadFile(path), "x");
  std::filesystem::remove(path);
}

TEST(FileTest, ErrorsNameThePath) {
  auto read = ReadFile("/nonexistent-dir/f");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("`/nonexistent-dir/f`"), std::string::npos);
  absl::Status write = WriteFile("/nonexistent-dir/f", "x");
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(write.message().find("cannot write `/nonexistent-dir/f`"), std::string::npos);
}

}  // namespace
}  // namespace ccburst::core
