// Text encodings of bytes used on the wire: standard and URL-safe base64 (with or without
// padding) and lowercase hex. Byte buffers are std::string throughout ccburst.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::core {

enum class Base64Alphabet { kStandard, kUrl };

// Encodes `bytes`; `pad` adds '=' padding to a multiple of four characters.
std::string Base64Encode(std::string_view bytes, Base64Alphabet alphabet = Base64Alphabet::kStandard,
                         bool pad = true);
inline std::string Base64UrlEncode(std::string_view bytes) {
  return Base64Encode(bytes, Base64Alphabet::kUrl, false);
}

enum class Base64Padding { kRequired, kForbidden, kOptional };

// Decodes strictly: characters outside the alphabet, bad padding or non-zero trailing bits are
// an InvalidArgument error that says what and where.
absl::StatusOr<std::string> Base64Decode(std::string_view text,
                                         Base64Alphabet alphabet = Base64Alphabet::kStandard,
                                         Base64Padding padding = Base64Padding::kOptional);
inline absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  return Base64Decode(text, Base64Alphabet::kUrl, Base64Padding::kOptional);
}

// Lowercase hex.
std::string HexEncode(std::string_view bytes);
// Accepts upper- and lowercase; odd length or a non-hex character is InvalidArgument.
absl::StatusOr<std::string> HexDecode(std::string_view text);

}  // namespace ccburst::core
