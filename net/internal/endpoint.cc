#include "net/internal/endpoint.h"

#include <boost/asio/io_context.hpp>
#include <charconv>

#include "fmt/format.h"

namespace ccburst::net::internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

absl::StatusOr<HostPort> SplitHostPort(std::string_view text, bool port_optional) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("invalid address `{}`: {}", text, why));
  };
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("missing `]`");
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("unexpected text after `]`");
      port_text = rest.substr(1);
      out.has_port = true;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.substr(0, colon).find(':') != std::string_view::npos) {
        return invalid("IPv6 addresses must be written in brackets");
      }
      out.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
      out.has_port = true;
    } else {
      out.host = std::string(text);
    }
  }
  if (out.host.empty()) return invalid("empty host");
  if (!out.has_port) {
    if (!port_optional) return invalid("missing port");
    return out;
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid("bad port");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

absl::StatusOr<tcp::endpoint> ParseListenSocket(const std::string& text) {
  auto host_port = SplitHostPort(text, /*port_optional=*/false);
  if (!host_port.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("http server: {}", core::Message(host_port.status())));
  }
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host_port->host, ec);
  if (!ec) return tcp::endpoint(address, host_port->port);
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host_port->host, std::to_string(host_port->port),
                                  tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("http server: cannot resolve listening socket `{}`: {}", text,
                    ec ? ec.message() : std::string("no addresses")));
  }
  return results.begin()->endpoint();
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address& address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace ccburst::net::internal
