#include "net/url.h"

#include <fmt/format.h>

namespace ccburst::net {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(std::string_view text, PercentForm form) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && form == PercentForm::kQuery) {
      out.push_back(' ');
      continue;
    }
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (text.size() - i < 3) {
      return absl::InvalidArgumentError(fmt::format("percent escape at offset {} is truncated", i));
    }
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          fmt::format("percent escape at offset {} is not hexadecimal", i));
    }
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  if (query.empty()) return out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view part = query.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    CCB_ASSIGN_OR_RETURN(std::string name, PercentDecode(part.substr(0, eq), PercentForm::kQuery),
                         "query parameter `{}`", part);
    std::string value;
    if (eq != std::string_view::npos) {
      CCB_ASSIGN_OR_RETURN(value, PercentDecode(part.substr(eq + 1), PercentForm::kQuery),
                           "query parameter `{}`", part);
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
}

absl::StatusOr<std::string> NormalizePath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError("path does not start with `/`");
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return absl::InvalidArgumentError("path holds `?` or `#`");
  }
  std::vector<std::string> out;
  const std::vector<std::string_view> segments = SplitPath(path.substr(1));
  for (size_t i = 0; i < segments.size(); ++i) {
    CCB_ASSIGN_OR_RETURN(std::string segment, PercentDecode(segments[i]), "path segment {}", i);
    for (unsigned char c : segment) {
      if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
        return absl::InvalidArgumentError(
            fmt::format("path segment {} encodes a `/`, `\\` or a control byte", i));
      }
    }
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(fmt::format("path segment {} is a dot segment", i));
    }
    out.push_back(std::move(segment));
  }
  std::string normalized;
  for (const auto& s : out) {
    normalized += '/';
    normalized += s;
  }
  return normalized.empty() ? std::string("/") : normalized;
}

}  // namespace ccburst::net
