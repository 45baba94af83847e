// OpenSSL's error queue as text, for the TLS set-up errors of the HTTP server and client.
// Internal to net/.
#pragma once

#include <string>

namespace ccburst::net::internal {

// Drains this thread's OpenSSL error queue into "reason; reason"; "unknown error" when empty.
std::string OpenSslErrors();

}  // namespace ccburst::net::internal
