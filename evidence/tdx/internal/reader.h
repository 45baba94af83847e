// A bounds-checked little-endian cursor over untrusted bytes. Every read either succeeds or
// leaves an error naming the field, the offset and the shortfall; callers never index the input
// directly. The viewed bytes must outlive the reader.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::evidence::tdx::internal {

class Reader {
 public:
  // `what` prefixes every error ("tdx: quote").
  Reader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }

  [[nodiscard]] absl::Status Bytes(size_t n, std::string_view field, std::string* out) {
    if (n > remaining()) return Short(n, field);
    out->assign(data_.substr(offset_, n));
    offset_ += n;
    return absl::OkStatus();
  }
  [[nodiscard]] absl::Status View(size_t n, std::string_view field, std::string_view* out) {
    if (n > remaining()) return Short(n, field);
    *out = data_.substr(offset_, n);
    offset_ += n;
    return absl::OkStatus();
  }
  [[nodiscard]] absl::Status U16(std::string_view field, uint16_t* out) {
    std::string_view b;
    if (absl::Status s = View(2, field, &b); !s.ok()) return s;
    *out = static_cast<uint16_t>(static_cast<uint8_t>(b[0]) | (static_cast<uint8_t>(b[1]) << 8));
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
  [[nodiscard]] absl::Status U64(std::string_view field, uint64_t* out) {
    std::string_view b;
    if (absl::Status s = View(8, field, &b); !s.ok()) return s;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    *out = v;
    return absl::OkStatus();
  }
  [[nodiscard]] absl::Status Skip(size_t n, std::string_view field) {
    if (n > remaining()) return Short(n, field);
    offset_ += n;
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

}  // namespace ccburst::evidence::tdx::internal
