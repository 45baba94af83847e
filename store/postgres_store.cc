// The shared KeyValueStore: PostgreSQL through libpq, for several KBS replicas on one database.
// One table keyed by (ns, key) with bytea columns, so comparisons are bytewise like SQLite's BLOBs
// and prefix scans are range scans on the primary key. Parameters and results travel in binary
// format (no escaping, no text decoding of bytea). Every statement of the hot path is prepared once
// per pooled connection (parsed and planned once, then only bound and executed): with several
// round trips per KBS flow, parse and plan were a third of PostgreSQL's CPU.
//
// The pool hands each operation one connection. A connection that libpq reports broken (the
// server restarted, the network dropped) is discarded and the operation is retried once on a new
// one, so the store recovers by itself once the database is back; until then every operation
// fails fast (connect_timeout, statement_timeout) with kUnavailable.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <bitset>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "store/key_value_store.h"

namespace ccburst::store {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// Any stable 64-bit number: the advisory lock that serialises schema migrations across replicas.
constexpr int64_t kMigrationLockId = 0x63636275727374;  // "ccburst"

// Migrations, applied in order; version N is the N-th entry. Never edit one that has shipped:
// append a new one.
constexpr const char* kMigrations[] = {
    // 1: the key-value table; `expires` (unix seconds, 0 = never) for expiring entries.
    "CREATE TABLE IF NOT EXISTS ccburst_kv ("
    "ns bytea NOT NULL, key bytea NOT NULL, value bytea NOT NULL, "
    "expires bigint NOT NULL DEFAULT 0, PRIMARY KEY (ns, key));"
    "CREATE INDEX IF NOT EXISTS ccburst_kv_expires ON ccburst_kv (ns, expires) "
    "WHERE expires <> 0",
    // 2: values are sealed (random bytes to the server): no compression attempts, and rows up to
    // the page size stay inline instead of being moved to the TOAST table at 2 kB (a session
    // with its token is about that size, and sessions are written twice per flow).
    "ALTER TABLE ccburst_kv ALTER COLUMN value SET STORAGE EXTERNAL;"
    "ALTER TABLE ccburst_kv SET (toast_tuple_target = 8160)",
    // 3: the generation, bumped in the same transaction as every write of an entry without expiry
    // (configuration: policies, reference values, resources; sessions expire and never bump it),
    // whoever writes (any replica, any version, psql). Replicas serve cached configuration only
    // while a statement sent after the current request began has seen the generation it was
    // read at.
    "CREATE TABLE IF NOT EXISTS ccburst_generation (n bigint NOT NULL);"
    "INSERT INTO ccburst_generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ccburst_generation);"
    "CREATE OR REPLACE FUNCTION ccburst_bump_generation() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN UPDATE ccburst_generation SET n = n + 1; RETURN NULL; END$$;"
    "CREATE TRIGGER ccburst_kv_insert AFTER INSERT ON ccburst_kv FOR EACH ROW "
    "WHEN (NEW.expires = 0) EXECUTE FUNCTION ccburst_bump_generation();"
    "CREATE TRIGGER ccburst_kv_update AFTER UPDATE ON ccburst_kv FOR EACH ROW "
    "WHEN (OLD.expires = 0 OR NEW.expires = 0) EXECUTE FUNCTION ccburst_bump_generation();"
    "CREATE TRIGGER ccburst_kv_delete AFTER DELETE ON ccburst_kv FOR EACH ROW "
    "WHEN (OLD.expires = 0) EXECUTE FUNCTION ccburst_bump_generation()",
    // 4: the append-only logs (the audit trail, KeyValueStore::AppendLog): one row per entry,
    // ordered by the database through the primary key; triggers refuse updates, deletes and
    // TRUNCATE from any client (the hash chain in the rows catches whoever drops them first).
    "CREATE TABLE IF NOT EXISTS ccburst_log ("
    "log bytea NOT NULL, seq bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (log, seq));"
    "CREATE OR REPLACE FUNCTION ccburst_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION 'ccburst_log is append-only'; END$$;"
    "CREATE TRIGGER ccburst_log_no_change BEFORE UPDATE OR DELETE ON ccburst_log FOR EACH ROW "
    "EXECUTE FUNCTION ccburst_log_append_only();"
    "CREATE TRIGGER ccburst_log_no_truncate BEFORE TRUNCATE ON ccburst_log FOR EACH STATEMENT "
    "EXECUTE FUNCTION ccburst_log_append_only()",
};

// The statements prepared on each connection; `Stmt` indexes kStatements.
enum class Stmt {
  kPut,
  kPutEphemeral,
  kGet,
  kDelete,
  kListRange,
  kListFrom,
  kCas,
  kDeleteExpired,
  kInsertExpiring,
  kLogLast,
  kLogAppend,
  kLogAppendCommitted,
  kLogRead,
  kCount
};
struct Statement {
  const char* name;
  const char* sql;
  std::initializer_list<Oid> types;  // 17 bytea, 20 int8, 1001 bytea[]
};
const Statement kStatements[] = {
    {"ccb_put",
     "INSERT INTO ccburst_kv(ns, key, value, expires) VALUES ($1, $2, $3, $4) "
     "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
     {17, 17, 17, 20}},
    // An entry with an expiry (a new session) commits without waiting for its WAL flush: a
    // database crash may lose the last ones (their clients call /auth again), never anything
    // else, and it is visible to every replica at once. A later synchronous commit (the nonce's
    // swap) flushes it first.
    {"ccb_put_ephemeral",
     "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
     "INSERT INTO ccburst_kv(ns, key, value, expires) SELECT $1, $2, $3, $4 FROM async "
     "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
     {17, 17, 17, 20}},
    // Always one row: the generation, and the value or NULL.
    {"ccb_get",
     "SELECT g.n, kv.value FROM ccburst_generation g "
     "LEFT JOIN ccburst_kv kv ON kv.ns = $1 AND kv.key = $2",
     {17, 17}},
    {"ccb_delete", "DELETE FROM ccburst_kv WHERE ns = $1 AND key = $2", {17, 17}},
    {"ccb_list_range",
     "SELECT key, value FROM ccburst_kv WHERE ns = $1 AND key >= $2 AND key < $3 ORDER BY key",
     {17, 17, 17}},
    {"ccb_list_from",
     "SELECT key, value FROM ccburst_kv WHERE ns = $1 AND key >= $2 ORDER BY key",
     {17, 17}},
    {"ccb_cas",
     "UPDATE ccburst_kv SET value = $4, expires = CASE WHEN $5 < 0 THEN expires ELSE $5 END "
     "WHERE ns = $1 AND key = $2 AND value = $3",
     {17, 17, 17, 17, 20}},
    // SKIP LOCKED: replicas sweeping at once take disjoint rows instead of queueing on each
    // other's locks.
    {"ccb_delete_expired",
     "DELETE FROM ccburst_kv WHERE ctid IN (SELECT ctid FROM ccburst_kv WHERE ns = $1 "
     "AND expires <> 0 AND expires <= $2 LIMIT $3 FOR UPDATE SKIP LOCKED)",
     {17, 20, 20}},
    // A single-use claim: the insert, and in the same statement the generation (so that the
    // request's cached reads after it are confirmed, see Observed) and, when the key was
    // present, its value. A row that a concurrent transaction committed during the insert is not
    // in this statement's snapshot: inserted = 0 and a NULL value. Durable (a spent nonce stays
    // spent across a crash of the database).
    {"ccb_insert_expiring",
     "WITH ins AS (INSERT INTO ccburst_kv(ns, key, value, expires) VALUES ($1, $2, $3, $4) "
     "ON CONFLICT (ns, key) DO NOTHING RETURNING 1) "
     "SELECT g.n, (SELECT count(*) FROM ins), kv.value FROM ccburst_generation g "
     "LEFT JOIN ccburst_kv kv ON kv.ns = $1 AND kv.key = $2",
     {17, 17, 17, 20}},
    {"ccb_log_last",
     "SELECT seq, value FROM ccburst_log WHERE log = $1 ORDER BY seq DESC LIMIT 1",
     {17}},
    // Every new entry in one statement (so all or none): $3 is a bytea[] of the values, appended
    // from seq $2. A racing replica that took one of those seqs first fails it with 23505.
    {"ccb_log_append",
     "INSERT INTO ccburst_log(log, seq, value) "
     "SELECT $1, $2 + t.o - 1, t.v FROM unnest($3::bytea[]) WITH ORDINALITY AS t(v, o)",
     {17, 20, 1001}},
    // The same with synchronous_commit off for its own transaction (set_config(..., true) in the
    // statement's implicit transaction, read when it commits): LogDurability::kCommitted.
    {"ccb_log_append_committed",
     "INSERT INTO ccburst_log(log, seq, value) "
     "SELECT $1, $2 + t.o - 1, t.v FROM unnest($3::bytea[]) WITH ORDINALITY AS t(v, o), "
     "(SELECT set_config('synchronous_commit', 'off', true)) AS s",
     {17, 20, 1001}},
    {"ccb_log_read",
     "SELECT seq, value FROM ccburst_log WHERE log = $1 AND seq > $2 ORDER BY seq LIMIT $3",
     {17, 20, 20}},
};
static_assert(std::size(kStatements) == static_cast<size_t>(Stmt::kCount));

// A pooled connection and which of kStatements it has prepared.
struct Conn {
  ConnPtr pg;
  std::bitset<static_cast<size_t>(Stmt::kCount)> prepared;
};

std::string ConnMessage(PGconn* c) {
  std::string m = c ? PQerrorMessage(c) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  for (char& ch : m) {
    if (ch == '\n') ch = ' ';
  }
  return m;
}

std::string_view Bytes(PGresult* r, int row, int col) {
  return std::string_view(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

// A query parameter in binary format: bytea (OID 17) by default, int8 (OID 20) from Int8().
struct Param {
  Param(std::string_view b) : bytes(b) {}    // NOLINT: bytea is the common case
  Param(const std::string& b) : bytes(b) {}  // NOLINT
  Param(std::string_view b, Oid t) : bytes(b), type(t) {}
  std::string_view bytes;
  Oid type = 17;
};

// An int8 parameter's 8 big-endian bytes; the holder must outlive the query.
struct Int8 {
  explicit Int8(int64_t v) : bytes(8, '\0') {
    for (int i = 7; i >= 0; --i) {
      bytes[i] = static_cast<char>(v & 0xff);
      v >>= 8;
    }
  }
  operator Param() const { return Param(bytes, 20); }  // NOLINT
  std::string bytes;
};

int64_t FromBigEndian64(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size() && i < 8; ++i) v = v << 8 | static_cast<unsigned char>(b[i]);
  return static_cast<int64_t>(v);
}

// A one-dimensional bytea[] in PostgreSQL's binary array format (ndim, has-null, element type,
// length, lower bound, then each element's length and bytes), for the bytea[] parameter of
// ccb_log_append.
std::string ByteaArray(const std::vector<std::string>& values) {
  std::string out;
  auto int4 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  };
  int4(1);
  int4(0);
  int4(17);
  int4(static_cast<uint32_t>(values.size()));
  int4(1);
  for (const std::string& v : values) {
    int4(static_cast<uint32_t>(v.size()));
    out += v;
  }
  return out;
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

class PostgresStore final : public KeyValueStore {
 public:
  explicit PostgresStore(PostgresOptions options) : options_(std::move(options)) {
    if (options_.pool_size == 0) options_.pool_size = 1;
    Describe();
  }

  absl::Status Migrate() {
    return WithConnection("migrate", [&](Conn& conn) -> absl::Status {
      PGconn* c = conn.pg.get();
      // Session-level lock: held across the migrations' transactions, released below (or by the
      // server if this process dies). Taken first: even CREATE TABLE IF NOT EXISTS races.
      CCB_RETURN_IF_ERROR(
          Exec(c, "migrate", "SELECT pg_advisory_lock($1::bigint)", {Int8(kMigrationLockId)}));
      absl::Status status = [&]() -> absl::Status {
        CCB_RETURN_IF_ERROR(
            Exec(c, "migrate",
                 "CREATE TABLE IF NOT EXISTS ccburst_schema (version integer NOT NULL)", {}));
        CCB_ASSIGN_OR_RETURN(ResultPtr r, Query(c, "migrate",
                                                "SELECT coalesce(max(version), 0)::bigint "
                                                "FROM ccburst_schema",
                                                {}));
        int64_t version = FromBigEndian64(Bytes(r.get(), 0, 0));
        constexpr int64_t kLatest = std::size(kMigrations);
        if (version > kLatest) {
          return absl::FailedPreconditionError(fmt::format(
              "store: postgres {}: schema version {} is newer than this ccburst-kbs knows ({}); "
              "upgrade this replica",
              where_, version, kLatest));
        }
        for (int64_t v = version + 1; v <= kLatest; ++v) {
          std::string sql =
              fmt::format("BEGIN; {}; INSERT INTO ccburst_schema(version) VALUES ({}); COMMIT",
                          kMigrations[v - 1], v);
          ResultPtr m(PQexec(c, sql.c_str()));
          if (PQresultStatus(m.get()) != PGRES_COMMAND_OK) {
            std::string msg = ConnMessage(c);
            ResultPtr(PQexec(c, "ROLLBACK"));
            return Unavailable(fmt::format("migration {}", v), msg);
          }
        }
        return absl::OkStatus();
      }();
      absl::Status unlock =
          Exec(c, "migrate", "SELECT pg_advisory_unlock($1::bigint)", {Int8(kMigrationLockId)});
      return status.ok() ? unlock : status;
    });
  }

  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    return PutExpiring(ns, key, value, 0);
  }

  absl::Status PutExpiring(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t expires_unix) override {
    Invalidate(ns, key);
    return WithConnection("put", [&](Conn& c) {
      return Run(c, "put", expires_unix == 0 ? Stmt::kPut : Stmt::kPutEphemeral,
                 {ns, key, value, Int8(expires_unix)})
          .status();
    });
  }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    const bool cached = Cached(ns);
    if (cached) {
      ShareConfirmation();
      if (auto hit = CacheLookup(ns, key)) return *std::move(hit);
    }
    std::optional<std::string> out;
    int64_t generation = 0;
    uint64_t seq = 0;
    CCB_RETURN_IF_ERROR(WithConnection("get", [&](Conn& c) -> absl::Status {
      seq = NextConfirmation();
      CCB_ASSIGN_OR_RETURN(ResultPtr r, Run(c, "get", Stmt::kGet, {ns, key}));
      out.reset();
      if (PQntuples(r.get()) != 1) {
        return Unavailable("get", "the ccburst_generation table does not hold exactly one row");
      }
      generation = FromBigEndian64(Bytes(r.get(), 0, 0));
      if (!PQgetisnull(r.get(), 0, 1)) out = std::string(Bytes(r.get(), 0, 1));
      return absl::OkStatus();
    }));
    Confirmed(seq, generation);
    Observed(generation);
    if (cached) CacheStore(ns, key, generation, out);
    return out;
  }

  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    Invalidate(ns, key);
    bool deleted = false;
    CCB_RETURN_IF_ERROR(WithConnection("delete", [&](Conn& c) -> absl::Status {
      CCB_ASSIGN_OR_RETURN(ResultPtr r, Run(c, "delete", Stmt::kDelete, {ns, key}));
      deleted = std::strcmp(PQcmdTuples(r.get()), "0") != 0;
      return absl::OkStatus();
    }));
    return deleted;
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view key_prefix) override {
    std::vector<std::pair<std::string, std::string>> out;
    std::optional<std::string> upper = PrefixSuccessor(key_prefix);
    CCB_RETURN_IF_ERROR(WithConnection("list", [&](Conn& c) -> absl::Status {
      ResultPtr r;
      if (upper) {
        CCB_ASSIGN_OR_RETURN(r, Run(c, "list", Stmt::kListRange, {ns, key_prefix, *upper}));
      } else {
        CCB_ASSIGN_OR_RETURN(r, Run(c, "list", Stmt::kListFrom, {ns, key_prefix}));
      }
      out.clear();
      int n = PQntuples(r.get());
      out.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        out.emplace_back(std::string(Bytes(r.get(), i, 0)), std::string(Bytes(r.get(), i, 1)));
      }
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    // One UPDATE with the old value in its WHERE: PostgreSQL re-checks the condition on the row
    // it locks, so of two racing swaps from one expected value exactly one changes the row.
    Invalidate(ns, key);
    bool swapped = false;
    CCB_RETURN_IF_ERROR(WithConnection("compare-and-swap", [&](Conn& c) -> absl::Status {
      CCB_ASSIGN_OR_RETURN(ResultPtr r, Run(c, "compare-and-swap", Stmt::kCas,
                                            {ns, key, expected, desired, Int8(expires_unix)}));
      swapped = std::strcmp(PQcmdTuples(r.get()), "0") != 0;
      return absl::OkStatus();
    }));
    return swapped;
  }

  absl::StatusOr<bool> InsertExpiring(std::string_view ns, std::string_view key,
                                      std::string_view value, int64_t expires_unix,
                                      std::optional<std::string>* existing) override {
    Invalidate(ns, key);
    bool inserted = false;
    int64_t generation = 0;
    std::optional<std::string> present;
    uint64_t seq = 0;
    CCB_RETURN_IF_ERROR(WithConnection("insert", [&](Conn& c) -> absl::Status {
      seq = NextConfirmation();
      CCB_ASSIGN_OR_RETURN(ResultPtr r, Run(c, "insert", Stmt::kInsertExpiring,
                                            {ns, key, value, Int8(expires_unix)}));
      present.reset();
      if (PQntuples(r.get()) != 1) {
        return Unavailable("insert", "the ccburst_generation table does not hold exactly one row");
      }
      generation = FromBigEndian64(Bytes(r.get(), 0, 0));
      inserted = FromBigEndian64(Bytes(r.get(), 0, 1)) != 0;
      if (!PQgetisnull(r.get(), 0, 2)) present = std::string(Bytes(r.get(), 0, 2));
      return absl::OkStatus();
    }));
    Confirmed(seq, generation);
    Observed(generation);
    if (!inserted && existing != nullptr) *existing = std::move(present);
    return inserted;
  }

  absl::StatusOr<size_t> DeleteExpired(std::string_view ns, int64_t now_unix,
                                       size_t limit) override {
    size_t deleted = 0;
    CCB_RETURN_IF_ERROR(WithConnection("delete-expired", [&](Conn& c) -> absl::Status {
      CCB_ASSIGN_OR_RETURN(ResultPtr r,
                           Run(c, "delete-expired", Stmt::kDeleteExpired,
                               {ns, Int8(now_unix), Int8(static_cast<int64_t>(limit))}));
      deleted = std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
      return absl::OkStatus();
    }));
    return deleted;
  }

  // Appends on this replica queue on log_mu_; across replicas the primary key (log, seq) decides:
  // the entries are built on the last entry this replica knows (cached after its own append, so
  // one round trip per append while it is the only writer) and inserted at the seqs after it; a
  // unique violation means another replica appended first: read the last entry and build again.
  absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                         LogDurability durability) override {
    constexpr int kAttempts = 64;
    std::lock_guard lock(log_mu_);
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      bool conflict = false;
      CCB_RETURN_IF_ERROR(WithConnection("append-log", [&](Conn& c) -> absl::Status {
        conflict = false;
        std::optional<LogEntry> last;
        if (auto it = log_last_.find(std::string(log)); it != log_last_.end()) {
          last = it->second;
        } else {
          CCB_ASSIGN_OR_RETURN(ResultPtr r, Run(c, "append-log", Stmt::kLogLast, {log}));
          if (PQntuples(r.get()) == 1) {
            last =
                LogEntry{FromBigEndian64(Bytes(r.get(), 0, 0)), std::string(Bytes(r.get(), 0, 1))};
          }
        }
        CCB_ASSIGN_OR_RETURN(std::vector<std::string> values, build(last));
        if (values.empty()) return absl::OkStatus();
        const int64_t first = (last ? last->seq : 0) + 1;
        std::string state;
        auto r = Run(
            c, "append-log",
            durability == LogDurability::kFlushed ? Stmt::kLogAppend : Stmt::kLogAppendCommitted,
            {log, Int8(first), Param(ByteaArray(values), 1001)}, &state);
        log_last_.erase(std::string(log));
        if (!r.ok()) {
          if (state != "23505") return r.status();
          conflict = true;
          return absl::OkStatus();
        }
        log_last_[std::string(log)] =
            LogEntry{first + static_cast<int64_t>(values.size()) - 1, std::move(values.back())};
        return absl::OkStatus();
      }));
      if (!conflict) return absl::OkStatus();
    }
    return Unavailable(
        "append-log",
        fmt::format("{} appends in a row lost the race to other replicas", kAttempts));
  }

  absl::StatusOr<std::vector<LogEntry>> ReadLog(std::string_view log, int64_t after_seq,
                                                size_t limit) override {
    std::vector<LogEntry> out;
    CCB_RETURN_IF_ERROR(WithConnection("read-log", [&](Conn& c) -> absl::Status {
      CCB_ASSIGN_OR_RETURN(ResultPtr r,
                           Run(c, "read-log", Stmt::kLogRead,
                               {log, Int8(after_seq),
                                Int8(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}));
      out.clear();
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        out.push_back(
            LogEntry{FromBigEndian64(Bytes(r.get(), i, 0)), std::string(Bytes(r.get(), i, 1))});
      }
      return absl::OkStatus();
    }));
    return out;
  }

  absl::Status Ping() override {
    return WithConnection("ping", [&](Conn& c) -> absl::Status {
      return Query(c.pg.get(), "ping", "SELECT 1 FROM ccburst_schema LIMIT 1", {}).status();
    });
  }

  bool Shared() const override { return true; }

  void BeginUnit() override {
    tl_unit_ = Unit{this, false, 0, confirm_sent_.load(std::memory_order_acquire)};
  }
  void EndUnit() override {
    if (tl_unit_.store == this) tl_unit_ = Unit{};
  }

  absl::StatusOr<std::vector<std::string>> Namespaces() override {
    std::vector<std::string> out;
    CCB_RETURN_IF_ERROR(WithConnection("namespaces", [&](Conn& c) -> absl::Status {
      CCB_ASSIGN_OR_RETURN(
          ResultPtr r,
          Query(c.pg.get(), "namespaces", "SELECT DISTINCT ns FROM ccburst_kv ORDER BY ns", {}));
      out.clear();
      for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(Bytes(r.get(), i, 0));
      return absl::OkStatus();
    }));
    return out;
  }

 private:
  void Describe() {
    where_ = options_.url ? std::string("(url)")
                          : fmt::format("{}@{}:{}/{}", options_.username, options_.host,
                                        options_.port, options_.db);
  }

  ConnPtr Connect() {
    std::string port = std::to_string(options_.port);
    std::string connect_timeout =
        std::to_string(std::max<int64_t>(1, options_.connect_timeout.count()));
    std::string pg_options = fmt::format("-c statement_timeout={} -c client_min_messages=warning",
                                         options_.statement_timeout.count());
    std::vector<const char*> keys, values;
    auto add = [&](const char* k, const std::string& v) {
      keys.push_back(k);
      values.push_back(v.c_str());
    };
    if (options_.url) {
      add("dbname", *options_.url);  // expanded below: the URI's fields, then ours override
    } else {
      add("host", options_.host);
      add("port", port);
      add("dbname", options_.db);
      add("user", options_.username);
      if (options_.password) add("password", *options_.password);
    }
    add("connect_timeout", connect_timeout);
    add("options", pg_options);
    add("sslmode", options_.sslmode);
    if (options_.sslrootcert) add("sslrootcert", *options_.sslrootcert);
    add("application_name", std::string("ccburst-kbs"));
    keys.push_back(nullptr);
    values.push_back(nullptr);
    return ConnPtr(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  }

  absl::StatusOr<Conn> Acquire() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, options_.pool_wait,
                      [&] { return !idle_.empty() || open_ < options_.pool_size; })) {
      return absl::UnavailableError(
          fmt::format("store: postgres {}: no free connection within {} ms (pool_size {})", where_,
                      options_.pool_wait.count(), options_.pool_size));
    }
    if (!idle_.empty()) {
      Conn c = std::move(idle_.back());  // the most recently used: its statements are warm
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    Conn c{Connect(), {}};
    if (PQstatus(c.pg.get()) != CONNECTION_OK) {
      std::string msg = ConnMessage(c.pg.get());
      Release(Conn{});
      if (msg.find("SSL") != std::string::npos || msg.find("certificate") != std::string::npos) {
        // A TLS failure: say which settings it was checked against.
        msg += fmt::format(" (TLS to the database: sslmode {}, sslrootcert {})", options_.sslmode,
                           options_.sslrootcert.value_or("(libpq's default)"));
      }
      return Unavailable("connect", msg);
    }
    return c;
  }

  // Returns `c` to the pool, or gives up its slot when it is null or broken.
  void Release(Conn c) {
    std::lock_guard lock(mu_);
    if (c.pg && PQstatus(c.pg.get()) == CONNECTION_OK &&
        PQtransactionStatus(c.pg.get()) == PQTRANS_IDLE) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  // Runs `fn` on a pooled connection; once more on a new connection when the first one turns out
  // to be broken (a database restart leaves every pooled connection dead).
  template <typename Fn>
  absl::Status WithConnection(const char* op, Fn&& fn) {
    absl::Status status;
    for (int attempt = 0; attempt < 2; ++attempt) {
      CCB_ASSIGN_OR_RETURN(Conn c, Acquire());
      status = fn(c);
      bool broken = PQstatus(c.pg.get()) != CONNECTION_OK;
      Release(std::move(c));
      if (status.ok() || !broken) return status;
    }
    return status;
  }

  absl::StatusOr<ResultPtr> Query(PGconn* c, const char* op, const char* sql,
                                  std::initializer_list<Param> params) {
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<Oid> types;
    for (const Param& p : params) {
      values.push_back(p.bytes.empty() ? "" : p.bytes.data());
      lengths.push_back(static_cast<int>(p.bytes.size()));
      formats.push_back(1);
      types.push_back(p.type);
    }
    ResultPtr r(PQexecParams(c, sql, static_cast<int>(values.size()), types.data(), values.data(),
                             lengths.data(), formats.data(), /*resultFormat=*/1));
    ExecStatusType st = PQresultStatus(r.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      return Unavailable(op, ResultMessage(c, r.get()));
    }
    return r;
  }

  // Executes one of kStatements on `c`, preparing it first if this connection has not yet.
  // `sqlstate`, when set, receives the SQLSTATE of a failed statement.
  absl::StatusOr<ResultPtr> Run(Conn& c, const char* op, Stmt stmt,
                                std::initializer_list<Param> params,
                                std::string* sqlstate = nullptr) {
    const auto index = static_cast<size_t>(stmt);
    const Statement& s = kStatements[index];
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const Param& p : params) {
      values.push_back(p.bytes.empty() ? "" : p.bytes.data());
      lengths.push_back(static_cast<int>(p.bytes.size()));
      formats.push_back(1);
    }
    for (int attempt = 0;; ++attempt) {
      if (!c.prepared[index]) {
        std::vector<Oid> types(s.types);
        ResultPtr r(
            PQprepare(c.pg.get(), s.name, s.sql, static_cast<int>(types.size()), types.data()));
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
          return Unavailable(op, ResultMessage(c.pg.get(), r.get()));
        }
        c.prepared.set(index);
      }
      ResultPtr r(PQexecPrepared(c.pg.get(), s.name, static_cast<int>(values.size()), values.data(),
                                 lengths.data(), formats.data(),
                                 /*resultFormat=*/1));
      ExecStatusType st = PQresultStatus(r.get());
      if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return r;
      // 26000 invalid_sql_statement_name: something between us and the server (a pooler, a
      // DISCARD ALL) dropped the prepared statements; prepare them again, once.
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      if (attempt == 0 && state != nullptr && std::strcmp(state, "26000") == 0) {
        c.prepared.reset();
        continue;
      }
      if (sqlstate != nullptr && state != nullptr) *sqlstate = state;
      return Unavailable(op, ResultMessage(c.pg.get(), r.get()));
    }
  }

  // The error of a failed result (or of the connection when there is no result), on one line.
  static std::string ResultMessage(PGconn* c, PGresult* r) {
    std::string msg = r ? PQresultErrorMessage(r) : "";
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return msg.empty() ? ConnMessage(c) : msg;
  }

  absl::Status Exec(PGconn* c, const char* op, const char* sql,
                    std::initializer_list<Param> params) {
    return Query(c, op, sql, params).status();
  }

  absl::Status Unavailable(std::string_view op, std::string_view msg) const {
    return absl::UnavailableError(fmt::format("store: postgres {}: {}: {}", where_, op, msg));
  }

  // The read cache of options_.cached_namespaces. A cached value is served in a unit of work
  // (BeginUnit .. EndUnit on one thread) only once a statement that this unit ran, or one sent
  // after it began (ShareConfirmation), has seen a generation no newer than the one the value was
  // read at: every write of configuration bumps the generation in its own transaction, so a write
  // committed before the unit began is seen.
  struct CacheEntry {
    int64_t generation = 0;
    std::optional<std::string> value;
  };
  // This thread's unit: on which store, and the generation its statements have seen; how many
  // confirming statements had been sent when it began.
  struct Unit {
    const PostgresStore* store = nullptr;
    bool fresh = false;
    int64_t generation = 0;
    uint64_t start_seq = 0;
  };
  static constexpr size_t kCacheEntries = 4096;          // at the bound the cache starts over
  static constexpr size_t kCacheValueBytes = 64 * 1024;  // larger values are always read

  bool Cached(std::string_view ns) const {
    return std::find(options_.cached_namespaces.begin(), options_.cached_namespaces.end(), ns) !=
           options_.cached_namespaces.end();
  }
  static std::string CacheKey(std::string_view ns, std::string_view key) {
    std::string k;
    k.reserve(ns.size() + 1 + key.size());
    k.append(ns).push_back('\0');  // namespaces hold no NUL
    k.append(key);
    return k;
  }
  void Observed(int64_t generation) {
    if (tl_unit_.store != this) return;
    tl_unit_.fresh = true;
    tl_unit_.generation = std::max(tl_unit_.generation, generation);
  }

  // Shared confirmations. The statements that return the generation (Get, InsertExpiring) are
  // numbered as they are sent. One sent after a unit began took its snapshot after that, so the
  // generation it saw is at least the one of every write acknowledged before the unit began: the
  // unit may take it as its own confirmation. Concurrent requests of this replica thus share
  // one round trip (a /resource can use the nonce claim of an /attest sent meanwhile).
  uint64_t NextConfirmation() {
    std::lock_guard lock(confirm_mu_);
    auto now = std::chrono::steady_clock::now();
    if (confirm_last_send_) {
      auto gap = std::chrono::duration_cast<std::chrono::microseconds>(now - *confirm_last_send_);
      confirm_gap_ = (confirm_gap_ * 7 + gap) / 8;
    }
    confirm_last_send_ = now;
    return confirm_sent_.fetch_add(1, std::memory_order_acq_rel) + 1;
  }
  void Confirmed(uint64_t seq, int64_t generation) {
    {
      std::lock_guard lock(confirm_mu_);
      confirm_best_seq_ = std::max(confirm_best_seq_, seq);
      confirm_best_generation_ = std::max(confirm_best_generation_, generation);
    }
    confirm_cv_.notify_all();
  }
  // Marks the unit fresh from a confirming statement sent after it began, waiting for one (at
  // most options_.confirm_share_wait) while one is in flight or they are sent more often than
  // that; otherwise the caller sends its own.
  void ShareConfirmation() {
    if (tl_unit_.store != this || tl_unit_.fresh) return;
    const uint64_t start = tl_unit_.start_seq;
    std::unique_lock lock(confirm_mu_);
    auto shared = [&] { return confirm_best_seq_ > start; };
    const auto wait = options_.confirm_share_wait;
    if (!shared() && wait.count() > 0 &&
        (confirm_sent_.load(std::memory_order_acquire) > start || confirm_gap_ < wait)) {
      confirm_cv_.wait_for(lock, wait, shared);
    }
    if (!shared()) return;
    tl_unit_.fresh = true;
    tl_unit_.generation = std::max(tl_unit_.generation, confirm_best_generation_);
  }
  std::optional<std::optional<std::string>> CacheLookup(std::string_view ns, std::string_view key) {
    if (tl_unit_.store != this || !tl_unit_.fresh) return std::nullopt;
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(CacheKey(ns, key));
    if (it == cache_.end() || it->second.generation < tl_unit_.generation) return std::nullopt;
    return it->second.value;
  }
  void CacheStore(std::string_view ns, std::string_view key, int64_t generation,
                  const std::optional<std::string>& value) {
    if (value && value->size() > kCacheValueBytes) return;
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kCacheEntries) cache_.clear();
    CacheEntry& e = cache_[CacheKey(ns, key)];
    if (e.generation > generation) return;  // a concurrent read saw a newer one
    e.generation = generation;
    e.value = value;
  }
  // This replica's own write: its generation is not known until read, so drop the entry.
  void Invalidate(std::string_view ns, std::string_view key) {
    if (!Cached(ns)) return;
    std::lock_guard lock(cache_mu_);
    cache_.erase(CacheKey(ns, key));
  }

  std::mutex log_mu_;
  // The last entry of each log as this replica appended it (a hint: a conflict drops it).
  absl::flat_hash_map<std::string, LogEntry> log_last_;
  static thread_local Unit tl_unit_;

  std::mutex confirm_mu_;  // guards the confirm_* fields below but confirm_sent_
  std::condition_variable confirm_cv_;
  std::atomic<uint64_t> confirm_sent_{0};  // confirming statements sent
  uint64_t confirm_best_seq_ = 0;          // the highest-numbered one completed
  int64_t confirm_best_generation_ = 0;    // the newest generation any of them saw
  std::optional<std::chrono::steady_clock::time_point> confirm_last_send_;
  std::chrono::microseconds confirm_gap_{std::chrono::seconds(1)};  // mean time between sends
  std::mutex cache_mu_;
  absl::flat_hash_map<std::string, CacheEntry> cache_;
  PostgresOptions options_;
  std::string where_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Conn> idle_;
  size_t open_ = 0;
};

thread_local PostgresStore::Unit PostgresStore::tl_unit_;

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenPostgresStore(const PostgresOptions& options) {
  auto store = std::make_unique<PostgresStore>(options);
  CCB_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<KeyValueStore>(std::move(store));
}

}  // namespace ccburst::store
