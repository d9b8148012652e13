#include "terraform/rest_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <cctype>
#include <thread>

#include "core/base64.h"
#include "terraform/log.h"

namespace verbatim::terraform {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kMaxIdle = std::chrono::seconds(2);  // well under any server's keep-alive timeout
constexpr size_t kMaxIdleConnections = 16;
constexpr size_t kMaxBody = 16 << 20;

// RFC 6749 §2.3.1: client credentials are form-urlencoded before Basic.
std::string FormEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Runs one async operation on the connection's own io_context to completion:
// synchronous code with the stream's timeout (sync Beast calls have none).
template <class Start>
beast::error_code RunOne(asio::io_context& ioc, Start start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

}  // namespace

struct RestClient::Tls {
  ssl::context ctx{ssl::context::tls_client};
};

struct RestClient::Connection {
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void Close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }
};

Result<std::unique_ptr<RestClient>> RestClient::Create(RestOptions opts) {
  std::string_view e = opts.endpoint;
  Endpoint ep;
  if (e.rfind("https://", 0) == 0) {
    ep.tls = true;
    e.remove_prefix(8);
  } else if (e.rfind("http://", 0) == 0) {
    e.remove_prefix(7);
  } else {
    return Status::InvalidArgument("endpoint.invalid", "endpoint '" + opts.endpoint.substr(0, 200) +
                                                           "' must start with http:// or https://");
  }
  size_t slash = e.find('/');
  std::string_view authority = e.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : e.substr(slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos || path.find_first_of("?#") != std::string_view::npos)
    return Status::InvalidArgument("endpoint.invalid", "endpoint '" + opts.endpoint.substr(0, 200) +
                                                           "' must be http(s)://host[:port][/path], without "
                                                           "credentials, query or fragment");
  ep.host_header = std::string(authority);
  ep.port = ep.tls ? "443" : "80";
  if (authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("endpoint.invalid", "unbalanced '[' in endpoint");
    ep.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Status::InvalidArgument("endpoint.invalid", "bad port in endpoint");
      ep.port = std::string(authority.substr(close + 2));
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    ep.host = std::string(authority.substr(0, colon));
    ep.port = std::string(authority.substr(colon + 1));
  } else {
    ep.host = std::string(authority);
  }
  if (ep.host.empty() || ep.port.empty() || ep.port.find_first_not_of("0123456789") != std::string::npos ||
      ep.port.size() > 5)
    return Status::InvalidArgument("endpoint.invalid", "endpoint '" + opts.endpoint.substr(0, 200) + "' has no valid host and port");
  ep.base = std::string(path);
  while (!ep.base.empty() && ep.base.back() == '/') ep.base.pop_back();
  std::unique_ptr<RestClient> c(new RestClient(std::move(opts), std::move(ep)));
  if (c->ep_.tls) VERBATIM_RETURN_IF_ERROR(c->InitTls());
  return c;
}

RestClient::RestClient(RestOptions opts, Endpoint ep) : opts_(std::move(opts)), ep_(std::move(ep)) {}
RestClient::~RestClient() = default;

Status RestClient::InitTls() {
  tls_ = std::make_unique<Tls>();
  beast::error_code ec;
  tls_->ctx.set_default_verify_paths(ec);
  if (!opts_.ca_file.empty()) {
    tls_->ctx.load_verify_file(opts_.ca_file, ec);
    if (ec) return Status::InvalidArgument("ca_file.invalid", "cannot load ca_file '" + opts_.ca_file + "': " + ec.message());
  }
  tls_->ctx.set_verify_mode(ssl::verify_peer);
  return Status::Ok();
}

Result<std::unique_ptr<RestClient::Connection>> RestClient::Connect() {
  auto c = std::make_unique<Connection>();
  tcp::resolver resolver(c->ioc);
  beast::error_code ec;
  auto addrs = resolver.resolve(ep_.host, ep_.port, ec);
  if (ec) return Status::Unavailable("endpoint.unreachable", "cannot resolve " + ep_.host + ": " + ec.message());
  if (ep_.tls) {
    c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(c->ioc, tls_->ctx);
    if (!IsIpLiteral(ep_.host) && !SSL_set_tlsext_host_name(c->tls->native_handle(), ep_.host.c_str()))
      return Status::Unavailable("endpoint.unreachable", "cannot set TLS server name " + ep_.host);
    c->tls->set_verify_callback(ssl::host_name_verification(ep_.host));
  } else {
    c->plain = std::make_unique<beast::tcp_stream>(c->ioc);
  }
  c->lowest().expires_after(opts_.timeout);
  ec = RunOne(c->ioc, [&](auto handler) { c->lowest().async_connect(addrs, std::move(handler)); });
  if (ec) return Status::Unavailable("endpoint.unreachable", "cannot connect to " + opts_.endpoint + ": " + ec.message());
  if (c->tls) {
    ec = RunOne(c->ioc, [&](auto handler) { c->tls->async_handshake(ssl::stream_base::client, std::move(handler)); });
    if (ec)
      return Status::Unavailable("endpoint.tls", "TLS handshake with " + opts_.endpoint + " failed: " + ec.message() +
                                                     " (a private CA needs ca_file or VERBATIM_CA_FILE)");
  }
  return c;
}

Result<RestClient::Raw> RestClient::Exchange(Connection& c, const std::string& method, const std::string& target,
                                             const std::string& authorization, const std::string& content_type,
                                             const std::string& body) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, ep_.host_header);
  req.set(http::field::user_agent, opts_.user_agent);
  req.set(http::field::accept, "application/json");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();

  c.lowest().expires_after(opts_.timeout);
  beast::error_code ec = RunOne(c.ioc, [&](auto handler) {
    if (c.tls) http::async_write(*c.tls, req, std::move(handler));
    else http::async_write(*c.plain, req, std::move(handler));
  });
  if (ec) return Status::Unavailable("endpoint.unreachable", "sending " + method + " " + target + ": " + ec.message());
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  ec = RunOne(c.ioc, [&](auto handler) {
    if (c.tls) http::async_read(*c.tls, c.buffer, parser, std::move(handler));
    else http::async_read(*c.plain, c.buffer, parser, std::move(handler));
  });
  if (ec) return Status::Unavailable("endpoint.unreachable", "reading the answer to " + method + " " + target + ": " + ec.message());
  auto res = parser.release();
  Raw raw;
  raw.status = res.result_int();
  raw.body = std::move(res.body());
  raw.retry_after = std::string(res[http::field::retry_after]);
  raw.context_id = std::string(res["X-Context-Id"]);
  if (!res.keep_alive()) c.Close();
  return raw;
}

Result<RestClient::Raw> RestClient::Send(const std::string& method, const std::string& target,
                                         const std::string& authorization, const std::string& content_type,
                                         const std::string& body, bool replay_safe) {
  std::unique_ptr<Connection> conn;
  if (replay_safe) {
    MutexLock lock(pool_mu_);
    auto now = std::chrono::steady_clock::now();
    while (!idle_.empty() && !conn) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->idle_since < kMaxIdle) conn = std::move(c);
    }
  }
  const bool reused = conn != nullptr;
  if (!conn) {
    auto fresh = Connect();
    if (!fresh.ok()) return fresh.status();
    conn = std::move(*fresh);
  }
  auto raw = Exchange(*conn, method, target, authorization, content_type, body);
  if (!raw.ok() && reused) {
    // The server may have closed the idle connection just now; this request is safe to send again.
    auto fresh = Connect();
    if (!fresh.ok()) return fresh.status();
    conn = std::move(*fresh);
    raw = Exchange(*conn, method, target, authorization, content_type, body);
  }
  if (raw.ok() && conn->lowest().socket().is_open()) {
    conn->idle_since = std::chrono::steady_clock::now();
    MutexLock lock(pool_mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(conn));
  }
  return raw;
}

Result<std::string> RestClient::Token(bool renew) {
  MutexLock lock(token_mu_);
  if (!renew && !token_.empty() && std::chrono::steady_clock::now() < token_expiry_) return token_;
  const std::string basic = "Basic " + Base64Encode(FormEncode(opts_.client_id) + ":" + FormEncode(opts_.client_secret));
  auto raw = Send("POST", ep_.base + "/oauth/token", basic, "application/x-www-form-urlencoded",
                  "grant_type=client_credentials", true);
  if (!raw.ok()) return raw.status();
  auto body = ParseJsonStrict(raw->body);
  if (raw->status != 200 || !body.ok() || JStr(*body, "access_token").empty()) {
    std::string error = body.ok() ? JStr(*body, "error") : std::string();
    std::string why = body.ok() ? JStr(*body, "error_description") : std::string();
    return Status::Unauthenticated(
        "credentials.rejected",
        "POST " + opts_.endpoint + "/oauth/token answered " + std::to_string(raw->status) +
            (error.empty() ? "" : " " + error) + (why.empty() ? "" : ": " + why) +
            ". Check the provider's client_id and client_secret (or VERBATIM_CLIENT_ID, VERBATIM_CLIENT_SECRET).");
  }
  int64_t expires_in = 300;
  if (const auto* e = body->as_object().if_contains("expires_in"); e && e->is_int64()) expires_in = e->as_int64();
  token_ = JStr(*body, "access_token");
  // Renew a little early so a token never expires between our check and the server's.
  token_expiry_ = std::chrono::steady_clock::now() + std::chrono::seconds(std::max<int64_t>(expires_in - 30, 1));
  Log(LogLevel::kDebug, "got an access token", {{"expires_in", std::to_string(expires_in)}});
  return token_;
}

Status RestClient::Authenticate() {
  auto t = Token(false);
  return t.ok() ? Status::Ok() : t.status();
}

Result<ApiResponse> RestClient::Call(std::string_view method, std::string_view path, const json::value* body) {
  const std::string m(method);
  const std::string target = ep_.base + std::string(path);
  const std::string payload = body ? json::serialize(*body) : std::string();
  // Creating twice is the one thing a retry must never do.
  const bool replay_safe = m != "POST" || path.rfind("/api/v2/authorization/", 0) == 0;
  bool renewed = false;
  for (int attempt = 0;; ++attempt) {
    auto token = Token(false);
    if (!token.ok()) return token.status();
    const auto started = std::chrono::steady_clock::now();
    auto raw = Send(m, target, "Bearer " + *token, body ? "application/json" : "", payload, replay_safe);
    if (!raw.ok()) return raw.status();
    Log(LogLevel::kDebug, "verbatim API call",
        {{"method", m},
         {"path", std::string(path)},
         {"status", std::to_string(raw->status)},
         {"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count())},
         {"context_id", raw->context_id}});
    ApiResponse out;
    out.status = raw->status;
    out.context_id = raw->context_id;
    if (!raw->body.empty()) {
      auto parsed = ParseJsonStrict(raw->body, JsonLimits{64, kMaxBody});
      if (parsed.ok()) out.body = std::move(*parsed);
    }
    if (out.status == 401 && !renewed && out.code().rfind("token.", 0) == 0) {
      // Our token expired early or was revoked (e.g. a key rotation): one new token, one retry.
      renewed = true;
      auto fresh = Token(true);
      if (!fresh.ok()) return fresh.status();
      continue;
    }
    if ((out.status == 429 || out.status == 503) && attempt < 3) {
      long wait = std::strtol(raw->retry_after.c_str(), nullptr, 10);
      wait = std::clamp<long>(wait, 1, 10);
      Log(LogLevel::kWarn, "verbatim asked to retry later", {{"status", std::to_string(out.status)}, {"wait_s", std::to_string(wait)}});
      std::this_thread::sleep_for(std::chrono::seconds(wait));
      continue;
    }
    return out;
  }
}

}  // namespace verbatim::terraform
