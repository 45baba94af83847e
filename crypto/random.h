// Cryptographically secure random bytes (nonces, session ids, content keys) from OpenSSL's DRBG.
#pragma once

#include <string>

namespace ccburst::crypto {

// `n` random bytes. A failing system RNG is unrecoverable: the process aborts with a message
// rather than hand out predictable bytes.
std::string RandomBytes(size_t n);

}  // namespace ccburst::crypto
