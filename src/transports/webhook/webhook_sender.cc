#include "transports/webhook/webhook_sender.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <limits>
#include <optional>
#include <type_traits>

#include "core/utf8.h"
#include "core/version.h"
#include "transports/webhook/webhook_target.h"

namespace verbatim::webhook {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

using Clock = std::chrono::steady_clock;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kMaxResponseHeaderBytes = 16 * 1024;
constexpr int kMaxInterimResponses = 8;  // 1xx answers skipped before the real one
constexpr size_t kMaxLocationShown = 200;

// ---- Text for people ------------------------------------------------------

// At most `max` bytes of `raw` that are safe to show and store: printable
// ASCII and valid UTF-8 kept, whitespace as ' ', anything else as '?'. One
// byte in, at most one byte out, so the result is never longer than `max`.
std::string Printable(std::string_view raw, size_t max) {
  raw = raw.substr(0, max);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\t' || c == '\n' || c == '\r') {
      out += ' ';
      ++i;
    } else if (size_t n = c >= 0x80 ? Utf8SequenceLength(raw, i) : 0; n > 0) {
      out.append(raw.substr(i, n));
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

// Where in the attempt an error struck, for messages.
enum class Stage { kConnect, kTlsHandshake, kWrite, kRead };

const char* StageText(Stage s) {
  switch (s) {
    case Stage::kConnect: return "while connecting";
    case Stage::kTlsHandshake: return "during the TLS handshake";
    case Stage::kWrite: return "while sending the request";
    case Stage::kRead: return "waiting for the response";
  }
  return "";
}

std::string DescribeTlsError(const beast::error_code& ec, SSL* ssl) {
  const auto code = static_cast<unsigned long>(ec.value());
  if (ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    const long verify = SSL_get_verify_result(ssl);
    return std::string("TLS: certificate verify failed (") + X509_verify_cert_error_string(verify) + ")";
  }
  const char* reason = ERR_reason_error_string(code);
  return std::string("TLS: ") + (reason ? reason : ec.message().c_str());
}

std::string DescribeError(const beast::error_code& ec, Stage stage, const SendOptions& opts, SSL* ssl) {
  namespace errc = asio::error;
  if (ec == beast::error::timeout) return "timed out after " + DescribeTimeout(opts.timeout) + " " + StageText(stage);
  if (ec == errc::connection_refused) return "connection refused";
  if (ec == errc::connection_reset) return std::string("connection reset by the receiver ") + StageText(stage);
  if (ec == errc::host_unreachable || ec == errc::network_unreachable)
    return std::string("receiver unreachable (") + ec.message() + ")";
  if (ec == errc::eof || ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == ssl::error::stream_truncated)
    return "the receiver closed the connection before responding";
  if (ec == http::error::header_limit)
    return "the response header is larger than " + std::to_string(kMaxResponseHeaderBytes / 1024) + " KiB";
  if (ec.category() == asio::error::get_ssl_category()) return DescribeTlsError(ec, ssl);
  if (ec.category() == beast::error_code(http::error::body_limit).category())  // any other Beast HTTP parse error
    return "the response is not valid HTTP/1.1 (" + ec.message() + ")";
  return ec.message() + " " + StageText(stage);
}

std::string HostHeader(const WebhookUrl& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  const uint16_t default_port = url.scheme == "https" ? 443 : 80;
  if (url.port != default_port) host += ":" + std::to_string(url.port);
  return host;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A header value may not end the header early (request splitting).
bool IsSafeHeaderValue(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// ---- The exchange ---------------------------------------------------------

// What one exchange learned; the caller turns it into a SendResult.
struct Outcome {
  int status = 0;
  std::string location;  // of a 3xx
  std::string excerpt;   // raw, at most kResponseExcerptBytes
  std::string error;     // "" when a final response header was read
};

// Connect, [TLS handshake], write, read the header, read at most
// max_response_bytes of body, close. A chain of handlers on one io_context;
// the tcp_stream's expiry (set once by the caller) bounds every step.
template <class Stream>
class Exchange {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Exchange(Stream& stream, http::request<http::string_body>& req, const SendOptions& opts, Outcome& out)
      : stream_(stream), req_(req), opts_(opts), out_(out) {}

  void Start(const std::vector<tcp::endpoint>& endpoints) {
    beast::get_lowest_layer(stream_).async_connect(
        endpoints, [this](beast::error_code ec, const tcp::endpoint&) { OnConnect(ec); });
  }

 private:
  void OnConnect(beast::error_code ec) {
    if (ec) return Fail(ec, Stage::kConnect);
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::client, [this](beast::error_code ec2) {
        if (ec2) return Fail(ec2, Stage::kTlsHandshake);
        Write();
      });
    } else {
      Write();
    }
  }

  void Write() {
    http::async_write(stream_, req_, [this](beast::error_code ec, size_t) {
      if (ec) return Fail(ec, Stage::kWrite);
      ReadHeader();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kMaxResponseHeaderBytes);
    // The body is bounded by reading it in chunks, not by a limit that would
    // fail a 200 whose Content-Length is large.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    http::async_read_header(stream_, buffer_, *parser_, [this](beast::error_code ec, size_t) { OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return Fail(ec, Stage::kRead);
    const auto& res = parser_->get();
    const int status = static_cast<int>(res.result_int());
    if (status >= 100 && status < 200 && status != 101 && ++interim_ <= kMaxInterimResponses) return ReadHeader();
    out_.status = status;
    if (status >= 300 && status < 400) out_.location = std::string(res[http::field::location]);
    if (parser_->is_done()) return Close();
    ReadBody();
  }

  void ReadBody() {
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    http::async_read_some(stream_, buffer_, *parser_, [this](beast::error_code ec, size_t) { OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    const size_t got = chunk_.size() - parser_->get().body().size;
    if (out_.excerpt.size() < kResponseExcerptBytes)
      out_.excerpt.append(chunk_.data(), std::min(got, kResponseExcerptBytes - out_.excerpt.size()));
    body_bytes_ += got;
    if (ec == http::error::need_buffer) ec = {};
    // Once the status is in, a body that fails or runs long does not change
    // the outcome: the receiver has answered.
    if (ec || parser_->is_done() || body_bytes_ >= opts_.max_response_bytes) return Close();
    ReadBody();
  }

  void Fail(const beast::error_code& ec, Stage stage) {
    SSL* ssl = nullptr;
    if constexpr (kTls) ssl = stream_.native_handle();
    out_.error = DescribeError(ec, stage, opts_, ssl);
    Close();
  }

  // No TLS close_notify: waiting for the receiver's would spend the deadline
  // on nothing the outcome depends on.
  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  // Constant after construction (the caller owns what they refer to)
  Stream& stream_;
  http::request<http::string_body>& req_;
  const SendOptions& opts_;
  Outcome& out_;  // written by the handlers
  // State below is touched only by the handlers, which run one at a time on
  // the caller's thread (io_context::run_for): no lock.
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, 16 * 1024> chunk_{};
  size_t body_bytes_ = 0;
  int interim_ = 0;
};

// Runs the exchange until it finishes; the tcp_stream expiry ends every step
// by `deadline`, and run_for is only a backstop.
template <class Stream>
void Run(asio::io_context& ioc, Stream& stream, http::request<http::string_body>& req,
         const std::vector<tcp::endpoint>& endpoints, Clock::time_point deadline, const SendOptions& opts,
         Outcome& out) {
  beast::get_lowest_layer(stream).expires_at(deadline);
  Exchange<Stream> exchange(stream, req, opts, out);
  exchange.Start(endpoints);
  ioc.run_for(deadline - Clock::now() + std::chrono::seconds(1));
  if (!ioc.stopped()) {  // not expected: the expiry ends each operation
    out.error = "timed out after " + DescribeTimeout(opts.timeout);
    out.status = 0;
  }
}

// The certificate must chain to a trusted CA and name the host (DNS name or IP
// address); SNI is sent for names, never for IP addresses (RFC 6066 §3).
std::string VerifyPeerAs(SSL* ssl_handle, const std::string& host) {
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  const int set = ec ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                     : X509_VERIFY_PARAM_set1_ip_asc(param, ip.to_string().c_str());
  if (set != 1) return "TLS: cannot verify a certificate for host '" + host + "'";
  if (ec && SSL_set_tlsext_host_name(ssl_handle, host.c_str()) != 1)
    return "TLS: cannot send the server name '" + host + "'";
  return "";
}

SendResult Finish(Outcome out) {
  SendResult r;
  r.status = out.status;
  r.response_excerpt = Printable(out.excerpt, kResponseExcerptBytes);
  if (!out.error.empty()) {
    r.error = std::move(out.error);
  } else if (out.status >= 300 && out.status < 400) {
    r.error = "redirect not followed (" + std::to_string(out.status) +
              (out.location.empty() ? "" : " to " + Printable(out.location, kMaxLocationShown)) + ")";
  } else if (out.status < 200 || out.status >= 300) {
    r.error = "HTTP " + std::to_string(out.status);
  }
  return r;
}

}  // namespace

SendResult PostWebhook(std::string_view url_text, const HeaderList& headers, std::string_view body,
                       const SendOptions& opts) {
  const Clock::time_point deadline = Clock::now() + opts.timeout;
  SendResult failed;
  Result<WebhookUrl> url = ParseWebhookUrl(url_text);
  if (!url.ok()) {
    failed.error = url.status().message();
    return failed;
  }
  for (const auto& [name, value] : headers) {
    if (!IsToken(name) || !IsSafeHeaderValue(value)) {
      failed.error = "header '" + Printable(name, 64) + "' has an invalid name or a line break in its value";
      return failed;
    }
  }
  Result<std::vector<tcp::endpoint>> endpoints = ResolveWebhookTarget(*url, opts.allow_private, opts.timeout);
  if (!endpoints.ok()) {
    failed.error = endpoints.status().message();
    return failed;
  }
  if (Clock::now() >= deadline) {
    failed.error = "timed out after " + DescribeTimeout(opts.timeout) + " resolving " + url->host;
    return failed;
  }

  http::request<http::string_body> req{http::verb::post, url->target, 11};
  for (const auto& [name, value] : headers) req.set(name, value);
  req.set(http::field::host, HostHeader(*url));
  req.set(http::field::user_agent, std::string("verbatim-webhooks/") + kVersion);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.erase(http::field::transfer_encoding);
  req.body() = std::string(body);
  req.prepare_payload();

  Outcome out;
  try {
    asio::io_context ioc(1);
    if (url->scheme == "http") {
      beast::tcp_stream stream(ioc);
      Run(ioc, stream, req, *endpoints, deadline, opts, out);
    } else {
      ssl::context ctx(ssl::context::tls_client);
      beast::error_code ec;
      ctx.set_default_verify_paths(ec);  // the system CAs, or SSL_CERT_FILE / SSL_CERT_DIR
      ctx.set_verify_mode(ssl::verify_peer);
      SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
      beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
      if (std::string e = VerifyPeerAs(stream.native_handle(), url->host); !e.empty()) {
        failed.error = std::move(e);
        return failed;
      }
      Run(ioc, stream, req, *endpoints, deadline, opts, out);
    }
  } catch (const std::exception& e) {  // allocation or OpenSSL set-up failures
    failed.error = std::string("cannot send: ") + e.what();
    return failed;
  }
  return Finish(std::move(out));
}

}  // namespace verbatim::webhook
