#include "cli/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace verbatim::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

template <class Stream>
HttpResult Exchange(Stream& stream, const std::string& hostport, const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, hostport);
  req.set(http::field::user_agent, "verbatim-cli");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser);
  auto res = parser.release();
  HttpResult out;
  out.status = res.result_int();
  out.body = std::move(res.body());
  for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return out;
}

// The server's certificate must chain to a trusted CA (the system's, or the
// file in SSL_CERT_FILE) and name `host` (DNS name or IP address).
Status VerifyPeerAs(SSL* ssl_handle, const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  const int set = ec ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                     : X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  if (set != 1) return Status::InvalidArgument("usage", "cannot verify TLS for host '" + host + "'");
  if (ec && SSL_set_tlsext_host_name(ssl_handle, host.c_str()) != 1)
    return Status::InvalidArgument("usage", "cannot set TLS server name '" + host + "'");
  return Status::Ok();
}

}  // namespace

Result<HttpResult> HttpCall(const std::string& base_url, const std::string& method, const std::string& target,
                            const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  const bool tls = base_url.rfind("https://", 0) == 0;
  if (!tls && base_url.rfind("http://", 0) != 0)
    return Status::InvalidArgument("usage", "server URL must start with http:// or https:// (got '" + base_url + "')");
  std::string hostport = base_url.substr(tls ? 8 : 7);
  if (auto slash = hostport.find('/'); slash != std::string::npos) hostport.resize(slash);
  std::string host = hostport, port = tls ? "443" : "80";
  if (auto colon = hostport.rfind(':'); colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    if (!tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(std::chrono::seconds(30));
      stream.connect(resolver.resolve(host, port));
      HttpResult out = Exchange(stream, hostport, method, target, headers, body);
      beast::error_code ec;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      return out;
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();  // honours SSL_CERT_FILE / SSL_CERT_DIR
    ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    VERBATIM_RETURN_IF_ERROR(VerifyPeerAs(stream.native_handle(), host));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(stream).connect(resolver.resolve(host, port));
    stream.handshake(ssl::stream_base::client);
    HttpResult out = Exchange(stream, hostport, method, target, headers, body);
    beast::error_code ec;
    stream.shutdown(ec);  // close_notify; the server may already have closed
    return out;
  } catch (const std::exception& e) {
    return Status::Unavailable("server.unreachable", "cannot reach " + base_url + ": " + e.what());
  }
}

}  // namespace verbatim::cli
