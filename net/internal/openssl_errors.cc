#include "net/internal/openssl_errors.h"

#include <openssl/err.h>

namespace ccburst::net::internal {

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace ccburst::net::internal
