#include "kbs/resource_backend.h"

#include <fmt/format.h>

#include "kbs/storage.h"

namespace ccburst::kbs {
namespace {

constexpr std::string_view kRepositoryNamespace = kResourceNamespace;

bool ValidSegment(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (i > 0 && c == '.');
    if (!ok) return false;
  }
  return true;
}

class KeyValueResourceBackend final : public ResourceBackend {
 public:
  explicit KeyValueResourceBackend(store::KeyValueStore& kv) : kv_(kv) {}

  absl::StatusOr<std::optional<std::string>> Read(const ResourceDescriptor& r) override {
    return kv_.Get(kRepositoryNamespace, Key(r));
  }
  absl::Status Write(const ResourceDescriptor& r, std::string_view value) override {
    return kv_.Put(kRepositoryNamespace, Key(r), value);
  }
  absl::StatusOr<bool> Delete(const ResourceDescriptor& r) override {
    return kv_.Delete(kRepositoryNamespace, Key(r));
  }

 private:
  // The store's key; segments cannot contain `/`, so the join is unambiguous.
  static std::string Key(const ResourceDescriptor& r) { return r.ToString(); }
  store::KeyValueStore& kv_;
};

}  // namespace

absl::StatusOr<ResourceDescriptor> ResourceDescriptor::Create(std::string_view repository,
                                                              std::string_view type,
                                                              std::string_view tag) {
  for (auto [name, value] :
       {std::pair<std::string_view, std::string_view>{"repository", repository},
        {"type", type},
        {"tag", tag}}) {
    if (!ValidSegment(value)) {
      return absl::InvalidArgumentError(
          fmt::format("resource {} `{}` does not match [A-Za-z0-9_-][A-Za-z0-9_.-]*", name, value));
    }
  }
  return ResourceDescriptor(std::string(repository), std::string(type), std::string(tag));
}

absl::StatusOr<ResourceDescriptor> ResourceDescriptor::FromSegments(
    std::span<const std::string_view> path) {
  if (path.size() != 3) {
    return absl::InvalidArgumentError(
        fmt::format("resource path has {} segments, want 3 (repository/type/tag)", path.size()));
  }
  return Create(path[0], path[1], path[2]);
}

std::string ResourceDescriptor::ToString() const {
  return fmt::format("{}/{}/{}", repository_, type_, tag_);
}

std::unique_ptr<ResourceBackend> NewKeyValueResourceBackend(store::KeyValueStore& kv) {
  return std::make_unique<KeyValueResourceBackend>(kv);
}

}  // namespace ccburst::kbs
