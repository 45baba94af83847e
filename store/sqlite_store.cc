// The embedded default KeyValueStore: one SQLite file, one table keyed by (ns, key). Namespaces,
// keys and values are stored as BLOBs so that comparisons are bytewise (memcmp) and prefix scans
// are plain range scans on the primary key — no LIKE, so '%' and '_' in keys are ordinary bytes.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#include "store/key_value_store.h"

namespace ccburst::store {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

constexpr int kBusyTimeoutMs = 5000;

// The smallest byte string greater than every string that starts with `prefix`, or nullopt when
// there is none (empty prefix or all bytes 0xff).
std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

std::string_view ColumnBytes(sqlite3_stmt* stmt, int col) {
  const void* p = sqlite3_column_blob(stmt, col);
  int n = sqlite3_column_bytes(stmt, col);
  if (p == nullptr || n <= 0) return {};
  return std::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
}

absl::Status Exec(sqlite3* db, const std::string& path, const char* sql,
                  std::string* first_value = nullptr);

class SqliteStore final : public KeyValueStore {
 public:
  // `log_db` is a second connection to the same file for the append-only log, so that an append
  // waiting for its WAL flush never holds up the reads of requests (WAL readers do not wait for
  // the writer). `sync_db` is a third one for SyncLog's checkpoints, which run beside appends and
  // reads (a passive WAL checkpoint waits for neither).
  SqliteStore(std::string path, DbPtr db, DbPtr log_db, DbPtr sync_db)
      : path_(std::move(path)),
        db_(std::move(db)),
        log_db_(std::move(log_db)),
        sync_db_(std::move(sync_db)) {}

  absl::Status Prepare() {
    CCB_RETURN_IF_ERROR(
        PrepareOne("INSERT INTO kv(ns, key, value) VALUES(?1, ?2, ?3) "
                   "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
                   put_));
    CCB_RETURN_IF_ERROR(PrepareOne("SELECT value FROM kv WHERE ns = ?1 AND key = ?2", get_));
    CCB_RETURN_IF_ERROR(PrepareOne("DELETE FROM kv WHERE ns = ?1 AND key = ?2", delete_));
    CCB_RETURN_IF_ERROR(
        PrepareOne("UPDATE kv SET value = ?4 WHERE ns = ?1 AND key = ?2 AND value = ?3", cas_));
    CCB_RETURN_IF_ERROR(PrepareOne("SELECT 1", ping_));
    CCB_RETURN_IF_ERROR(PrepareOne("SELECT DISTINCT ns FROM kv ORDER BY ns", namespaces_));
    CCB_RETURN_IF_ERROR(PrepareOne(
        "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 ORDER BY key", list_open_));
    CCB_RETURN_IF_ERROR(PrepareOne(
        "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 AND key < ?3 ORDER BY key",
        list_range_));
    CCB_RETURN_IF_ERROR(
        PrepareOne("SELECT seq, value FROM audit_log WHERE log = ?1 ORDER BY seq DESC LIMIT 1",
                   log_last_, log_db_.get()));
    CCB_RETURN_IF_ERROR(PrepareOne("INSERT INTO audit_log(log, seq, value) VALUES(?1, ?2, ?3)",
                                   log_insert_, log_db_.get()));
    // Prepared once: an append is a transaction of its own, several per second under load.
    CCB_RETURN_IF_ERROR(PrepareOne("BEGIN IMMEDIATE", log_begin_, log_db_.get()));
    CCB_RETURN_IF_ERROR(PrepareOne("COMMIT", log_commit_, log_db_.get()));
    CCB_RETURN_IF_ERROR(PrepareOne(
        "SELECT seq, value FROM audit_log WHERE log = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        log_read_, log_db_.get()));
    return absl::OkStatus();
  }

  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    Statement st(put_.get());
    CCB_RETURN_IF_ERROR(Bind(st.get(), {ns, key, value}, "put"));
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) return Error("put", rc);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    std::lock_guard lock(mu_);
    Statement st(get_.get());
    CCB_RETURN_IF_ERROR(Bind(st.get(), {ns, key}, "get"));
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return Error("get", rc);
    return std::optional<std::string>(std::string(ColumnBytes(st.get(), 0)));
  }

  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mu_);
    Statement st(delete_.get());
    CCB_RETURN_IF_ERROR(Bind(st.get(), {ns, key}, "delete"));
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) return Error("delete", rc);
    return sqlite3_changes(db_.get()) > 0;
  }

  // SQLite has no expiring entries: `expires_unix` is not kept (sessions stay in memory).
  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    std::lock_guard lock(mu_);
    Statement st(cas_.get());
    CCB_RETURN_IF_ERROR(Bind(st.get(), {ns, key, expected, desired}, "compare-and-swap"));
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) return Error("compare-and-swap", rc);
    return sqlite3_changes(db_.get()) > 0;
  }

  // One IMMEDIATE transaction (the database's write lock, so another process on the same file
  // waits) reads the last entry and inserts the new ones.
  // kCommitted appends run with synchronous=NORMAL on the log's connection: in WAL mode the
  // commit is in the WAL (in the OS's cache) without an fsync, which SyncLog or the next
  // checkpoint does.
  absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                         LogDurability durability) override {
    std::lock_guard lock(log_mu_);
    if (durability != log_durability_) {
      CCB_RETURN_IF_ERROR(Exec(log_db_.get(), path_,
                               durability == LogDurability::kFlushed
                                   ? "PRAGMA synchronous=FULL"
                                   : "PRAGMA synchronous=NORMAL"));
      log_durability_ = durability;
    }
    {
      Statement st(log_begin_.get());
      if (int rc = sqlite3_step(st.get()); rc != SQLITE_DONE) {
        return Error("append-log", rc, log_db_.get());
      }
    }
    absl::Status status = [&]() -> absl::Status {
      std::optional<LogEntry> last;
      {
        Statement st(log_last_.get());
        CCB_RETURN_IF_ERROR(Bind(st.get(), {log}, "append-log"));
        int rc = sqlite3_step(st.get());
        if (rc == SQLITE_ROW) {
          last = LogEntry{sqlite3_column_int64(st.get(), 0), std::string(ColumnBytes(st.get(), 1))};
        } else if (rc != SQLITE_DONE) {
          return Error("append-log", rc, log_db_.get());
        }
      }
      CCB_ASSIGN_OR_RETURN(std::vector<std::string> values, build(last));
      int64_t seq = last ? last->seq : 0;
      for (const std::string& v : values) {
        Statement st(log_insert_.get());
        CCB_RETURN_IF_ERROR(Bind(st.get(), {log}, "append-log"));
        sqlite3_bind_int64(st.get(), 2, ++seq);
        sqlite3_bind_blob64(st.get(), 3, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC);
        int rc = sqlite3_step(st.get());
        if (rc != SQLITE_DONE) return Error("append-log", rc, log_db_.get());
      }
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      Exec(log_db_.get(), path_, "ROLLBACK").IgnoreError();
      return status;
    }
    Statement st(log_commit_.get());
    if (int rc = sqlite3_step(st.get()); rc != SQLITE_DONE) {
      Exec(log_db_.get(), path_, "ROLLBACK").IgnoreError();
      return Error("append-log", rc, log_db_.get());
    }
    return absl::OkStatus();
  }

  absl::Status SyncLog() override {
    std::lock_guard lock(sync_mu_);
    return Exec(sync_db_.get(), path_, "PRAGMA wal_checkpoint(PASSIVE)");
  }

  absl::StatusOr<std::vector<LogEntry>> ReadLog(std::string_view log, int64_t after_seq,
                                                size_t limit) override {
    std::lock_guard lock(log_mu_);
    Statement st(log_read_.get());
    CCB_RETURN_IF_ERROR(Bind(st.get(), {log}, "read-log"));
    sqlite3_bind_int64(st.get(), 2, after_seq);
    sqlite3_bind_int64(st.get(), 3, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::vector<LogEntry> out;
    for (;;) {
      int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error("read-log", rc, log_db_.get());
      out.push_back(
          LogEntry{sqlite3_column_int64(st.get(), 0), std::string(ColumnBytes(st.get(), 1))});
    }
    return out;
  }

  absl::Status Ping() override {
    std::lock_guard lock(mu_);
    Statement st(ping_.get());
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_ROW) return Error("ping", rc);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Namespaces() override {
    std::lock_guard lock(mu_);
    Statement st(namespaces_.get());
    std::vector<std::string> out;
    for (;;) {
      int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error("namespaces", rc);
      out.emplace_back(ColumnBytes(st.get(), 0));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view key_prefix) override {
    std::lock_guard lock(mu_);
    std::optional<std::string> upper = PrefixSuccessor(key_prefix);
    Statement st(upper ? list_range_.get() : list_open_.get());
    if (upper) {
      CCB_RETURN_IF_ERROR(Bind(st.get(), {ns, key_prefix, *upper}, "list"));
    } else {
      CCB_RETURN_IF_ERROR(Bind(st.get(), {ns, key_prefix}, "list"));
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error("list", rc);
      out.emplace_back(std::string(ColumnBytes(st.get(), 0)),
                       std::string(ColumnBytes(st.get(), 1)));
    }
    return out;
  }

 private:
  // Resets a cached statement and clears its bindings when the operation ends.
  class Statement {
   public:
    explicit Statement(sqlite3_stmt* s) : s_(s) {}
    ~Statement() {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    sqlite3_stmt* get() const { return s_; }

   private:
    sqlite3_stmt* s_;
  };

  absl::Status PrepareOne(const char* sql, StmtPtr& out, sqlite3* db = nullptr) {
    if (db == nullptr) db = db_.get();
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out.reset(s);
    if (rc != SQLITE_OK) return Error("prepare", rc, db);
    return absl::OkStatus();
  }

  absl::Status Bind(sqlite3_stmt* st, std::initializer_list<std::string_view> args,
                    const char* op) {
    int i = 1;
    for (std::string_view a : args) {
      // A null pointer would bind SQL NULL; an empty blob needs a non-null pointer.
      int rc = sqlite3_bind_blob64(st, i++, a.empty() ? "" : a.data(), a.size(), SQLITE_STATIC);
      if (rc != SQLITE_OK) return Error(op, rc);
    }
    return absl::OkStatus();
  }

  absl::Status Error(const char* op, int rc, sqlite3* db = nullptr) const {
    return absl::UnavailableError(fmt::format("store: sqlite `{}`: {}: {} ({})", path_, op,
                                              sqlite3_errmsg(db ? db : db_.get()),
                                              sqlite3_errstr(rc)));
  }

  const std::string path_;
  std::mutex mu_;
  DbPtr db_;
  std::mutex log_mu_;  // guards log_db_, log_durability_ and the log_* statements
  LogDurability log_durability_ = LogDurability::kFlushed;  // log_db_'s synchronous setting
  DbPtr log_db_;
  std::mutex sync_mu_;  // guards sync_db_
  DbPtr sync_db_;
  StmtPtr put_, get_, delete_, cas_, ping_, namespaces_, list_open_, list_range_, log_last_,
      log_insert_, log_read_, log_begin_, log_commit_;
};

// Runs `sql`; when `first_value` is set it receives the first column of the first row.
absl::Status Exec(sqlite3* db, const std::string& path, const char* sql, std::string* first_value) {
  char* err = nullptr;
  auto callback = [](void* out, int columns, char** values, char**) -> int {
    auto* s = static_cast<std::string*>(out);
    if (s != nullptr && s->empty() && columns > 0 && values[0] != nullptr) *s = values[0];
    return 0;
  };
  int rc = sqlite3_exec(db, sql, callback, first_value, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return absl::UnavailableError(fmt::format("store: sqlite `{}`: {}", path, msg));
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS kv ("
    "ns BLOB NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, "
    "PRIMARY KEY(ns, key)) WITHOUT ROWID";

// The audit trail's append-only log (KeyValueStore::AppendLog), added to existing databases on
// open; the triggers refuse updates and deletes from any client of the file. A rowid table (rows
// are ~750-byte records, appended at the end): in a WITHOUT ROWID table every interior page
// holds whole rows, so each append rewrote more pages (measured: 206 against 238 us per append
// of 2.4 records; docs/performance.md).
constexpr const char* kLogSchema =
    "CREATE TABLE IF NOT EXISTS audit_log ("
    "id INTEGER PRIMARY KEY, log BLOB NOT NULL, seq INTEGER NOT NULL, value BLOB NOT NULL, "
    "UNIQUE(log, seq));"
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END";

// Databases made before the log became a rowid table hold it as `... WITHOUT ROWID`: its entries
// move to the new table in one transaction (the old table and its triggers are dropped after the
// copy; kLogSchema then adds the triggers to the new one). Idempotent; two processes opening the
// file at once serialise on BEGIN IMMEDIATE and the second finds nothing to do.
absl::Status MigrateLogTable(sqlite3* db, const std::string& path) {
  auto old_format = [&]() -> absl::StatusOr<bool> {
    std::string n;
    CCB_RETURN_IF_ERROR(Exec(db, path,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                             "name = 'audit_log' AND sql LIKE '%WITHOUT ROWID%'",
                             &n));
    return n == "1";
  };
  CCB_ASSIGN_OR_RETURN(bool old, old_format());
  if (!old) return absl::OkStatus();
  CCB_RETURN_IF_ERROR(Exec(db, path, "BEGIN IMMEDIATE"));
  absl::Status s = [&]() -> absl::Status {
    CCB_ASSIGN_OR_RETURN(bool still_old, old_format());
    if (!still_old) return absl::OkStatus();
    CCB_RETURN_IF_ERROR(Exec(db, path, "ALTER TABLE audit_log RENAME TO audit_log_v1"));
    CCB_RETURN_IF_ERROR(Exec(db, path,
                             "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, log BLOB NOT NULL, "
                             "seq INTEGER NOT NULL, value BLOB NOT NULL, UNIQUE(log, seq))"));
    CCB_RETURN_IF_ERROR(Exec(db, path,
                             "INSERT INTO audit_log(log, seq, value) "
                             "SELECT log, seq, value FROM audit_log_v1 ORDER BY log, seq"));
    return Exec(db, path, "DROP TABLE audit_log_v1");
  }();
  if (!s.ok()) {
    Exec(db, path, "ROLLBACK").IgnoreError();
    return core::Annotate(s, "migrating the audit log to a rowid table");
  }
  return Exec(db, path, "COMMIT");
}

// Builds a new database (mode 0600, WAL, schema) under a temporary name beside `path`, then links
// it to `path`; if another process linked one first, theirs is kept.
absl::Status CreateDatabase(const std::string& path) {
  std::string tmp = path + ".new.XXXXXX";
  int fd = ::mkstemp(tmp.data());  // O_CREAT|O_EXCL, mode 0600
  if (fd < 0) {
    return absl::UnavailableError(
        fmt::format("store: cannot create sqlite database `{}`: {}", path, std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  ::close(fd);
  absl::Status status = [&]() -> absl::Status {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) {
      return absl::UnavailableError(fmt::format("store: cannot create sqlite database `{}`: {}",
                                                path,
                                                raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    CCB_RETURN_IF_ERROR(Exec(db.get(), path, "PRAGMA journal_mode=WAL"));
    CCB_RETURN_IF_ERROR(Exec(db.get(), path, kSchema));
    return absl::OkStatus();  // closing checkpoints and removes the temporary -wal/-shm
  }();
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    status = absl::UnavailableError(
        fmt::format("store: cannot create sqlite database `{}`: {}", path, std::strerror(errno)));
  }
  ::unlink(tmp.c_str());
  for (const char* suffix : {"-wal", "-shm"}) ::unlink((tmp + suffix).c_str());
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenSqliteStore(const std::string& path,
                                                               SqliteOptions options) {
  // The database holds secrets in plain text. A new one is built complete (0600, WAL, schema)
  // under a temporary name and linked into place, so `path` never exists without the schema
  // (concurrent first starts agree) and never with a looser mode; SQLite gives the -wal and -shm
  // files the database's mode. An existing file is tightened to 0600.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    CCB_RETURN_IF_ERROR(CreateDatabase(path));
  } else if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0 &&
             ::chmod(path.c_str(), 0600) != 0) {
    return absl::UnavailableError(
        fmt::format("store: cannot restrict sqlite database `{}` to mode 0600: {}", path,
                    std::strerror(errno)));
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    ::chmod((path + suffix).c_str(), 0600);  // left by an earlier run; absent is fine
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(fmt::format("store: cannot open sqlite database `{}`: {}", path,
                                              raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // Checked before anything writes to the file, so a refused file is left as it was.
  if (!options.initialize_existing) {
    std::string tables;
    CCB_RETURN_IF_ERROR(
        Exec(db.get(), path,
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kv'", &tables));
    if (tables != "1") {
      return absl::FailedPreconditionError(fmt::format(
          "store: sqlite database `{}` exists but has no ccburst schema (empty or another "
          "program's file); refusing to start with no secrets: restore the database, or set "
          "`initialize = true` under [storage_backend.backends.sqlite] to make it a new, empty "
          "store",
          path));
    }
  }
  std::string mode;
  // journal_mode is the first statement that touches the file, so an unreadable or unwritable
  // path fails here with SQLite's own message.
  CCB_RETURN_IF_ERROR(Exec(db.get(), path, "PRAGMA journal_mode=WAL", &mode));
  if (mode != "wal") {
    return absl::UnavailableError(
        fmt::format("store: sqlite `{}`: cannot enable WAL journal (mode is `{}`)", path, mode));
  }
  CCB_RETURN_IF_ERROR(Exec(db.get(), path, "PRAGMA synchronous=FULL"));
  CCB_RETURN_IF_ERROR(Exec(db.get(), path, kSchema));
  CCB_RETURN_IF_ERROR(MigrateLogTable(db.get(), path));
  CCB_RETURN_IF_ERROR(Exec(db.get(), path, kLogSchema));
  // The log's connection and the one for its checkpoints (synchronous=FULL: the WAL is flushed
  // before a checkpoint and the database after it).
  DbPtr extra[2];
  for (DbPtr& conn : extra) {
    sqlite3* raw = nullptr;
    rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    conn.reset(raw);
    if (rc != SQLITE_OK) {
      return absl::UnavailableError(
          fmt::format("store: cannot open sqlite database `{}` for the log: {}", path,
                      raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(conn.get(), 1);
    sqlite3_busy_timeout(conn.get(), kBusyTimeoutMs);
    CCB_RETURN_IF_ERROR(Exec(conn.get(), path, "PRAGMA synchronous=FULL"));
  }

  auto store =
      std::make_unique<SqliteStore>(path, std::move(db), std::move(extra[0]), std::move(extra[1]));
  CCB_RETURN_IF_ERROR(store->Prepare());
  return std::unique_ptr<KeyValueStore>(std::move(store));
}

}  // namespace ccburst::store
