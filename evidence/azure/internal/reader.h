// A bounds-checked little-endian cursor over untrusted bytes for the HCL report. Every read either
// succeeds or returns an error naming the field, the offset and the shortfall; callers never index
// the input directly. The viewed bytes must outlive the reader. Stand-in until core::ByteReader
// lands (then this header goes away).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::evidence::azure::internal {

class Reader {
 public:
  // `what` prefixes every error ("hcl report").
  Reader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }

  [[nodiscard]] absl::Status View(size_t n, std::string_view field, std::string_view* out) {
    if (n > remaining()) return Short(n, field);
    *out = data_.substr(offset_, n);
    offset_ += n;
    return absl::OkStatus();
  }
  [[nodiscard]] absl::Status U32(std::string_view field, uint32_t* out) {
    std::string_view b;
    if (absl::Status s = View(4, field, &b); !s.ok()) return s;
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    *out = v;
    return absl::OkStatus();
  }

 private:
  absl::Status Short(size_t n, std::string_view field) const {
    return absl::InvalidArgumentError(fmt::format(
        "{}: {} needs {} bytes but {} remain at offset {}", what_, field, n, remaining(), offset_));
  }

  std::string_view data_;
  std::string what_;
  size_t offset_ = 0;
};

}  // namespace ccburst::evidence::azure::internal
