#include "core/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
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

// Issue 16 item 4: a secret file is 0600 from its creation on, whatever the umask, replaces an
// existing (world-readable) file, and leaves no temporary file behind.
TEST(FileTest, SecretFilesAreNeverReadableByOthers) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("ccb_secret_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = dir + "/admin.key";
  ASSERT_OK(WriteFile(path, "old"));
  ::chmod(path.c_str(), 0644);
  mode_t old_umask = ::umask(0);  // the worst case: nothing masked
  absl::Status s = WriteSecretFile(path, "new secret");
  ::umask(old_umask);
  ASSERT_OK(s);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFile(path), "new secret");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  absl::Status bad = WriteSecretFile("/nonexistent-dir/k", "x");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_NE(bad.message().find("cannot write `/nonexistent-dir/k`"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccburst::core
