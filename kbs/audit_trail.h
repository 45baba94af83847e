// The KBS's side of the tamper-evident audit trail (docs/audit.md): records of attestations,
// releases, refusals, admin changes and the scaler's burst decisions, chained and checkpointed by
// audit/record.h and appended to the store's append-only log "audit" (one chain across replicas,
// ordered by the database). A disabled trail records nothing and costs nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/record.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "kbs/config.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

class AuditTrail {
 public:
  // The store log the records go to.
  static constexpr std::string_view kLog = "audit";

  // Loads the audit key when `config.enabled` (errors name the key file). `kv` and `clock` must
  // outlive the trail.
  static absl::StatusOr<std::unique_ptr<AuditTrail>> Create(const KbsConfig::Audit& config,
                                                            store::KeyValueStore& kv,
                                                            const core::Clock& clock);

  bool enabled() const { return signer_.has_value(); }
  // Whether a release goes on when its record cannot be written ([audit] fail_open).
  bool fail_open() const { return fail_open_; }

  // Appends one record of `kind` (an audit:: event kind) and returns once it is stored with the
  // configured durability ([audit] durability: committed, or flushed to disk). OK without doing
  // anything when disabled; InvalidArgument for a field the chain reserves; the store's error
  // (kUnavailable) when the record could not be written.
  //
  // Group commit without a hand-off: a caller that finds no append under way appends everything
  // queued (its own record and those queued before it) in one store append on its own thread;
  // callers that arrive meanwhile queue and wait, and one of them appends their records next. A
  // caller returns only after its own record is stored, so a release is never answered before
  // its record exists.
  absl::Status Record(std::string_view kind, core::json::object fields);
  // Queues a record without waiting (attestations, refusals, admin changes: their answer does
  // not depend on it). It is stored with the next append (the next Record, or the background
  // flush within sync_interval_ms), before any record queued after it, so a release's record is
  // never stored without the records queued before it; a failure is logged. Lost only if the
  // process dies before that append.
  void RecordAsync(std::string_view kind, core::json::object fields);
  // Record without a waiting thread: calls `then` once the record is stored with the configured
  // durability, or with the store's error when it could not be (kUnavailable). A caller that
  // finds no append under way appends the queue (its record and those queued before it) on its
  // own thread and calls `then` before returning; one that finds an append under way queues its
  // record and returns at once, and `then` runs on the thread of the next append (the writer
  // thread is woken for it). A release passes its HttpResponse::hold here, so its answer leaves
  // after its record exists, as with Record, but no I/O thread ever waits for another's append.
  // `then` runs at once when the trail is disabled (OK) or the event is malformed
  // (InvalidArgument). It must be quick: the next append waits for it.
  void RecordThen(std::string_view kind, core::json::object fields,
                  std::function<void(absl::Status)> then);

  // The fields of an attestation record from an issued EAR token: status, TCB status, trust
  // vector and policy id of submod cpu0, the token's id (`jti`, else its digest) and expiry.
  static core::json::object AttestationFields(std::string_view token);

  // The whole chain as JSON Lines, ending with a trailer signed now (audit::ExportTrailer), after
  // every record queued before the call is stored.
  // FailedPrecondition when disabled.
  absl::StatusOr<std::string> Export();

  // "sha256:<hex>" of `bytes`: how records name evidence, resources, policies and tokens.
  static std::string Digest(std::string_view bytes);

  ~AuditTrail();

 private:
  struct Pending {
    audit::Event event;
    bool waited = false;                     // a Record() caller waits for it
    std::function<void(absl::Status)> then;  // RecordThen's completion
    absl::Status result;
    bool done = false;
  };
  using Lock = std::unique_lock<std::mutex>;
  // Queued records past this many wake the flusher instead of waiting for its tick.
  static constexpr size_t kFlushAt = 256;
  AuditTrail(store::KeyValueStore& kv, const core::Clock& clock) : kv_(kv), clock_(clock) {}
  // With `lock` held, no append under way and records queued: appends every queued record
  // (releasing the lock meanwhile) and completes them.
  void WriteQueued(Lock& lock);
  // With `lock` held: appends the queue when no append is under way, else waits for the one
  // under way to end.
  void Step(Lock& lock);
  // With `lock` held: returns once every record queued before the call is stored.
  void Drain(Lock& lock);
  // The writer thread: appends the queue as soon as a RecordThen record is in it (the records
  // that come during an append form the next batch), else every sync_interval or when many are
  // queued; with durability "commit" it puts the committed records on disk (SyncLog) every
  // sync_interval.
  void FlusherLoop();
  absl::Status AppendBatch(const std::vector<std::shared_ptr<Pending>>& batch);

  store::KeyValueStore& kv_;
  const core::Clock& clock_;
  std::optional<audit::Signer> signer_;
  int64_t checkpoint_every_ = 100;
  bool fail_open_ = false;
  store::KeyValueStore::LogDurability durability_ = store::KeyValueStore::LogDurability::kCommitted;
  std::chrono::milliseconds sync_interval_{100};

  std::mutex mu_;
  std::condition_variable done_cv_;     // callers waiting for an append to end
  std::condition_variable flusher_cv_;  // the flusher's tick, or a full queue
  std::vector<std::shared_ptr<Pending>> queue_;
  uint64_t queued_total_ = 0;  // records ever queued
  uint64_t done_total_ = 0;    // records whose append ended (stored or failed)
  int waiting_ = 0;            // callers in done_cv_.wait
  size_t urgent_ = 0;          // queued RecordThen records (appended by the next append)
  bool writing_ = false;       // an append is under way
  bool unsynced_ = false;      // a kCommitted append since the last SyncLog
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace ccburst::kbs
