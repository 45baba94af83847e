#include "net/fetch_gate.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

namespace ccburst::net {

struct FetchGate::Call {
  FetchFn fetch;
  std::promise<absl::StatusOr<std::string>> promise;
  std::shared_future<absl::StatusOr<std::string>> result = promise.get_future().share();
};

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  if (value.empty() || value.size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return std::chrono::seconds(v);
}

namespace {
constexpr const char kRetryAfterPayload[] = "type.ccburst/net.RetryAfter";
}  // namespace

absl::Status WithRetryAfter(absl::Status status, std::chrono::seconds retry_after) {
  status.SetPayload(kRetryAfterPayload, absl::Cord(std::to_string(retry_after.count())));
  return status;
}

std::optional<std::chrono::seconds> RetryAfterOf(const absl::Status& status) {
  auto p = status.GetPayload(kRetryAfterPayload);
  if (!p) return std::nullopt;
  std::string text(*p);
  return ParseRetryAfter(text);
}

FetchGate::FetchGate(std::string name, FetchGateOptions options)
    : name_(std::move(name)), options_(options), tokens_(std::max(1.0, options.burst)) {
  options_.max_in_flight = std::max<size_t>(1, options_.max_in_flight);
  refilled_ = Now();
  for (size_t i = 0; i < options_.max_in_flight; ++i) threads_.emplace_back([this] { Worker(); });
}

FetchGate::~FetchGate() {
  std::deque<std::pair<std::string, std::shared_ptr<Call>>> cancelled;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cancelled.swap(queue_);
  }
  work_.notify_all();
  for (auto& [key, call] : cancelled) {
    call->promise.set_value(absl::CancelledError(fmt::format("{}: shutting down", name_)));
  }
  for (std::thread& t : threads_) t.join();
}

core::TimePoint FetchGate::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : core::SystemClock::Get().Now();
}

bool FetchGate::TakeToken(core::TimePoint now) {
  double burst = std::max(1.0, options_.burst);
  if (now > refilled_) {
    double minutes = std::chrono::duration<double, std::ratio<60>>(now - refilled_).count();
    tokens_ = std::min(burst, tokens_ + minutes * options_.fetches_per_minute);
    refilled_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

// Drops states that no longer hold anything (the map is bounded by the bucket: a key only gets a
// state by being fetched).
void FetchGate::Prune(core::TimePoint now) {
  if (keys_.size() < 1024) return;
  std::erase_if(keys_, [now](const auto& kv) {
    const KeyState& s = kv.second;
    return s.in_flight == nullptr && s.not_found_until <= now && s.retry_at <= now;
  });
}

absl::StatusOr<std::string> FetchGate::Fetch(const std::string& key, FetchFn fetch) {
  std::shared_ptr<Call> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    core::TimePoint now = Now();
    Prune(now);
    auto it = keys_.find(key);
    if (it != keys_.end() && it->second.in_flight != nullptr) {
      call = it->second.in_flight;
    } else {
      if (it != keys_.end() && now < it->second.not_found_until) {
        return absl::NotFoundError(fmt::format("{} (remembered until {})",
                                               it->second.not_found_message,
                                               core::FormatRfc3339(it->second.not_found_until)));
      }
      if (it != keys_.end() && now < it->second.retry_at) {
        return absl::UnavailableError(fmt::format("{}: backing off {} until {}", name_, key,
                                                  core::FormatRfc3339(it->second.retry_at)));
      }
      if (queue_.size() >= options_.max_queued) {
        return absl::UnavailableError(
            fmt::format("{}: too many fetches pending ({} queued)", name_, queue_.size()));
      }
      if (!TakeToken(now)) {
        return absl::UnavailableError(
            fmt::format("{}: rate limited: more than {} new fetches a minute", name_,
                        options_.fetches_per_minute));
      }
      call = std::make_shared<Call>();
      call->fetch = std::move(fetch);
      keys_[key].in_flight = call;
      queue_.emplace_back(key, call);
      ++started_;
      work_.notify_one();
    }
    if (waiting_ >= options_.max_waiting) {
      return absl::UnavailableError(fmt::format(
          "{}: too many requests waiting for fetches; {} is being fetched, retry", name_, key));
    }
    ++waiting_;
  }
  bool ready = call->result.wait_for(options_.wait) == std::future_status::ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --waiting_;
  }
  if (!ready) {
    return absl::UnavailableError(
        fmt::format("{}: {} still fetching after {} ms", name_, key, options_.wait.count()));
  }
  return call->result.get();
}

void FetchGate::Worker() {
  for (;;) {
    std::pair<std::string, std::shared_ptr<Call>> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    FetchOutcome outcome = job.second->fetch();
    Finish(job.first, job.second, std::move(outcome));
  }
}

void FetchGate::Finish(const std::string& key, const std::shared_ptr<Call>& call,
                       FetchOutcome outcome) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    // Timed from the answer, not from when the request was queued.
    core::TimePoint now = Now();
    KeyState& s = keys_[key];
    s.in_flight = nullptr;
    if (outcome.body.ok()) {
      keys_.erase(key);
    } else if (outcome.body.status().code() == absl::StatusCode::kNotFound) {
      s.not_found_until = now + options_.negative_ttl;
      s.not_found_message = std::string(core::Message(outcome.body.status()));
    } else {
      s.backoff = s.backoff.count() == 0 ? options_.initial_backoff
                                         : std::min(s.backoff * 2, options_.max_backoff);
      std::chrono::seconds wait = s.backoff;
      std::optional<std::chrono::seconds> retry_after = outcome.retry_after;
      if (!retry_after) retry_after = RetryAfterOf(outcome.body.status());
      if (retry_after) {
        wait = std::max(wait, std::min(*retry_after, options_.max_retry_after));
      }
      s.retry_at = now + wait;
    }
  }
  call->promise.set_value(std::move(outcome.body));
}

size_t FetchGate::fetches_started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

}  // namespace ccburst::net
