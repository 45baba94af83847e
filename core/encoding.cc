#include "core/encoding.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace ccburst::core {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::array<int8_t, 256> MakeTable(const char* alphabet) {
  std::array<int8_t, 256> t;
  t.fill(-1);
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}

}  // namespace

std::string Base64Encode(std::string_view bytes, Base64Alphabet alphabet, bool pad) {
  const char* a = alphabet == Base64Alphabet::kUrl ? kUrl : kStd;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    out += a[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text, Base64Alphabet alphabet,
                                         Base64Padding padding) {
  static const auto kStdTable = MakeTable(kStd);
  static const auto kUrlTable = MakeTable(kUrl);
  const auto& table = alphabet == Base64Alphabet::kUrl ? kUrlTable : kStdTable;
  const char* name = alphabet == Base64Alphabet::kUrl ? "base64url" : "base64";

  size_t data_len = text.size();
  size_t pad_count = 0;
  while (data_len > 0 && text[data_len - 1] == '=' && pad_count < 2) {
    --data_len;
    ++pad_count;
  }
  if (pad_count > 0 && padding == Base64Padding::kForbidden) {
    return absl::InvalidArgumentError(fmt::format("{}: padding is not allowed", name));
  }
  if (pad_count > 0 && text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: padded input length {} is not a multiple of 4", name, text.size()));
  }
  if (padding == Base64Padding::kRequired && text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: length {} is not a multiple of 4", name, text.size()));
  }
  if (data_len % 4 == 1) {
    return absl::InvalidArgumentError(
        fmt::format("{}: truncated input (length {})", name, data_len));
  }
  // Whole groups of four characters go straight into a pre-sized buffer; the tail (2 or 3
  // characters) and the error path are handled one character at a time.
  std::string out(data_len / 4 * 3 + (data_len % 4 == 0 ? 0 : data_len % 4 - 1), '\0');
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  auto* o = reinterpret_cast<uint8_t*>(out.data());
  size_t groups = data_len / 4;
  int32_t bad = 0;
  for (size_t g = 0; g < groups; ++g, in += 4, o += 3) {
    int32_t a = table[in[0]], b = table[in[1]], c = table[in[2]], d = table[in[3]];
    bad |= a | b | c | d;
    uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                 (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    o[0] = static_cast<uint8_t>(v >> 16);
    o[1] = static_cast<uint8_t>(v >> 8);
    o[2] = static_cast<uint8_t>(v);
  }
  auto invalid_at = [&](size_t from) -> absl::Status {
    for (size_t i = from; i < data_len; ++i) {
      if (table[static_cast<uint8_t>(text[i])] < 0) {
        return absl::InvalidArgumentError(
            fmt::format("{}: invalid character at offset {}", name, i));
      }
    }
    return absl::OkStatus();
  };
  if (bad < 0) return invalid_at(0);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = groups * 4; i < data_len; ++i) {
    int8_t v = table[static_cast<uint8_t>(text[i])];
    if (v < 0) return invalid_at(i);
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<uint8_t>((acc >> bits) & 0xff);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError(fmt::format("{}: non-zero trailing bits", name));
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

absl::StatusOr<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return absl::InvalidArgumentError(fmt::format("hex: odd length {}", text.size()));
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          fmt::format("hex: invalid character at offset {}", hi < 0 ? i : i + 1));
    }
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

}  // namespace ccburst::core
