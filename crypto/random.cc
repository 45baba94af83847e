#include "crypto/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "crypto/internal/openssl.h"

namespace ccburst::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1) {
      internal::Fatal("RAND_bytes");
    }
    done += static_cast<size_t>(chunk);
  }
  return out;
}

}  // namespace ccburst::crypto
