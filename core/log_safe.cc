#include "core/log_safe.h"

#include <fmt/format.h>

namespace ccburst::core {

std::string LogSafe(std::string_view value, size_t max_bytes) {
  std::string_view shown = value.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 16);
  for (unsigned char c : shown) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  if (shown.size() < value.size()) out += fmt::format("...({} bytes)", value.size());
  return out;
}

LogRateLimiter::Verdict LogRateLimiter::Admit(std::string_view key,
                                              std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  std::string owned(key);
  auto it = entries_.find(owned);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) {
      // Forget every key whose window is over; if none is, forget them all.
      absl::erase_if(entries_,
                     [&](const auto& e) { return now - e.second.window_start >= window_; });
      if (entries_.size() >= max_keys_) entries_.clear();
    }
    it = entries_.emplace(std::move(owned), Entry{now, 0, 0}).first;
  }
  Entry& e = it->second;
  if (now - e.window_start >= window_) {
    e.window_start = now;
    e.count = 0;
  }
  if (e.count >= burst_) {
    ++e.suppressed;
    return {};
  }
  ++e.count;
  Verdict v{true, e.suppressed};
  e.suppressed = 0;
  return v;
}

}  // namespace ccburst::core
