// The one bounds-checked cursor over untrusted bytes (quotes, reports, certificate tables, event
// logs, TPM structures): every read either succeeds and advances, or returns an error naming the
// field, the offset and the shortfall and leaves the cursor where it was; callers never index the
// input directly. Integers are read little-endian (`U32`) or big-endian (`U32Be`, TPM and DER).
// The reader is a view: the bytes must outlive it and every view it hands out. Errors are
// InvalidArgument "<what>: <field> needs <n> bytes but <m> remain at offset <o>".
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/status.h"

namespace ccburst::core {

class ByteReader {
 public:
  ByteReader() = default;
  // `what` prefixes every error ("tdx: quote"). `base` is added to offsets in messages, for a
  // reader over a region that starts `base` bytes into a larger structure.
  explicit ByteReader(std::string_view data, std::string what = "", size_t base = 0)
      : data_(data), what_(std::move(what)), base_(base) {}

  // Bytes consumed so far (relative to the start of this reader, without `base`).
  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  bool empty() const { return offset_ == data_.size(); }
  // The bytes not read yet, without consuming them.
  std::string_view rest() const { return data_.substr(offset_); }
  // The whole input.
  std::string_view data() const { return data_; }
  const std::string& what() const { return what_; }

  // `n` bytes as a view into the input.
  [[nodiscard]] absl::Status View(size_t n, std::string_view field, std::string_view* out) {
    if (n > remaining()) return Short(n, field);
    *out = data_.substr(offset_, n);
    offset_ += n;
    return absl::OkStatus();
  }
  // `n` bytes copied into `out`.
  [[nodiscard]] absl::Status Bytes(size_t n, std::string_view field, std::string* out) {
    std::string_view v;
    if (absl::Status s = View(n, field, &v); !s.ok()) return s;
    out->assign(v);
    return absl::OkStatus();
  }
  // Exactly `out.size()` bytes into `out` (a fixed-size field: GUID, digest, array member).
  [[nodiscard]] absl::Status Read(std::string_view field, std::span<uint8_t> out) {
    std::string_view v;
    if (absl::Status s = View(out.size(), field, &v); !s.ok()) return s;
    if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
    return absl::OkStatus();
  }
  template <size_t N>
  [[nodiscard]] absl::Status Read(std::string_view field, std::array<uint8_t, N>* out) {
    return Read(field, std::span<uint8_t>(*out));
  }

  [[nodiscard]] absl::Status U8(std::string_view field, uint8_t* out) {
    return Int<uint8_t, false>(field, out);
  }
  // Little-endian.
  [[nodiscard]] absl::Status U16(std::string_view field, uint16_t* out) {
    return Int<uint16_t, false>(field, out);
  }
  [[nodiscard]] absl::Status U32(std::string_view field, uint32_t* out) {
    return Int<uint32_t, false>(field, out);
  }
  [[nodiscard]] absl::Status U64(std::string_view field, uint64_t* out) {
    return Int<uint64_t, false>(field, out);
  }
  // Big-endian.
  [[nodiscard]] absl::Status U16Be(std::string_view field, uint16_t* out) {
    return Int<uint16_t, true>(field, out);
  }
  [[nodiscard]] absl::Status U32Be(std::string_view field, uint32_t* out) {
    return Int<uint32_t, true>(field, out);
  }
  [[nodiscard]] absl::Status U64Be(std::string_view field, uint64_t* out) {
    return Int<uint64_t, true>(field, out);
  }

  [[nodiscard]] absl::Status Skip(size_t n, std::string_view field) {
    if (n > remaining()) return Short(n, field);
    offset_ += n;
    return absl::OkStatus();
  }
  // Skips forward to `offset` (a fixed layout's next field); going backwards is a programming
  // error reported as Internal, not past the end as InvalidArgument.
  [[nodiscard]] absl::Status SkipTo(size_t offset, std::string_view field) {
    if (offset < offset_) {
      return absl::InternalError(fmt::format("{}{} at offset {} is behind the cursor at {}",
                                             Prefix(), field, base_ + offset, base_ + offset_));
    }
    return Skip(offset - offset_, field);
  }

  // A reader over the next `n` bytes (consumed here), its errors prefixed by `what` and its
  // offsets counted from the start of this reader's `base`.
  [[nodiscard]] absl::Status Sub(size_t n, std::string_view field, std::string what,
                                 ByteReader* out) {
    size_t start = base_ + offset_;
    std::string_view v;
    if (absl::Status s = View(n, field, &v); !s.ok()) return s;
    *out = ByteReader(v, std::move(what), start);
    return absl::OkStatus();
  }

  // InvalidArgument "<what>: <n> bytes left over at offset <o>" unless everything was read.
  [[nodiscard]] absl::Status ExpectEnd() const {
    if (empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        fmt::format("{}{} bytes left over at offset {}", Prefix(), remaining(), base_ + offset_));
  }

 private:
  template <typename T, bool kBigEndian>
  absl::Status Int(std::string_view field, T* out) {
    static_assert(std::is_unsigned_v<T>);
    if (sizeof(T) > remaining()) return Short(sizeof(T), field);
    const char* p = data_.data() + offset_;
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      size_t at = kBigEndian ? i : sizeof(T) - 1 - i;
      v = (v << 8) | static_cast<uint8_t>(p[at]);
    }
    *out = static_cast<T>(v);
    offset_ += sizeof(T);
    return absl::OkStatus();
  }

  absl::Status Short(size_t n, std::string_view field) const {
    return absl::InvalidArgumentError(fmt::format("{}{} needs {} bytes but {} remain at offset {}",
                                                  Prefix(), field, n, remaining(),
                                                  base_ + offset_));
  }
  std::string Prefix() const { return what_.empty() ? std::string() : what_ + ": "; }

  std::string_view data_;
  std::string what_;
  size_t base_ = 0;
  size_t offset_ = 0;
};

}  // namespace ccburst::core
