// Durable key-value storage behind one small interface (Envoy's KeyValueStore idea): the KBS keeps
// resources, policies, reference values and sessions in named namespaces of a KeyValueStore. The
// embedded default is a single SQLite file; tests of other modules use the in-memory store. Keys
// and values are arbitrary bytes; listings are sorted bytewise by key.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ccburst::store {

// A namespaced byte-string map. Implementations are thread-safe. Backend failures are
// kUnavailable and name the backend and what failed.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;

  // Inserts or replaces `key` in namespace `ns`; durable when it returns OK.
  virtual absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) = 0;

  // The value of `key` in `ns`, or nullopt when absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                         std::string_view key) = 0;

  // Removes `key` from `ns`; false when it was absent.
  virtual absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) = 0;

  // Every (key, value) in `ns` whose key starts with `key_prefix` (byte-exact, no wildcards),
  // sorted bytewise by key.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view key_prefix = "") = 0;
};

struct SqliteOptions {
  // Whether an existing file without our schema (a zero-byte file, another program's database)
  // may be initialised as a new, empty store. Off by default: such a file is an error, so that a
  // truncated or misplaced database never silently becomes a KBS with no secrets.
  bool initialize_existing = false;
};

// Opens the SQLite database at `path` with a WAL journal, synchronous=FULL (each Put/Delete is
// durable when it returns) and a busy timeout. A missing file is created, mode 0600 from the
// start (SQLite gives the WAL and SHM files the database file's mode), with the schema; an
// existing file's mode is tightened to 0600. An existing file without the schema is
// FailedPrecondition "... has no ccburst schema ..." unless `options.initialize_existing`. Other
// errors are kUnavailable naming the path and SQLite's message.
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenSqliteStore(const std::string& path,
                                                               SqliteOptions options = {});

// A process-local store for tests; never fails.
std::unique_ptr<KeyValueStore> NewMemoryStore();

}  // namespace ccburst::store
