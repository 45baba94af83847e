#include "kbs/resource_backend.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/testing/status_matchers.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::StatusIs;

TEST(ResourceDescriptorTest, ValidatesEachSegmentOnce) {
  auto r = ResourceDescriptor::Create("default", "key", "model.v1");
  ASSERT_OK(r);
  EXPECT_EQ(r->repository(), "default");
  EXPECT_EQ(r->type(), "key");
  EXPECT_EQ(r->tag(), "model.v1");
  EXPECT_EQ(r->ToString(), "default/key/model.v1");

  for (auto [repo, type, tag] :
       std::vector<std::tuple<std::string_view, std::string_view, std::string_view>>{
           {"", "k", "t"},
           {"..", "k", "t"},
           {"a", ".k", "t"},
           {"a", "k", "t/u"},
           {"a", "k", "%2e"},
           {"a b", "k", "t"}}) {
    auto bad = ResourceDescriptor::Create(repo, type, tag);
    EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument))
        << repo << "/" << type << "/" << tag;
  }
  EXPECT_EQ(core::Message(ResourceDescriptor::Create("a", "..", "t").status()),
            "resource type `..` does not match [A-Za-z0-9_-][A-Za-z0-9_.-]*");
  std::vector<std::string_view> two{"a", "b"};
  EXPECT_EQ(core::Message(ResourceDescriptor::FromSegments(two).status()),
            "resource path has 2 segments, want 3 (repository/type/tag)");
}

TEST(KeyValueResourceBackendTest, ReadWriteDeleteInTheRepositoryNamespace) {
  auto kv = store::NewMemoryStore();
  auto backend = NewKeyValueResourceBackend(*kv);
  auto r = *ResourceDescriptor::Create("default", "key", "k1");
  EXPECT_FALSE(backend->Read(r)->has_value());
  ASSERT_OK(backend->Write(r, "secret"));
  EXPECT_EQ(**backend->Read(r), "secret");
  // The layout existing databases have.
  EXPECT_EQ(**kv->Get("repository", "default/key/k1"), "secret");
  EXPECT_TRUE(*backend->Delete(r));
  EXPECT_FALSE(*backend->Delete(r));
  EXPECT_FALSE(backend->Read(r)->has_value());
}

}  // namespace
}  // namespace ccburst::kbs
