// Host:port parsing and formatting shared by the HTTP server and client. Internal to net/.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::net::internal {

struct HostPort {
  std::string host;  // without IPv6 brackets
  uint16_t port = 0;
  bool has_port = false;
};

// Splits "host:port", "[v6]:port", or (with `port_optional`) "host" / "[v6]". Errors are
// InvalidArgument naming `text` and what is wrong with it.
absl::StatusOr<HostPort> SplitHostPort(std::string_view text, bool port_optional);

// Parses a listening socket ("0.0.0.0:8080", "[::1]:0", "localhost:8080"); host names are
// resolved (first address wins).
absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseListenSocket(const std::string& text);

// "1.2.3.4:80" or "[::1]:80"; empty for an unset endpoint.
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace ccburst::net::internal
