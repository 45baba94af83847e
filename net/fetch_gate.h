// The one way outbound collateral fetches (AMD KDS VCEKs and CRLs, Intel PCS/PCCS collateral) are
// made. Anyone who can reach /attest chooses what a verifier asks for (a random CHIP_ID, FMSPC or
// TCB), so a fetch must never be something an attacker can multiply, stall or poison:
//  - fetches run on the gate's own small pool of threads, never under a lock the request threads
//    share; a request waits for the result of its key on a per-key future, at most `wait`, and
//    only `max_waiting` requests may wait at once (the others fail fast), so a hanging source
//    cannot tie up the server's I/O threads (/healthz and other TEEs stay fast);
//  - concurrent requests for one key share one fetch (singleflight);
//  - at most `max_in_flight` fetches run and `max_queued` wait for a slot; new fetches are drawn
//    from a token bucket (`fetches_per_minute`, `burst`);
//  - a NotFound answer is remembered for `negative_ttl`, so an unknown key costs one fetch;
//  - any other failure backs off that key only (doubling from `initial_backoff` up to
//    `max_backoff`), timed from when the answer arrived; a Retry-After raises the back-off of the
//    key it answered, capped at `max_retry_after`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace ccburst::net {

struct FetchGateOptions {
  size_t max_in_flight = 2;
  size_t max_queued = 16;
  double fetches_per_minute = 60;
  double burst = 10;
  std::chrono::seconds negative_ttl{600};
  std::chrono::seconds initial_backoff{5};
  std::chrono::seconds max_backoff{300};
  std::chrono::seconds max_retry_after{300};
  std::chrono::milliseconds wait{5000};
  size_t max_waiting = 1;
  // Time source of the bucket, the negative cache and the back-off; the system clock when null.
  // Waiting for a fetch always uses the steady clock.
  const core::Clock* clock = nullptr;
};

// What one fetch produced: the body, or NotFound (cached for negative_ttl) or another error
// (backs off the key), and the server's Retry-After when it sent one.
struct FetchOutcome {
  absl::StatusOr<std::string> body;
  std::optional<std::chrono::seconds> retry_after;
};

// A Retry-After header value in delta-seconds ("120"); nullopt for anything else (HTTP dates are
// not honoured: the back-off applies).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

// Carries a server's Retry-After on an error through interfaces that return only a Status (a
// status payload); the gate reads it when the FetchOutcome has none.
absl::Status WithRetryAfter(absl::Status status, std::chrono::seconds retry_after);
std::optional<std::chrono::seconds> RetryAfterOf(const absl::Status& status);

class FetchGate {
 public:
  using FetchFn = std::function<FetchOutcome()>;

  // `name` starts every error of the gate's own ("snp kds: ..."). Starts max_in_flight threads.
  FetchGate(std::string name, FetchGateOptions options);
  // Cancels queued fetches and joins the threads (after the running fetches return).
  ~FetchGate();
  FetchGate(const FetchGate&) = delete;
  FetchGate& operator=(const FetchGate&) = delete;

  // The result of `fetch` for `key`: a fetch already running for `key` is joined, otherwise one
  // is queued. Fails fast, without fetching, with NotFound while `key` is negatively cached, and
  // with Unavailable "<name>: backing off <key> until <time>", "<name>: rate limited ...", "<name>:
  // too many fetches pending" or "<name>: too many requests waiting ..." ; a fetch that has not
  // finished after `wait` is Unavailable "<name>: <key> still fetching after <ms> ms" (it carries
  // on, and `fetch` may cache its result).
  absl::StatusOr<std::string> Fetch(const std::string& key, FetchFn fetch);

  // Fetches started since construction (for tests and metrics).
  size_t fetches_started() const;

 private:
  struct Call;
  struct KeyState {
    core::TimePoint not_found_until{};
    std::string not_found_message;
    core::TimePoint retry_at{};
    std::chrono::seconds backoff{0};
    std::shared_ptr<Call> in_flight;
  };

  core::TimePoint Now() const;
  bool TakeToken(core::TimePoint now);
  void Prune(core::TimePoint now);
  void Worker();
  void Finish(const std::string& key, const std::shared_ptr<Call>& call, FetchOutcome outcome);

  std::string name_;
  FetchGateOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::pair<std::string, std::shared_ptr<Call>>> queue_;
  std::map<std::string, KeyState> keys_;
  double tokens_;
  core::TimePoint refilled_{};
  size_t running_ = 0;
  size_t waiting_ = 0;
  size_t started_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ccburst::net
