// Resources (the KBS protocol's `repository/type/tag` secrets) and the plugin interface that
// stores them. A ResourceDescriptor is validated once, where a request path is parsed, and then
// travels as a value: no handler rejoins or re-splits it. ResourceBackend is what a storage
// plugin implements (the KeyValueStore backend here; a PKCS#11 or Vault backend would be another
// implementation); the KBS owns access control (tokens, resource policy) and never passes an
// unauthorized read to a backend.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

class ResourceDescriptor {
 public:
  // Each segment must match [A-Za-z0-9_-][A-Za-z0-9_.-]* (so no `..`, `/`, `%` or empty
  // segment). InvalidArgument naming the segment otherwise.
  static absl::StatusOr<ResourceDescriptor> Create(std::string_view repository,
                                                   std::string_view type, std::string_view tag);
  // Exactly three path segments: repository, type, tag.
  static absl::StatusOr<ResourceDescriptor> FromSegments(std::span<const std::string_view> path);

  const std::string& repository() const { return repository_; }
  const std::string& type() const { return type_; }
  const std::string& tag() const { return tag_; }
  // "repository/type/tag", for messages and logs.
  std::string ToString() const;

 private:
  ResourceDescriptor(std::string repository, std::string type, std::string tag)
      : repository_(std::move(repository)), type_(std::move(type)), tag_(std::move(tag)) {}
  std::string repository_;
  std::string type_;
  std::string tag_;
};

// A resource storage plugin. Implementations are thread-safe; every failure of the backend
// itself (a store that is down) is a non-OK status, which the KBS reports as StorageError.
class ResourceBackend {
 public:
  virtual ~ResourceBackend() = default;
  // The resource's bytes, nullopt when it does not exist.
  virtual absl::StatusOr<std::optional<std::string>> Read(const ResourceDescriptor& resource) = 0;
  // Creates or replaces the resource.
  virtual absl::Status Write(const ResourceDescriptor& resource, std::string_view value) = 0;
  // Deletes the resource; false when it did not exist.
  virtual absl::StatusOr<bool> Delete(const ResourceDescriptor& resource) = 0;
};

// Resources in `kv` (namespace `repository`, key `repository/type/tag`, the layout existing
// databases have). `kv` must outlive the backend.
std::unique_ptr<ResourceBackend> NewKeyValueResourceBackend(store::KeyValueStore& kv);

}  // namespace ccburst::kbs
