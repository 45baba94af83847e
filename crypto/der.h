// Reading DER TLVs (tag, definite length, content) off a core::ByteReader, for the
// vendor-specific certificate extensions that evidence/ interprets (Intel's SGX extension, AMD's
// VCEK extensions), and writing one (the test generators build such extensions). Only
// single-byte tags and definite lengths of up to four length bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_reader.h"
#include "core/status.h"

namespace ccburst::crypto {

// Reads one TLV: its tag into `tag` and its content (a view into the reader's input) into
// `content`. InvalidArgument naming `field` when the header or the content is truncated or the
// length form is not supported; the reader does not advance then.
[[nodiscard]] inline absl::Status ReadDerTlv(core::ByteReader& r, std::string_view field,
                                             uint8_t* tag, std::string_view* content) {
  core::ByteReader probe = r;
  uint8_t t = 0, len0 = 0;
  CCB_RETURN_IF_ERROR(probe.U8(field, &t));
  CCB_RETURN_IF_ERROR(probe.U8(field, &len0));
  size_t len = len0;
  if (len0 & 0x80) {
    size_t n = len0 & 0x7f;
    if (n == 0 || n > 4) {
      return absl::InvalidArgumentError(
          fmt::format("{}: {} has an unsupported DER length form", r.what(), field));
    }
    len = 0;
    for (size_t i = 0; i < n; ++i) {
      uint8_t b = 0;
      CCB_RETURN_IF_ERROR(probe.U8(field, &b));
      len = (len << 8) | b;
    }
  }
  CCB_RETURN_IF_ERROR(probe.View(len, field, content));
  *tag = t;
  r = std::move(probe);
  return absl::OkStatus();
}

// One TLV that spans all of `in` exactly; false otherwise.
inline bool ReadWholeDerTlv(std::string_view in, uint8_t* tag, std::string_view* content) {
  core::ByteReader r(in);
  return ReadDerTlv(r, "tlv", tag, content).ok() && r.empty();
}

// One TLV: `tag`, the DER definite length of `content` (short form below 0x80, else the fewest
// length bytes), then `content`.
inline std::string DerTlv(uint8_t tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    int bytes = 0;
    for (size_t v = n; v != 0; v >>= 8) ++bytes;
    out.push_back(static_cast<char>(0x80 | bytes));
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  out.append(content);
  return out;
}

}  // namespace ccburst::crypto
