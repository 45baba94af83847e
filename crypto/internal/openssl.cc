#include "crypto/internal/openssl.h"

#include <fmt/format.h>
#include <openssl/err.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace ccburst::crypto {

std::string OpensslError() {
  unsigned long code = ERR_peek_last_error();
  std::string reason = "unknown error";
  if (code != 0) {
    const char* r = ERR_reason_error_string(code);
    reason = r != nullptr ? r : fmt::format("error {:#x}", code);
  }
  ERR_clear_error();
  return reason;
}

}  // namespace ccburst::crypto

namespace ccburst::crypto::internal {

BioPtr MemBio(std::string_view data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (bio == nullptr) Fatal("BIO_new_mem_buf");
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

void Fatal(const char* what) {
  std::fprintf(stderr, "ccburst crypto: fatal failure in %s: %s\n", what, OpensslError().c_str());
  std::abort();
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_size,
                                          std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = fmt::format("{}: cannot open `{}`: {}", what, path, std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::InvalidArgumentError(msg);
  }
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_size) {
      return absl::InvalidArgumentError(
          fmt::format("{}: file `{}` is larger than {} bytes", what, path, max_size));
    }
  }
  return data;
}

}  // namespace ccburst::crypto::internal
