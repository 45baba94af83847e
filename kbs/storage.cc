#include "kbs/storage.h"

#include <fmt/format.h>

#include <cstdlib>

#include "attestation/attestation_service.h"
#include "attestation/reference_values.h"
#include "core/file.h"

namespace ccburst::kbs {

absl::StatusOr<std::optional<store::Keyring>> LoadKeyring(const KbsConfig::Storage& storage) {
  if (storage.kek_file) {
    auto text = core::ReadFile(*storage.kek_file);
    if (!text.ok()) {
      return core::Annotate(core::WithCode(text.status(), absl::StatusCode::kNotFound),
                            "storage_backend.encryption.key_file");
    }
    return store::Keyring::Parse(*text, fmt::format("`{}`", *storage.kek_file));
  }
  if (storage.kek_env) {
    const char* text = std::getenv(storage.kek_env->c_str());
    if (text == nullptr || *text == '\0') {
      return absl::NotFoundError(
          fmt::format("storage_backend.encryption.key_env: environment variable `{}` is not set",
                      *storage.kek_env));
    }
    return store::Keyring::Parse(text, fmt::format("environment variable `{}`", *storage.kek_env));
  }
  return std::optional<store::Keyring>();
}

absl::StatusOr<std::unique_ptr<store::KeyValueStore>> OpenStorage(
    const KbsConfig::Storage& storage) {
  CCB_ASSIGN_OR_RETURN(std::optional<store::Keyring> keyring, LoadKeyring(storage));
  std::unique_ptr<store::KeyValueStore> kv;
  if (storage.type == "Memory") {
    kv = store::NewMemoryStore();
  } else if (storage.type == "Postgres") {
    // The configuration and resources that every /attest and resource request reads: cached per
    // replica (resources sealed, as stored), re-read when any replica (or anyone) has changed
    // them.
    store::PostgresOptions options = storage.postgres;
    options.cached_namespaces = {std::string(kResourcePolicyNamespace),
                                 std::string(kResourceNamespace),
                                 std::string(attestation::kAttestationPolicyNamespace),
                                 std::string(attestation::kReferenceValueNamespace)};
    CCB_ASSIGN_OR_RETURN(kv, store::OpenPostgresStore(options));
  } else {
    CCB_ASSIGN_OR_RETURN(
        kv, store::OpenSqliteStore(storage.sqlite_path,
                                   {.initialize_existing = storage.sqlite_initialize}));
  }
  if (!keyring) return kv;
  return std::unique_ptr<store::KeyValueStore>(
      std::make_unique<store::EncryptedStore>(std::move(kv), *std::move(keyring)));
}

}  // namespace ccburst::kbs
