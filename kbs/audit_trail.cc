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
  if (!config.enabled) return t;
  if (!config.signing_key) {
    return absl::InvalidArgumentError("audit: enabled without a signing_key");
  }
  CCB_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::LoadPemFile(*config.signing_key),
                       "audit signing_key `{}`", *config.signing_key);
  CCB_ASSIGN_OR_RETURN(audit::Signer signer, audit::Signer::Create(std::move(key)),
                       "audit signing_key `{}`", *config.signing_key);
  t->signer_ = std::move(signer);
  t->writer_ = std::thread([p = t.get()] { p->WriterLoop(); });
  return t;
}

AuditTrail::~AuditTrail() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard lock(batch_mu_);
    stopping_ = true;
  }
  queued_cv_.notify_all();
  writer_.join();
}

void AuditTrail::Enqueue(std::shared_ptr<Pending> p) {
  {
    std::lock_guard lock(batch_mu_);
    queue_.push_back(std::move(p));
  }
  queued_cv_.notify_one();
}

absl::Status AuditTrail::Record(std::string_view kind, json::object fields) {
  if (!enabled()) return absl::OkStatus();
  auto mine = std::make_shared<Pending>();
  mine->event = audit::Event{std::string(kind), clock_.Now(), std::move(fields)};
  mine->waited = true;
  // Checked here so that one bad event cannot fail the batch it would have joined.
  CCB_RETURN_IF_ERROR(audit::CheckEvent(mine->event));
  Enqueue(mine);
  std::unique_lock lock(batch_mu_);
  done_cv_.wait(lock, [&] { return mine->done; });
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
  Enqueue(std::move(p));
}

void AuditTrail::WriterLoop() {
  std::unique_lock lock(batch_mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued is written
    std::vector<std::shared_ptr<Pending>> batch;
    batch.swap(queue_);
    writing_ = true;
    lock.unlock();
    absl::Status status = AppendBatch(batch);
    if (!status.ok()) {
      for (const auto& p : batch) {
        if (!p->waited) {
          spdlog::error("audit: a {} record was not written: {}", p->event.kind,
                        core::Message(status));
        }
      }
    }
    lock.lock();
    for (const auto& p : batch) {
      p->result = status;
      p->done = true;
    }
    writing_ = false;
    done_cv_.notify_all();
  }
}

absl::Status AuditTrail::AppendBatch(const std::vector<std::shared_ptr<Pending>>& batch) {
  std::vector<audit::Event> events;
  events.reserve(batch.size());
  for (const auto& p : batch) events.push_back(p->event);
  return core::Annotate(
      kv_.AppendLog(kLog,
                    [&](const std::optional<store::KeyValueStore::LogEntry>& last)
                        -> absl::StatusOr<std::vector<std::string>> {
                      audit::Head head;
                      if (last) {
                        CCB_ASSIGN_OR_RETURN(head, audit::HeadOf(last->value));
                        if (head.seq != last->seq) {
                          return absl::DataLossError(fmt::format(
                              "audit: the log's entry {} holds record {}", last->seq, head.seq));
                        }
                      }
                      return audit::ExtendAll(head, events, checkpoint_every_, &*signer_);
                    }),
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
    std::unique_lock lock(batch_mu_);
    done_cv_.wait(lock, [&] { return queue_.empty() && !writing_; });
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
