#include "net/http_server.h"

#include <absl/strings/match.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

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

// After a transport-level error response the rest of the request is read and discarded (so the
// client, which may still be sending the body, gets to read the response instead of a reset), up
// to this many bytes and this long.
constexpr uint64_t kDrainLimitBytes = 64 * 1024 * 1024;
constexpr std::chrono::seconds kDrainTimeout{5};
constexpr size_t kDrainChunkBytes = 16 * 1024;
constexpr size_t kReadBufferBytes = 16 * 1024;
constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// Read-only configuration shared by the listeners and every connection.
struct Shared {
  HttpHandler handler;
  std::function<HttpResponse(int status, std::string detail)> error_response;
  uint64_t max_body_bytes = 0;
  uint32_t max_header_bytes = 0;
  std::chrono::steady_clock::duration idle_timeout;
  std::chrono::steady_clock::duration first_request_timeout;
  std::shared_ptr<asio::ssl::context> tls;  // null for plain HTTP
  std::atomic<uint64_t> accepted{0};
  std::atomic<size_t> open{0};
  size_t max_connections = 0;

  // Connections with no request in flight (waiting for a request's headers or a TLS handshake),
  // by when they started waiting: the oldest is closed first when a new connection needs room.
  std::mutex idle_mu;
  std::map<uint64_t, std::function<void()>> idle;  // sequence -> closes that connection
  uint64_t idle_seq = 0;

  uint64_t RegisterIdle(std::function<void()> close) {
    std::lock_guard lock(idle_mu);
    idle.emplace(++idle_seq, std::move(close));
    return idle_seq;
  }
  void UnregisterIdle(uint64_t seq) {
    if (seq == 0) return;
    std::lock_guard lock(idle_mu);
    idle.erase(seq);
  }
  bool CloseOldestIdle() {
    std::function<void()> close;
    {
      std::lock_guard lock(idle_mu);
      if (idle.empty()) return false;
      close = std::move(idle.begin()->second);
      idle.erase(idle.begin());
    }
    close();
    return true;
  }

  // Connections whose response is held (HttpResponse::hold), kept alive here until it is released
  // or the server stops. `running` turns false, under held_mu, before the I/O threads stop, so a
  // release that comes later (from another thread) posts nothing to a stopped io_context.
  std::mutex held_mu;
  bool running = true;
  std::map<uint64_t, std::shared_ptr<void>> held;
  uint64_t held_seq = 0;

  uint64_t Keep(std::shared_ptr<void> connection) {
    std::lock_guard lock(held_mu);
    held.emplace(++held_seq, std::move(connection));
    return held_seq;
  }
  // The connection kept as `seq`, removed from the map; null once released or stopped.
  std::shared_ptr<void> Take(uint64_t seq) {
    std::lock_guard lock(held_mu);
    auto it = held.find(seq);
    if (!running || it == held.end()) return nullptr;
    std::shared_ptr<void> c = std::move(it->second);
    held.erase(it);
    return c;
  }
  // Stops releases; the held connections are returned to be destroyed once the I/O threads have
  // stopped (their sockets close).
  std::map<uint64_t, std::shared_ptr<void>> StopHolding() {
    std::lock_guard lock(held_mu);
    running = false;
    return std::exchange(held, {});
  }

  HttpResponse ErrorResponse(int status, std::string detail) const {
    if (error_response) {
      try {
        return error_response(status, std::move(detail));
      } catch (...) {
        // Fall through to the plain default.
      }
    }
    HttpResponse response;
    response.status = status;
    response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    response.body = std::move(detail);
    response.body += '\n';
    return response;
  }
};

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::need_more && ec != http::error::need_buffer;
}

bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c > 32 && c < 127 && c != ':' && c != '(' && c != ')' && c != ',' && c != ';' &&
           c != '"' && c != '/' && c != '[' && c != ']' && c != '\\' && c != '{' && c != '}';
  });
}

bool ValidHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// RFC 9112 6.1/6.3 framing checks Beast leaves to us. Beast frames a request as chunked only when
// the last coding of a Transfer-Encoding field is `chunked`, and otherwise ignores the field and
// reads no body, so `chunked, identity`, `gzip` or `xchunked` with `Content-Length: 0` left the
// body to be parsed as the next request (a smuggling primitive behind a proxy that frames
// differently). We decode no coding but chunked, so a request with Transfer-Encoding is accepted
// only when it is HTTP/1.1, has exactly one Transfer-Encoding field whose only coding is
// `chunked`, and no Content-Length. Returns the refusal, or nothing.
std::optional<std::string> CheckFraming(const http::request_parser<http::string_body>& parser) {
  const auto& message = parser.get();
  size_t te_fields = 0;
  size_t cl_fields = 0;
  std::string_view te_value;
  for (const auto& field : message) {
    if (field.name() == http::field::transfer_encoding) {
      ++te_fields;
      te_value = std::string_view(field.value().data(), field.value().size());
    } else if (field.name() == http::field::content_length) {
      ++cl_fields;
    }
  }
  if (te_fields == 0) return std::nullopt;
  if (message.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
  if (cl_fields > 0) return "both Transfer-Encoding and Content-Length";
  if (te_fields > 1) return "more than one Transfer-Encoding field";
  while (!te_value.empty() && (te_value.front() == ' ' || te_value.front() == '\t')) {
    te_value.remove_prefix(1);
  }
  while (!te_value.empty() && (te_value.back() == ' ' || te_value.back() == '\t')) {
    te_value.remove_suffix(1);
  }
  if (!EqualsIgnoreCase(te_value, "chunked")) {
    return "Transfer-Encoding other than `chunked` (the only coding this server decodes, and the "
           "final coding a request must have)";
  }
  return std::nullopt;
}

// One client connection: reads requests in order, runs the handler, writes responses, until the
// peer closes, an error occurs, or it idles out. All of its work runs on the socket's strand.
template <bool kTls>
class Connection : public std::enable_shared_from_this<Connection<kTls>> {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)), stream_(MakeStream(std::move(socket), *shared_)) {
    // Beast sizes each read by the buffer's spare capacity (at least 512 bytes); a small buffer
    // would take a body in dozens of reads.
    buffer_.reserve(kReadBufferBytes);
  }

  ~Connection() {
    shared_->UnregisterIdle(idle_seq_);
    shared_->open.fetch_sub(1, std::memory_order_relaxed);
  }

  void Start() {
    error_code ec;
    auto& socket = Lowest().socket();
    remote_ = internal::FormatEndpoint(socket.remote_endpoint(ec));
    socket.set_option(tcp::no_delay(true), ec);
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

 private:
  static Stream MakeStream(tcp::socket&& socket, const Shared& shared) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *shared.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // Marks this connection as having no request in flight, so that a new connection at the limit
  // may close it.
  void EnterIdle() {
    shared_->UnregisterIdle(idle_seq_);
    std::weak_ptr<Connection> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    idle_seq_ = shared_->RegisterIdle([weak, executor] {
      asio::dispatch(executor, [weak] {
        if (auto self = weak.lock()) {
          self->idle_seq_ = 0;  // already removed from the registry
          self->Close();
        }
      });
    });
  }
  void LeaveIdle() {
    shared_->UnregisterIdle(idle_seq_);
    idle_seq_ = 0;
  }
  std::chrono::steady_clock::duration HeaderTimeout() const {
    return requests_ == 0 ? shared_->first_request_timeout : shared_->idle_timeout;
  }

  template <class F>
  auto Bind(F f) {
    return beast::bind_front_handler(f, this->shared_from_this());
  }

  void Begin() {
    if constexpr (kTls) {
      EnterIdle();
      Lowest().expires_after(shared_->first_request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, Bind(&Connection::OnHandshake));
    } else {
      ReadRequest();
    }
  }

  void OnHandshake(error_code ec) {
    // Failed handshakes (plaintext on a TLS port, bad client hello, no shared cipher) are the
    // peer's problem: drop the connection without a word.
    if (ec) return Close();
    ReadRequest();
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(shared_->max_header_bytes);
    // The declared Content-Length is checked after the header so that the 413 can say how big
    // the body was; the limit is armed again for the body itself (chunked bodies).
    parser_->body_limit(boost::none);
    EnterIdle();
    Lowest().expires_after(HeaderTimeout());
    http::async_read_header(stream_, buffer_, *parser_, Bind(&Connection::OnHeader));
  }

  void OnHeader(error_code ec, size_t) {
    LeaveIdle();
    ++requests_;
    if (ec) return OnReadError(ec);
    // Before any byte of the body is read: a request whose framing is ambiguous is refused and
    // the connection closed, so nothing after its header is ever parsed as a request.
    if (auto refusal = CheckFraming(*parser_)) {
      return SendError(400, fmt::format("malformed request: {}", *refusal));
    }
    const uint64_t limit = shared_->max_body_bytes;
    if (auto length = parser_->content_length(); length && *length > limit) {
      return SendError(413, fmt::format("request body of {} bytes exceeds the limit of {} bytes",
                                        *length, limit));
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) return Dispatch();
    auto expect = parser_->get().find(http::field::expect);
    if (expect != parser_->get().end() &&
        EqualsIgnoreCase(std::string_view(expect->value().data(), expect->value().size()),
                         "100-continue")) {
      Lowest().expires_after(shared_->idle_timeout);
      asio::async_write(stream_, asio::buffer(kContinueResponse.data(), kContinueResponse.size()),
                        Bind(&Connection::OnContinueWritten));
      return;
    }
    ReadBody();
  }

  void OnContinueWritten(error_code ec, size_t) {
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(shared_->idle_timeout);
    http::async_read(stream_, buffer_, *parser_, Bind(&Connection::OnBody));
  }

  void OnBody(error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  void OnReadError(const error_code& ec) {
    if (ec == http::error::header_limit) {
      return SendError(431, fmt::format("request header exceeds the limit of {} bytes",
                                        shared_->max_header_bytes));
    }
    if (ec == http::error::body_limit) {
      return SendError(
          413, fmt::format("request body exceeds the limit of {} bytes", shared_->max_body_bytes));
    }
    if (IsHttpParseError(ec)) {
      return SendError(400, fmt::format("malformed request: {}", ec.message()));
    }
    // End of stream, timeout, reset, TLS truncation: nothing useful can be said to the peer.
    Close();
  }

  void Dispatch() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();

    HttpRequest request;
    request.method.assign(message.method_string().data(), message.method_string().size());
    request.target.assign(message.target().data(), message.target().size());
    if (size_t q = request.target.find('?'); q != std::string::npos) {
      request.path = request.target.substr(0, q);
      request.query = request.target.substr(q + 1);
    } else {
      request.path = request.target;
    }
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      request.headers.emplace_back(
          std::string(field.name_string().data(), field.name_string().size()),
          std::string(field.value().data(), field.value().size()));
    }
    request.body = std::move(message.body());
    request.remote = remote_;
    request.tls = kTls;
    keep_alive_ = message.keep_alive();

    HttpResponse response;
    try {
      response = shared_->handler(request);
    } catch (...) {
      keep_alive_ = false;
      response = shared_->ErrorResponse(500, "request handler failed");
    }
    const bool head = message.method() == http::verb::head;
    if (response.hold) return Hold(std::move(response), message.version(), head);
    Send(std::move(response), message.version(), head);
  }

  // Keeps `response` until the release its hold is given is called (from any thread), then sends
  // it, or the replacement, on this connection's strand. Nothing else happens on the connection
  // meanwhile: it is not read from and, having a request in flight, is never closed as idle. A
  // release called on this thread while `hold` runs (the wait was already over) is sent directly
  // once `hold` returns, without a trip through the io_context.
  void Hold(HttpResponse&& response, unsigned version, bool head) {
    std::function<void(HttpRelease)> hold = std::move(response.hold);
    response.hold = nullptr;
    held_ = std::move(response);
    const uint64_t seq = shared_->Keep(this->shared_from_this());
    struct State {
      std::atomic<bool> released{false};
      std::thread::id holder = std::this_thread::get_id();
      std::atomic<bool> in_hold{true};
      std::optional<std::optional<HttpResponse>> inline_release;  // set by the holder only
    };
    auto state = std::make_shared<State>();
    HttpRelease release = [weak = std::weak_ptr<Shared>(shared_), seq, state, version,
                           head](std::optional<HttpResponse> replacement) {
      if (state->released.exchange(true)) return;
      if (std::this_thread::get_id() == state->holder && state->in_hold.load()) {
        state->inline_release.emplace(std::move(replacement));
        return;
      }
      auto shared = weak.lock();
      if (!shared) return;
      std::lock_guard lock(shared->held_mu);  // the io_context lives while `running`
      auto it = shared->held.find(seq);
      if (!shared->running || it == shared->held.end()) return;
      auto self = std::static_pointer_cast<Connection>(std::move(it->second));
      shared->held.erase(it);
      auto executor = self->stream_.get_executor();
      asio::post(executor,
                 [self = std::move(self), replacement = std::move(replacement), version,
                  head]() mutable { self->SendHeld(std::move(replacement), version, head); });
    };
    try {
      hold(std::move(release));
    } catch (...) {
      state->in_hold = false;
      // Released before the exception (inline, or posted from another thread): that answer goes.
      if (!state->released.exchange(true)) {
        shared_->Take(seq);
        held_.reset();
        keep_alive_ = false;
        return Send(shared_->ErrorResponse(500, "request handler failed"), version, head);
      }
    }
    state->in_hold = false;
    if (state->inline_release && shared_->Take(seq)) {
      SendHeld(std::move(*state->inline_release), version, head);
    }
  }

  void SendHeld(std::optional<HttpResponse>&& replacement, unsigned version, bool head) {
    HttpResponse r = replacement ? std::move(*replacement) : std::move(*held_);
    held_.reset();
    Send(std::move(r), version, head);
  }

  void SendError(int status, std::string detail) {
    parser_.reset();
    keep_alive_ = false;
    drain_after_write_ = true;
    Send(shared_->ErrorResponse(status, std::move(detail)), 11, false);
  }

  void Send(HttpResponse&& response, unsigned version, bool head) {
    auto& out = response_.emplace();
    out.version(version);
    int status = response.status;
    if (status < 100 || status > 999) status = 500;
    out.result(static_cast<unsigned>(status));
    for (auto& [name, value] : response.headers) {
      if (!ValidHeaderName(name) || !ValidHeaderValue(value)) continue;
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
        continue;
      }
      if (EqualsIgnoreCase(name, "connection")) {
        if (value.find("close") != std::string::npos) keep_alive_ = false;
        continue;
      }
      out.insert(name, value);
    }
    // 1xx, 204 and 304 responses have no body (Beast refuses to frame one).
    if (status < 200 || status == 204 || status == 304) response.body.clear();
    const size_t body_size = response.body.size();
    if (head) {
      out.content_length(body_size);
    } else {
      out.body() = std::move(response.body);
      out.prepare_payload();
    }
    out.keep_alive(keep_alive_);
    Lowest().expires_after(shared_->idle_timeout);
    http::async_write(stream_, out, Bind(&Connection::OnWritten));
  }

  void OnWritten(error_code ec, size_t) {
    response_.reset();
    if (ec) return Close();
    if (drain_after_write_) return Drain();
    if (!keep_alive_) return Close();
    ReadRequest();
  }

  void Drain() {
    if constexpr (!kTls) {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    Lowest().expires_after(
        std::min<std::chrono::steady_clock::duration>(shared_->idle_timeout, kDrainTimeout));
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(buffer_.prepare(kDrainChunkBytes), Bind(&Connection::OnDrained));
  }

  void OnDrained(error_code ec, size_t n) {
    drained_ += n;
    if (ec || drained_ > kDrainLimitBytes) return Close();
    DrainSome();
  }

  void Close() {
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  std::shared_ptr<Shared> shared_;
  Stream stream_;
  uint64_t idle_seq_ = 0;  // registration in shared_->idle, 0 = none
  uint64_t requests_ = 0;  // request headers received on this connection
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::optional<HttpResponse> held_;  // a held response (Hold) until its release
  std::string remote_;
  bool keep_alive_ = true;
  bool drain_after_write_ = false;
  uint64_t drained_ = 0;
};

void Accept(tcp::acceptor* acceptor, asio::io_context* ioc, std::shared_ptr<Shared> shared) {
  acceptor->async_accept(
      asio::make_strand(*ioc), [acceptor, ioc, shared](error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
          // Out of file descriptors and the like: back off briefly instead of spinning.
          auto timer = std::make_shared<asio::steady_timer>(*ioc, std::chrono::milliseconds(50));
          timer->async_wait([acceptor, ioc, shared, timer](error_code wait_ec) {
            if (!wait_ec) Accept(acceptor, ioc, shared);
          });
          return;
        }
        shared->accepted.fetch_add(1, std::memory_order_relaxed);
        // At the limit, room is made by closing the connection idle the longest; if every
        // connection has a request in flight, the new one is closed unanswered.
        if (shared->open.load(std::memory_order_relaxed) >= shared->max_connections &&
            !shared->CloseOldestIdle()) {
          error_code ignored;
          socket.close(ignored);
          Accept(acceptor, ioc, shared);
          return;
        }
        shared->open.fetch_add(1, std::memory_order_relaxed);
        if (shared->tls) {
          std::make_shared<Connection<true>>(std::move(socket), shared)->Start();
        } else {
          std::make_shared<Connection<false>>(std::move(socket), shared)->Start();
        }
        Accept(acceptor, ioc, shared);
      });
}

// "1.2" / "1.3" to OpenSSL's version constant; 0 for anything else.
int TlsVersionNumber(std::string_view v) {
  if (v == "1.2") return TLS1_2_VERSION;
  if (v == "1.3") return TLS1_3_VERSION;
  return 0;
}

// Applies `tls` to `ctx` (see TlsOptions); each error names the setting that failed.
absl::Status ApplyTlsOptions(SSL_CTX* ctx, const TlsOptions& tls) {
  int min = TlsVersionNumber(tls.min_version);
  int max = TlsVersionNumber(tls.max_version);
  if (min == 0) {
    return absl::InvalidArgumentError(fmt::format(
        "tls: min_version `{}` is not supported (want \"1.2\" or \"1.3\")", tls.min_version));
  }
  if (max == 0) {
    return absl::InvalidArgumentError(fmt::format(
        "tls: max_version `{}` is not supported (want \"1.2\" or \"1.3\")", tls.max_version));
  }
  if (min > max) {
    return absl::InvalidArgumentError(
        fmt::format("tls: min_version ({}) cannot be greater than max_version ({})",
                    tls.min_version, tls.max_version));
  }
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx, min);
  SSL_CTX_set_max_proto_version(ctx, max);
  if (tls.ciphers) {
    std::vector<std::string> tls12;
    std::vector<std::string> tls13;
    for (absl::string_view name : absl::StrSplit(*tls.ciphers, ':', absl::SkipWhitespace())) {
      (absl::StartsWith(name, "TLS_") ? tls13 : tls12).emplace_back(name);
    }
    if (tls12.empty() && tls13.empty()) {
      return absl::InvalidArgumentError("tls: ciphers: the list is empty");
    }
    if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, absl::StrJoin(tls12, ":").c_str()) != 1) {
      return absl::InvalidArgumentError(
          fmt::format("tls: ciphers: no TLS 1.2 cipher in `{}` is known: {}",
                      absl::StrJoin(tls12, ":"), crypto::OpensslError()));
    }
    if (!tls13.empty() && SSL_CTX_set_ciphersuites(ctx, absl::StrJoin(tls13, ":").c_str()) != 1) {
      return absl::InvalidArgumentError(
          fmt::format("tls: ciphers: unknown TLS 1.3 suite in `{}`: {}", absl::StrJoin(tls13, ":"),
                      crypto::OpensslError()));
    }
  }
  if (tls.groups) {
    if (SSL_CTX_set1_groups_list(ctx, tls.groups->c_str()) != 1) {
      return absl::InvalidArgumentError(fmt::format("tls: groups: unknown group in `{}`: {}",
                                                    *tls.groups, crypto::OpensslError()));
    }
  } else {
    static constexpr const char* kPostQuantum[] = {"X25519MLKEM768", "SecP256r1MLKEM768",
                                                   "X448MLKEM1024", "SecP384r1MLKEM1024"};
    std::string groups = "X25519:secp256r1:secp384r1";
    for (const char* candidate : kPostQuantum) {
      if (SSL_CTX_set1_groups_list(ctx, candidate) == 1) {
        groups = fmt::format("{}:{}", candidate, groups);
        break;
      }
    }
    ERR_clear_error();  // the candidates this OpenSSL does not know
    if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
      return absl::InternalError(
          fmt::format("tls: groups: cannot set `{}`: {}", groups, crypto::OpensslError()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                   const std::string& key_file,
                                                                   const TlsOptions& tls) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  ERR_clear_error();
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  CCB_RETURN_IF_ERROR(ApplyTlsOptions(ctx, tls), "http server");
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        fmt::format("http server: cannot load tls certificate chain `{}`: {}", cert_file,
                    crypto::OpensslError()));
  }
  crypto::BioPtr bio(BIO_new_file(key_file.c_str(), "r"));
  crypto::PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                          : nullptr);
  if (!key) {
    return absl::InvalidArgumentError(fmt::format(
        "http server: cannot load tls private key `{}`: {}", key_file, crypto::OpensslError()));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        fmt::format("http server: tls private key `{}` does not match certificate `{}`: {}",
                    key_file, cert_file, crypto::OpensslError()));
  }
  return context;
}

}  // namespace

absl::Status ValidateTlsOptions(const TlsOptions& tls) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (!ctx) return absl::InternalError("tls: cannot create an ssl context");
  return ApplyTlsOptions(ctx.get(), tls);
}

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared;
  std::unique_ptr<asio::io_context> ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<uint16_t> ports;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              HttpHandler handler) {
  if (options.sockets.empty()) {
    return absl::InvalidArgumentError("http server: no listening sockets configured");
  }
  if (!handler) return absl::InvalidArgumentError("http server: no request handler");
  if (options.tls_certificate_file.has_value() != options.tls_private_key_file.has_value()) {
    return absl::InvalidArgumentError(
        "http server: tls needs both a certificate file and a private key file");
  }

  auto impl = std::make_unique<Impl>();
  auto shared = std::make_shared<Shared>();
  shared->handler = std::move(handler);
  shared->error_response = std::move(options.error_response);
  shared->max_body_bytes = options.max_body_bytes;
  shared->max_header_bytes = static_cast<uint32_t>(
      std::clamp<size_t>(options.max_header_bytes, 1024, std::numeric_limits<uint32_t>::max()));
  shared->idle_timeout =
      std::max<std::chrono::seconds>(options.idle_timeout, std::chrono::seconds(1));
  shared->first_request_timeout = std::clamp<std::chrono::seconds>(
      options.first_request_timeout, std::chrono::seconds(1), options.idle_timeout);
  shared->max_connections = options.max_connections;
  if (shared->max_connections == 0) {
    rlimit limit{};
    size_t files = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                       ? static_cast<size_t>(limit.rlim_cur)
                       : 65536;
    size_t reserve = std::max<size_t>(64, files / 8);
    shared->max_connections = files > reserve + 16 ? files - reserve : 16;
  }
  if (options.tls_certificate_file) {
    CCB_ASSIGN_OR_RETURN(shared->tls, MakeTlsContext(*options.tls_certificate_file,
                                                     *options.tls_private_key_file, options.tls));
  }
  impl->shared = shared;
  impl->ioc = std::make_unique<asio::io_context>();

  for (const std::string& socket : options.sockets) {
    CCB_ASSIGN_OR_RETURN(tcp::endpoint endpoint, internal::ParseListenSocket(socket));
    auto acceptor = std::make_unique<tcp::acceptor>(*impl->ioc);
    error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    tcp::endpoint local;
    if (!ec) local = acceptor->local_endpoint(ec);
    if (ec) {
      return absl::UnavailableError(
          fmt::format("http server: cannot listen on `{}`: {}", socket, ec.message()));
    }
    impl->ports.push_back(local.port());
    impl->acceptors.push_back(std::move(acceptor));
  }

  for (auto& acceptor : impl->acceptors) Accept(acceptor.get(), impl->ioc.get(), shared);

  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  impl->work.emplace(impl->ioc->get_executor());
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([ioc = impl->ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (...) {
          // Handlers catch their own errors; keep the thread serving if one slips through.
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::vector<uint16_t> HttpServer::ports() const { return impl_->ports; }

uint64_t HttpServer::accepted_connections() const {
  return impl_->shared->accepted.load(std::memory_order_relaxed);
}

size_t HttpServer::open_connections() const {
  return impl_->shared->open.load(std::memory_order_relaxed);
}

size_t HttpServer::max_connections() const { return impl_->shared->max_connections; }

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  auto held = impl_->shared->StopHolding();
  impl_->work.reset();
  impl_->ioc->stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  held.clear();
  // Closing the listeners, then destroying the io_context, destroys every pending handler and
  // with it every connection (their sockets close).
  impl_->acceptors.clear();
  impl_->ioc.reset();
}

}  // namespace ccburst::net
