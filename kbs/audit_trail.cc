#include "kbs/audit_trail.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/jws.h"

namespace ccburst::kbs {
namespace json = core::json;

absl::StatusOr<std::unique_ptr<AuditTrail>> AuditTrail::Create(const KbsConfig::Audit& config,
                                                               store::KeyValueStore& kv,
                                                               const core::Clock& clock) {
  std::unique_ptr<AuditTrail> t(new AuditTrail(kv, clock));
  t->checkpoint_every_ = config.checkpoint_every;
  t->fail_open_ = config.fail_open;
  t->durability_ = config.durability == KbsConfig::Audit::Durability::kFlush
                       ? store::KeyValueStore::LogDurability::kFlushed
                       : store::KeyValueStore::LogDurability::kCommitted;
  t->sync_interval_ = std::chrono::milliseconds(config.sync_interval_ms);
  if (!config.enabled) return t;
  if (!config.signing_key) {
    return absl::InvalidArgumentError("audit: enabled without a signing_key");
  }
  CCB_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::LoadPemFile(*config.signing_key),
                       "audit signing_key `{}`", *config.signing_key);
  CCB_ASSIGN_OR_RETURN(audit::Signer signer, audit::Signer::Create(std::move(key)),
                       "audit signing_key `{}`", *config.signing_key);
  t->signer_ = std::move(signer);
  t->flusher_ = std::thread([p = t.get()] { p->FlusherLoop(); });
  return t;
}

AuditTrail::~AuditTrail() {
  if (!flusher_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  flusher_cv_.notify_all();
  flusher_.join();
}

absl::Status AuditTrail::Record(std::string_view kind, json::object fields) {
  if (!enabled()) return absl::OkStatus();
  auto mine = std::make_shared<Pending>();
  mine->event = audit::Event{std::string(kind), clock_.Now(), std::move(fields)};
  mine->waited = true;
  // Checked here so that one bad event cannot fail the batch it would have joined.
  CCB_RETURN_IF_ERROR(audit::CheckEvent(mine->event));
  Lock lock(mu_);
  queue_.push_back(mine);
  ++queued_total_;
  while (!mine->done) Step(lock);
  return mine->result;
}

void AuditTrail::RecordAsync(std::string_view kind, json::object fields) {
  if (!enabled()) return;
  auto p = std::make_shared<Pending>();
  p->event = audit::Event{std::string(kind), clock_.Now(), std::move(fields)};
  if (absl::Status s = audit::CheckEvent(p->event); !s.ok()) {
    spdlog::error("audit: a {} record was not written: {}", kind, core::Message(s));
    return;
  }
  bool full = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(p));
    ++queued_total_;
    full = queue_.size() >= kFlushAt;
  }
  if (full) flusher_cv_.notify_one();
}

void AuditTrail::RecordThen(std::string_view kind, json::object fields,
                            std::function<void(absl::Status)> then) {
  if (!enabled()) return then(absl::OkStatus());
  auto p = std::make_shared<Pending>();
  p->event = audit::Event{std::string(kind), clock_.Now(), std::move(fields)};
  if (absl::Status s = audit::CheckEvent(p->event); !s.ok()) return then(std::move(s));
  p->then = std::move(then);
  Lock lock(mu_);
  queue_.push_back(std::move(p));
  ++queued_total_;
  ++urgent_;
  // No hand-off when no append is under way: this thread appends, and a release's answer leaves
  // from the thread that built it. Otherwise the append under way ends by waking the writer for
  // this record (WriteQueued), unless another caller takes it first.
  if (!writing_) WriteQueued(lock);
}

void AuditTrail::WriteQueued(Lock& lock) {
  std::vector<std::shared_ptr<Pending>> batch;
  batch.swap(queue_);
  urgent_ = 0;
  writing_ = true;
  lock.unlock();
  absl::Status status = AppendBatch(batch);
  for (const auto& p : batch) {
    if (p->then) {
      p->then(status);
    } else if (!status.ok() && !p->waited) {
      spdlog::error("audit: a {} record was not written: {}", p->event.kind, core::Message(status));
    }
  }
  lock.lock();
  for (const auto& p : batch) {
    p->result = status;
    p->done = true;
  }
  writing_ = false;
  done_total_ += batch.size();
  if (status.ok() && durability_ == store::KeyValueStore::LogDurability::kCommitted) {
    unsynced_ = true;
  }
  if (waiting_ > 0) done_cv_.notify_all();
  // RecordThen records queued meanwhile: the writer takes them next (a Record caller may have
  // been the one appending).
  if (urgent_ > 0) flusher_cv_.notify_one();
}

void AuditTrail::Step(Lock& lock) {
  if (!writing_) {
    WriteQueued(lock);
  } else {
    ++waiting_;
    done_cv_.wait(lock);
    --waiting_;
  }
}

void AuditTrail::Drain(Lock& lock) {
  // Batches complete in the order they were queued, so the records queued before this call are
  // done once as many records are done as had been queued (later ones need not be waited for).
  const uint64_t target = queued_total_;
  while (done_total_ < target) Step(lock);
}

void AuditTrail::FlusherLoop() {
  using SteadyClock = std::chrono::steady_clock;
  Lock lock(mu_);
  SteadyClock::time_point tick = SteadyClock::now() + sync_interval_;
  for (;;) {
    flusher_cv_.wait_until(lock, tick, [&] {
      return stopping_ || queue_.size() >= kFlushAt || (urgent_ > 0 && !writing_);
    });
    // One batch (a Record caller may be appending meanwhile; then it carries the queue), so that
    // the sync below runs every interval even under a load that never empties the queue.
    if (!queue_.empty() && !writing_) WriteQueued(lock);
    if (stopping_) Drain(lock);
    if (const auto now = SteadyClock::now(); now >= tick || stopping_) {
      tick = now + sync_interval_;
      if (unsynced_) {
        unsynced_ = false;
        lock.unlock();
        if (absl::Status s = kv_.SyncLog(); !s.ok()) {
          spdlog::error("audit: flushing the trail to disk failed: {}", core::Message(s));
        }
        lock.lock();
      }
    }
    if (stopping_ && queue_.empty() && !writing_) return;
  }
}

absl::Status AuditTrail::AppendBatch(const std::vector<std::shared_ptr<Pending>>& batch) {
  std::vector<audit::Event> events;
  events.reserve(batch.size());
  for (const auto& p : batch) events.push_back(p->event);
  return core::Annotate(
      kv_.AppendLog(
          kLog,
          [&](const std::optional<store::KeyValueStore::LogEntry>& last)
              -> absl::StatusOr<std::vector<std::string>> {
            audit::Head head;
            if (last) {
              CCB_ASSIGN_OR_RETURN(head, audit::HeadOf(last->value));
              if (head.seq != last->seq) {
                return absl::DataLossError(
                    fmt::format("audit: the log's entry {} holds record {}", last->seq, head.seq));
              }
            }
            return audit::ExtendAll(head, events, checkpoint_every_, &*signer_);
          },
          durability_),
      "audit trail");
}

json::object AuditTrail::AttestationFields(std::string_view token) {
  json::object f;
  f["token_id"] = Digest(token);
  auto jwt = crypto::DecodeJwt(token);
  if (!jwt.ok()) return f;
  const json::object& claims = jwt->claims;
  if (auto* jti = claims.if_contains("jti"); jti && jti->is_string()) f["token_id"] = *jti;
  if (auto* exp = claims.if_contains("exp")) f["token_exp"] = *exp;
  if (auto* status = claims.if_contains("ear.status")) f["status"] = *status;
  const json::value* submods = claims.if_contains("submods");
  const json::value* cpu = submods != nullptr && submods->is_object()
                               ? submods->get_object().if_contains("cpu0")
                               : nullptr;
  if (cpu != nullptr && cpu->is_object()) {
    const json::object& a = cpu->get_object();
    if (auto* v = a.if_contains("ear.status")) f["tcb_status"] = *v;
    if (auto* v = a.if_contains("ear.trustworthiness-vector")) f["trust_vector"] = *v;
    if (auto* v = a.if_contains("ear.appraisal-policy-id")) f["policy_id"] = *v;
  }
  return f;
}

absl::StatusOr<std::string> AuditTrail::Export() {
  if (!enabled()) {
    return absl::FailedPreconditionError("audit: the audit trail is disabled ([audit] enabled)");
  }
  {
    Lock lock(mu_);
    Drain(lock);
  }
  constexpr size_t kPage = 1000;
  std::string out;
  audit::Head head;
  int64_t after = 0;
  for (;;) {
    CCB_ASSIGN_OR_RETURN(std::vector<store::KeyValueStore::LogEntry> page,
                         kv_.ReadLog(kLog, after, kPage), "audit export");
    for (const auto& e : page) {
      out += e.value;
      out += '\n';
    }
    if (!page.empty()) {
      CCB_ASSIGN_OR_RETURN(head, audit::HeadOf(page.back().value));
      after = page.back().seq;
    }
    if (page.size() < kPage) break;
  }
  CCB_ASSIGN_OR_RETURN(std::string trailer, audit::ExportTrailer(head, clock_.Now(), *signer_));
  out += trailer;
  out += '\n';
  return out;
}

std::string AuditTrail::Digest(std::string_view bytes) {
  return "sha256:" + core::HexEncode(crypto::Sha256(bytes));
}

}  // namespace ccburst::kbs
