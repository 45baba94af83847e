// Making request-derived text safe to log. Everything a client sends (a `tee` name, a path, a
// header, an error detail that quotes them) goes through LogSafe before it reaches a log line, so
// a client can neither forge a line (no raw CR, LF or other control byte survives) nor flood the
// log (every value is truncated). LogRateLimiter then caps how often one identical line is
// written. Pure: no I/O, the caller passes the time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace ccburst::core {

// `value` with every byte outside printable ASCII (and `\`) escaped as `\n`, `\r`, `\t` or
// `\xNN`, cut after `max_bytes` input bytes with a `...(N bytes)` marker giving the full size.
std::string LogSafe(std::string_view value, size_t max_bytes = 256);

// Admits at most `burst` lines with one key per `window`; the first line admitted after a window
// in which lines were dropped carries how many were. Thread-safe. Holds at most `max_keys` keys
// (beyond that the oldest window is forgotten wholesale, so memory stays bounded whatever the
// keys an attacker makes us see).
class LogRateLimiter {
 public:
  explicit LogRateLimiter(size_t burst = 5, std::chrono::seconds window = std::chrono::seconds(10),
                          size_t max_keys = 4096)
      : burst_(burst), window_(window), max_keys_(max_keys) {}

  struct Verdict {
    bool log = false;
    uint64_t suppressed = 0;  // lines with this key dropped since the last one logged
  };
  Verdict Admit(std::string_view key, std::chrono::steady_clock::time_point now);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point window_start;
    size_t count = 0;
    uint64_t suppressed = 0;
  };
  const size_t burst_;
  const std::chrono::seconds window_;
  const size_t max_keys_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace ccburst::core
