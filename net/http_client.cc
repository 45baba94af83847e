#include "net/http_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>

#include "crypto/openssl.h"
#include "fmt/format.h"
#include "net/internal/endpoint.h"

namespace ccburst::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using beast::error_code;

constexpr uint32_t kResponseHeaderLimit = 64 * 1024;
constexpr size_t kReadBufferBytes = 16 * 1024;

struct SslSessionFree {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string LowerFirst(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && (s.size() < 2 || !(s[1] >= 'A' && s[1] <= 'Z'))) {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

bool ValidHeader(std::string_view name, std::string_view value) {
  constexpr std::string_view kBad("\r\n\0", 3);
  return !name.empty() && name.find_first_of(kBad) == std::string_view::npos &&
         name.find(':') == std::string_view::npos &&
         value.find_first_of(kBad) == std::string_view::npos;
}

}  // namespace

std::optional<std::string_view> HttpClientResponse::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

struct HttpClient::Impl {
  HttpClientOptions options;
  bool tls = false;
  std::string host;         // without brackets
  bool host_is_ip = false;  // IP literal: no SNI, certificate checked against the IP
  uint16_t port = 0;
  std::string prefix;       // path prefix without trailing '/'
  std::string origin;       // "https://host:port", for messages
  std::string host_header;  // value of the Host header

  asio::io_context ioc{1};
  std::unique_ptr<asio::ssl::context> ssl;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool connected = false;
  bool session_saved = false;
  std::unique_ptr<SSL_SESSION, SslSessionFree> session;
  uint64_t opened = 0;
  std::map<std::string, std::string, std::less<>> cookies;

  beast::tcp_stream& Lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs one asynchronous operation to completion on this thread; the tcp_stream deadline bounds
  // it (a timeout closes the socket and completes the operation with beast::error::timeout).
  template <class Initiate>
  error_code Run(Initiate&& initiate) {
    error_code result = asio::error::would_block;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  // Calls `f` with the stream requests travel on (TLS or plain).
  template <class F>
  auto WithStream(F&& f) {
    if (secure) return f(*secure);
    return f(*plain);
  }

  std::string Reason(const error_code& ec) const {
    if (ec == beast::error::timeout) {
      return fmt::format("timed out after {} ms", options.timeout.count());
    }
    return LowerFirst(ec.message());
  }

  void Close() {
    if (secure || plain) {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      Lowest().close();
    }
    secure.reset();
    plain.reset();
    buffer.clear();
    connected = false;
  }

  // Opens a fresh connection (TCP + TLS handshake); the error is the reason only.
  absl::Status Connect(std::chrono::steady_clock::time_point deadline) {
    Close();
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
      endpoints.emplace_back(address, port);
    } else {
      tcp::resolver resolver(ioc);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec) {
        return absl::UnavailableError(
            fmt::format("cannot resolve host `{}`: {}", host, LowerFirst(ec.message())));
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    // Beast sizes each read by the buffer's spare capacity (at least 512 bytes).
    buffer.reserve(kReadBufferBytes);
    if (tls) {
      secure.emplace(ioc, *ssl);
    } else {
      plain.emplace(ioc);
    }
    Lowest().expires_at(deadline);
    ec = Run([&](auto handler) { Lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) {
      Close();
      return absl::UnavailableError(fmt::format("connect failed: {}", Reason(ec)));
    }
    ++opened;
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (tls) {
      SSL* ssl_handle = secure->native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      if (host_is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
      } else {
        SSL_set_tlsext_host_name(ssl_handle, host.c_str());
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      }
      if (session) SSL_set_session(ssl_handle, session.get());
      ec = Run([&](auto handler) {
        secure->async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec) {
        long verify = SSL_get_verify_result(ssl_handle);
        std::string reason = verify != X509_V_OK
                                 ? fmt::format("certificate verify failed: {}",
                                               X509_verify_cert_error_string(verify))
                                 : Reason(ec);
        Close();
        // A session that no longer works must not be offered again.
        session.reset();
        return absl::UnavailableError(fmt::format("tls handshake failed: {}", reason));
      }
      session_saved = false;
    }
    connected = true;
    return absl::OkStatus();
  }

  void StoreCookies(const HttpHeaders& headers) {
    for (const auto& [name, value] : headers) {
      if (!EqualsIgnoreCase(name, "set-cookie")) continue;
      std::string_view rest = value;
      size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      std::string cookie_name(Trim(pair.substr(0, eq)));
      std::string_view cookie_value = Trim(pair.substr(eq + 1));
      if (cookie_name.empty()) continue;
      bool remove = false;
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!rest.empty()) {
        size_t next = rest.find(';');
        std::string_view attribute = Trim(rest.substr(0, next));
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
        size_t attr_eq = attribute.find('=');
        if (attr_eq == std::string_view::npos) continue;
        if (!EqualsIgnoreCase(Trim(attribute.substr(0, attr_eq)), "max-age")) continue;
        std::string_view seconds = Trim(attribute.substr(attr_eq + 1));
        if (!seconds.empty() && (seconds.front() == '-' || seconds == "0")) remove = true;
      }
      if (remove) {
        cookies.erase(cookie_name);
      } else {
        cookies.insert_or_assign(std::move(cookie_name), std::string(cookie_value));
      }
    }
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() = default;

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  auto impl = std::make_unique<Impl>();
  const std::string& url = options.base_url;
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("http client: invalid base url `{}`: {}", url, why));
  };
  std::string_view rest = url;
  std::string_view scheme;
  if (rest.substr(0, 7) == "http://") {
    scheme = "http";
    rest.remove_prefix(7);
  } else if (rest.substr(0, 8) == "https://") {
    scheme = "https";
    impl->tls = true;
    rest.remove_prefix(8);
  } else {
    return invalid("scheme must be http:// or https://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalid("query and fragment are not allowed");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view prefix =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) return invalid("user info is not allowed");
  auto host_port = internal::SplitHostPort(authority, /*port_optional=*/true);
  if (!host_port.ok()) return invalid(core::Message(host_port.status()));
  const uint16_t default_port = impl->tls ? 443 : 80;
  impl->host = host_port->host;
  impl->port = host_port->has_port ? host_port->port : default_port;
  if (impl->port == 0) return invalid("port 0");
  impl->prefix = std::string(prefix);
  error_code ec;
  asio::ip::address address = asio::ip::make_address(impl->host, ec);
  impl->host_is_ip = !ec;
  std::string host_in_url =
      (impl->host_is_ip && address.is_v6()) ? fmt::format("[{}]", impl->host) : impl->host;
  impl->host_header =
      impl->port == default_port ? host_in_url : fmt::format("{}:{}", host_in_url, impl->port);
  impl->origin = fmt::format("{}://{}", scheme, impl->host_header);

  if (impl->tls) {
    impl->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* ctx = impl->ssl->native_handle();
    ERR_clear_error();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (options.ca_certificate_pem) {
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      std::unique_ptr<BIO, decltype(&BIO_free)> bio(
          BIO_new_mem_buf(options.ca_certificate_pem->data(),
                          static_cast<int>(options.ca_certificate_pem->size())),
          BIO_free);
      int loaded = 0;
      while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        int added = X509_STORE_add_cert(store, cert);
        X509_free(cert);
        if (added != 1) break;
        ++loaded;
      }
      ERR_clear_error();  // the end of the PEM text is reported as an error
      if (loaded == 0) {
        return absl::InvalidArgumentError(
            "http client: the ca certificate text holds no PEM certificate");
      }
    } else if (options.ca_certificate_file) {
      if (SSL_CTX_load_verify_locations(ctx, options.ca_certificate_file->c_str(), nullptr) != 1) {
        return absl::InvalidArgumentError(
            fmt::format("http client: cannot load ca certificates `{}`: {}",
                        *options.ca_certificate_file, crypto::OpensslError()));
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return absl::InvalidArgumentError(fmt::format(
          "http client: cannot load the system ca certificates: {}", crypto::OpensslError()));
    }
  }
  impl->options = std::move(options);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

absl::StatusOr<HttpClientResponse> HttpClient::Send(std::string_view method, std::string_view path,
                                                    std::string_view body,
                                                    const HttpHeaders& headers) {
  Impl& s = *impl_;
  std::string target = s.prefix;
  target.append(path);
  if (target.empty() || target.front() == '?') target.insert(0, "/");
  auto fail = [&](std::string_view reason) {
    return absl::UnavailableError(
        fmt::format("http client: {} {}{}: {}", method, s.origin, target, reason));
  };
  if (method.empty() || method.find_first_of(" \r\n\t") != std::string_view::npos) {
    return absl::InvalidArgumentError(fmt::format("http client: invalid method `{}`", method));
  }
  if (target.find_first_of(" \r\n\t") != std::string_view::npos || target.front() != '/') {
    return absl::InvalidArgumentError(fmt::format("http client: invalid path `{}`", path));
  }

  http::request<http::string_body> request;
  request.method_string(beast::string_view(method.data(), method.size()));
  request.target(beast::string_view(target.data(), target.size()));
  request.version(11);
  request.set(http::field::host, s.host_header);
  bool has_cookie_header = false;
  for (const auto& [name, value] : headers) {
    if (!ValidHeader(name, value)) {
      return absl::InvalidArgumentError(fmt::format("http client: invalid header `{}`", name));
    }
    if (EqualsIgnoreCase(name, "cookie")) has_cookie_header = true;
    if (EqualsIgnoreCase(name, "host")) {
      request.set(http::field::host, value);
      continue;
    }
    request.insert(name, value);
  }
  if (!has_cookie_header && !s.cookies.empty()) {
    std::string cookie;
    for (const auto& [name, value] : s.cookies) {
      if (!cookie.empty()) cookie += "; ";
      cookie += name;
      cookie += '=';
      cookie += value;
    }
    request.set(http::field::cookie, cookie);
  }
  request.body().assign(body.data(), body.size());
  request.prepare_payload();
  const bool head = request.method() == http::verb::head;

  const auto deadline = std::chrono::steady_clock::now() + s.options.timeout;
  std::optional<http::response_parser<http::string_body>> parser;
  for (int attempt = 0;; ++attempt) {
    const bool reused = s.connected;
    if (!s.connected) {
      absl::Status status = s.Connect(deadline);
      if (!status.ok()) return fail(core::Message(status));
    }
    s.Lowest().expires_at(deadline);
    error_code ec = s.Run([&](auto handler) {
      s.WithStream([&](auto& stream) { http::async_write(stream, request, std::move(handler)); });
    });
    if (ec) {
      s.Close();
      if (reused && attempt == 0 && ec != beast::error::timeout) continue;
      return fail(fmt::format("sending request failed: {}", s.Reason(ec)));
    }
    parser.emplace();
    parser->header_limit(kResponseHeaderLimit);
    parser->body_limit(static_cast<uint64_t>(s.options.max_response_bytes));
    if (head) parser->skip(true);
    ec = s.Run([&](auto handler) {
      s.WithStream(
          [&](auto& stream) { http::async_read(stream, s.buffer, *parser, std::move(handler)); });
    });
    if (ec) {
      const bool nothing_received = !parser->got_some() && s.buffer.size() == 0;
      s.Close();
      if (reused && attempt == 0 && nothing_received && ec != beast::error::timeout) continue;
      if (ec == http::error::body_limit) {
        return fail(fmt::format("response body exceeds the limit of {} bytes",
                                s.options.max_response_bytes));
      }
      return fail(fmt::format("reading response failed: {}", s.Reason(ec)));
    }
    break;
  }

  http::response<http::string_body> message = parser->release();
  HttpClientResponse response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response.headers.emplace_back(
        std::string(field.name_string().data(), field.name_string().size()),
        std::string(field.value().data(), field.value().size()));
  }
  response.body = std::move(message.body());
  s.StoreCookies(response.headers);

  if (s.secure && !s.session_saved) {
    // TLS 1.3 tickets arrive after the handshake, so the session is taken after the first
    // response; a reconnect after a keep-alive close then resumes instead of a full handshake.
    SSL_SESSION* session = SSL_get1_session(s.secure->native_handle());
    if (session != nullptr && SSL_SESSION_is_resumable(session)) {
      s.session.reset(session);
    } else if (session != nullptr) {
      SSL_SESSION_free(session);
    }
    s.session_saved = true;
  }
  if (!message.keep_alive()) s.Close();
  return response;
}

void HttpClient::ClearCookies() { impl_->cookies.clear(); }

std::optional<std::string> HttpClient::GetCookie(std::string_view name) const {
  auto it = impl_->cookies.find(name);
  if (it == impl_->cookies.end()) return std::nullopt;
  return it->second;
}

void HttpClient::SetCookie(std::string name, std::string value) {
  impl_->cookies.insert_or_assign(std::move(name), std::move(value));
}

void HttpClient::Disconnect() { impl_->Close(); }

uint64_t HttpClient::connections_opened() const { return impl_->opened; }

}  // namespace ccburst::net
