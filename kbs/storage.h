// Opens the store a KBS configuration names ([storage_backend]): SQLite, PostgreSQL or memory,
// wrapped in encryption at rest when [storage_backend.encryption] gives a keyring. Shared by
// ccburst-kbs and the `ccburst kbs rotate-kek` command, so both see the same bytes the same way.
#pragma once

#include <memory>

#include "core/status.h"
#include "kbs/config.h"
#include "store/encrypted_store.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

// Where the resource policy is stored (key "resource-policy"), as Trustee.
inline constexpr std::string_view kResourcePolicyNamespace = "kbs";
// Where the resources are stored (key "<repository>/<type>/<tag>").
inline constexpr std::string_view kResourceNamespace = "repository";

// The keyring named by `storage`, or nullopt when encryption is not configured. A missing file or
// variable is NotFound naming it; a malformed keyring InvalidArgument (store::Keyring::Parse).
absl::StatusOr<std::optional<store::Keyring>> LoadKeyring(const KbsConfig::Storage& storage);

// The configured store, encrypted when a keyring is configured. Errors as the backend's
// (OpenSqliteStore, OpenPostgresStore) or LoadKeyring's.
absl::StatusOr<std::unique_ptr<store::KeyValueStore>> OpenStorage(
    const KbsConfig::Storage& storage);

}  // namespace ccburst::kbs
