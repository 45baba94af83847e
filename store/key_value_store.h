// Durable key-value storage behind one small interface (Envoy's KeyValueStore idea): the KBS keeps
// resources, policies, reference values and sessions in named namespaces of a KeyValueStore. The
// embedded default is a single SQLite file; PostgreSQL is the store that several KBS replicas
// share; tests of other modules use the in-memory store. Keys and values are arbitrary bytes;
// listings are sorted bytewise by key. store_contract_test.cc is the contract every backend passes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
  static constexpr int64_t kKeepExpiry = -1;

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

  // Replaces the value of `key` with `desired` only while it is exactly `expected`, atomically for
  // every client of the store (for PostgreSQL: across processes). False when the key is absent or
  // holds something else. `expires_unix` as for PutExpiring, or kKeepExpiry to leave it as is.
  virtual absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                              std::string_view expected, std::string_view desired,
                                              int64_t expires_unix = 0) = 0;

  // A value and the version of the stored entry it was read from (opaque; for backends that store
  // the value as given, the value itself; for EncryptedStore, the sealed bytes).
  struct Versioned {
    std::string value;
    std::string version;
  };

  // Get, with the version to hand to CompareVersionAndSwap.
  virtual absl::StatusOr<std::optional<Versioned>> GetVersioned(std::string_view ns,
                                                                std::string_view key) {
    CCB_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(ns, key));
    if (!value) return std::nullopt;
    std::string version = *value;
    return Versioned{*std::move(value), std::move(version)};
  }

  // CompareAndSwap against a version from GetVersioned: one atomic step in the backend, with no
  // read of its own (CompareAndSwap on EncryptedStore first reads the sealed bytes to compare
  // plaintexts). False when the entry changed since (another writer, or a re-sealing by
  // EncryptedStore::Rotate with the same plaintext: read again to tell which) or is gone.
  virtual absl::StatusOr<bool> CompareVersionAndSwap(std::string_view ns, std::string_view key,
                                                     std::string_view version,
                                                     std::string_view desired,
                                                     int64_t expires_unix = 0) {
    return CompareAndSwap(ns, key, version, desired, expires_unix);
  }

  // Whether the backend answers now (a readiness probe); kUnavailable naming what failed.
  virtual absl::Status Ping() = 0;

  // Brackets a unit of work on the calling thread (a KBS request). A backend that caches reads
  // (PostgreSQL's cached_namespaces) serves a cached value inside a unit only after a statement
  // of that unit has confirmed that the store has not changed since the value was read, so every
  // write acknowledged (by any replica) before BeginUnit is seen; outside a unit every read goes
  // to the backend. Units do not nest. Default: nothing to do.
  virtual void BeginUnit() {}
  virtual void EndUnit() {}

  // Whether other processes read and write the same data (several KBS replicas on one store).
  virtual bool Shared() const { return false; }

  // Every namespace that holds at least one key, sorted (what a re-encryption walks).
  virtual absl::StatusOr<std::vector<std::string>> Namespaces() {
    return absl::UnimplementedError("store: this backend cannot list namespaces");
  }

  // Put with an expiry time (unix seconds; 0 = never) kept beside the value for DeleteExpired.
  // Get and List still return an expired entry until it is deleted: callers that care compare the
  // time themselves. An entry with an expiry is ephemeral: visible to every client when this
  // returns, but PostgreSQL may lose the last ones in a crash of the database (it does not wait
  // for their WAL flush); 0 is as durable as Put. Unimplemented on backends without expiry
  // (SQLite).
  virtual absl::Status PutExpiring(std::string_view ns, std::string_view key,
                                   std::string_view value, int64_t expires_unix) {
    return absl::UnimplementedError("store: this backend has no expiring entries");
  }

  // Inserts `key` with `value` and an expiry (as PutExpiring) only while `key` is absent, in one
  // atomic step for every client of the store (for PostgreSQL: across processes): of concurrent
  // inserts of one key exactly one returns true. When the key is present, false, and `existing`
  // (when given) receives its value, or nullopt when the entry that won was committed by another
  // client during this call and is not readable yet. What a single-use claim (a spent nonce)
  // needs; as durable as Put. Unimplemented on backends without expiry (SQLite).
  virtual absl::StatusOr<bool> InsertExpiring(std::string_view ns, std::string_view key,
                                              std::string_view value, int64_t expires_unix,
                                              std::optional<std::string>* existing = nullptr) {
    return absl::UnimplementedError("store: this backend has no expiring entries");
  }

  // Deletes at most `limit` entries of `ns` whose expiry is set and at or before `now_unix`;
  // returns how many. Concurrent callers delete disjoint entries and never wait for each other.
  virtual absl::StatusOr<size_t> DeleteExpired(std::string_view ns, int64_t now_unix,
                                               size_t limit) {
    return absl::UnimplementedError("store: this backend has no expiring entries");
  }

  // An entry of an append-only log: its position (1, 2, 3, ... in the order the store appended
  // them) and its bytes.
  struct LogEntry {
    int64_t seq = 0;
    std::string value;
  };
  // Given the log's last entry (nullopt while it is empty), the values to append after it.
  using LogBuilder =
      std::function<absl::StatusOr<std::vector<std::string>>(const std::optional<LogEntry>& last)>;
  // How durable an append is when AppendLog returns.
  enum class LogDurability {
    // On disk: survives a power loss (SQLite synchronous=FULL; PostgreSQL's synchronous commit).
    kFlushed,
    // Committed, so it survives a crash of the KBS (and of PostgreSQL's processes), and on disk
    // soon after: SQLite once SyncLog() runs (or its WAL checkpoints), PostgreSQL within three
    // times its wal_writer_delay (synchronous_commit = off for the append). A power loss or OS
    // crash in that window can lose the append, never corrupt the log.
    kCommitted,
  };

  // Appends to the append-only log `log` (the audit trail): calls `build` with the log's last
  // entry and appends what it returns as the next entries, atomically with respect to that last
  // entry for every client of the store (for PostgreSQL: every replica), so values that depend on
  // their predecessor (a hash chain) form one chain. `build` may be called more than once when
  // another client appended first; its error aborts the append unchanged. Entries are never
  // updated or deleted. Backend failures are kUnavailable.
  virtual absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                                 LogDurability durability) {
    return absl::UnimplementedError("store: this backend has no append-only log");
  }
  // Puts every kCommitted append on disk now (SQLite: a passive WAL checkpoint on a connection of
  // its own, which flushes the WAL first). A no-op where the backend flushes by itself.
  virtual absl::Status SyncLog() { return absl::OkStatus(); }

  // Entries of `log` with seq > `after_seq`, in seq order, at most `limit`.
  virtual absl::StatusOr<std::vector<LogEntry>> ReadLog(std::string_view log, int64_t after_seq,
                                                        size_t limit) {
    return absl::UnimplementedError("store: this backend has no append-only log");
  }
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

// [storage_backend.backends.postgres]: the reference KBS's keys (db, username, password, host,
// port) and ours for the pool, the timeouts and TLS.
struct PostgresOptions {
  std::string db = "postgres";
  std::string username = "postgres";
  std::optional<std::string> password;
  std::string host = "localhost";
  uint16_t port = 5432;
  // A libpq connection URI that replaces the fields above (the reference's POSTGRES_URL).
  std::optional<std::string> url;
  size_t pool_size = 8;
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::seconds connect_timeout{3};
  // How long a request waits for a free pooled connection before failing kUnavailable.
  std::chrono::milliseconds pool_wait{5000};
  std::string sslmode = "prefer";  // libpq's: disable, prefer, require, verify-ca, verify-full
  std::optional<std::string> sslrootcert;  // CA file for verify-ca / verify-full
  // Namespaces whose reads are cached in process (see KeyValueStore::BeginUnit): configuration
  // that every request reads and that rarely changes. Their entries must not expire.
  std::vector<std::string> cached_namespaces;
  // How long a unit may wait to share another request's confirmation of the cache (a statement
  // sent after the unit began) instead of sending its own; it waits only while such statements
  // are being sent more often than this. 0: never wait (share only what has already completed).
  std::chrono::microseconds confirm_share_wait{2000};
};

// Connects to PostgreSQL and brings the schema to the current version (versioned migrations run
// under an advisory lock, so replicas that start at once apply each one exactly once). The pool
// opens connections lazily up to `pool_size` and replaces broken ones, so the store recovers on
// its own after a database restart; an operation on a broken connection is retried once on a
// fresh one. Every failure is kUnavailable "store: postgres ...: <libpq message>".
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenPostgresStore(const PostgresOptions& options);

// A process-local store for tests; never fails.
std::unique_ptr<KeyValueStore> NewMemoryStore();

}  // namespace ccburst::store
