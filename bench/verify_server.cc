// make bench peer: what an authorized request costs without the verified-token
// cache. A bare Boost.Beast server with the thread model of hello_server.cc
// (and so of src/transports/http/http_server.cc) that verifies the request's bearer token
// on every request with verbatim's own verifier (oauth::VerifyAccessToken:
// OpenSSL ECDSA P-256 over SHA-256, strict header and claims checks, no
// cache), then answers 200 with a fixed JSON body of the size of the
// authorized GET's (401 if the token does not verify). Nothing else: no
// routing, no authorization, no audit, no store. The authorized GET over this
// server is what the cache (oauth/token_cache.h) buys: docs/performance.md "Peers".
//
//   verify_server --config FILE --body FILE [--listen 127.0.0.1:0] [--threads N] [--port-file FILE]
//
// --config: {"issuer","audience","jwks":{"keys":[…]}} as the server publishes
// them (bench/setup.mjs writes it); --body: the response body.
#include <signal.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "oauth/jwt.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace verbatim;

namespace {

constexpr std::chrono::seconds kIdleTimeout{60};  // as HttpServerOptions::idle_timeout
constexpr size_t kMaxBody = 1 << 20;              // as HttpServerOptions::max_body_bytes
constexpr uint32_t kMaxHeader = 16 << 10;         // as HttpServerOptions::max_header_bytes

struct Verifier {
  oauth::KeySet keys;
  oauth::VerifyOptions opts;
  std::string body;
};

// The token of "Bearer <token>", or empty.
std::string_view BearerToken(std::string_view h) {
  if (h.size() < 7 || (h.substr(0, 7) != "Bearer " && h.substr(0, 7) != "bearer ")) return {};
  return h.substr(7);
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Verifier& v) : stream_(std::move(socket)), v_(v) {}

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    parser_->header_limit(kMaxHeader);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Close();
    http::request<http::string_body> req = parser_->release();
    const auto auth = req[http::field::authorization];
    oauth::VerifyResult r = oauth::VerifyAccessToken(BearerToken(std::string_view(auth.data(), auth.size())), v_.keys,
                                                     v_.opts, SystemClock().Now());
    const bool ok = r.check.ok();
    auto res = std::make_shared<http::response<http::string_body>>(ok ? http::status::ok : http::status::unauthorized,
                                                                   req.version());
    res->set(http::field::content_type, "application/json");
    res->body() = ok ? v_.body : std::string(R"({"error":"invalid_token"})");
    res->keep_alive(req.keep_alive());
    res->prepare_payload();
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !res->keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const Verifier& v_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

void Accept(asio::io_context& ioc, tcp::acceptor& acceptor, const Verifier& v) {
  acceptor.async_accept(asio::make_strand(ioc), [&ioc, &acceptor, &v](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), v)->Run();
    }
    Accept(ioc, acceptor, v);
  });
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The verifier from --config, or a message saying what is wrong with it.
std::optional<std::string> LoadVerifier(const std::string& config_path, const std::string& body_path, Verifier& v) {
  auto text = ReadFile(config_path);
  if (!text) return "cannot read " + config_path;
  auto config = ParseJsonObject(*text);
  if (!config.ok()) return config_path + ": " + config.status().message();
  const auto* issuer = config->if_contains("issuer");
  const auto* audience = config->if_contains("audience");
  const auto* jwks = config->if_contains("jwks");
  const auto* keys = jwks && jwks->is_object() ? jwks->as_object().if_contains("keys") : nullptr;
  if (!issuer || !issuer->is_string() || !audience || !audience->is_string() || !keys || !keys->is_array()) {
    return config_path + ": needs string issuer and audience and jwks.keys";
  }
  v.opts.issuer = std::string(issuer->as_string());
  v.opts.audience = std::string(audience->as_string());
  for (const auto& k : keys->as_array()) {
    if (!k.is_object()) return config_path + ": a JWKS key is not an object";
    auto key = oauth::VerificationKey::FromJwk(k.as_object());
    if (!key.ok()) return config_path + ": " + key.status().message();
    v.keys.Add(std::move(*key));
  }
  auto body = ReadFile(body_path);
  if (!body) return "cannot read " + body_path;
  v.body = std::move(*body);
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", port_file, config, body;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--listen") listen = argv[i + 1];
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--port-file") port_file = argv[i + 1];
    else if (a == "--config") config = argv[i + 1];
    else if (a == "--body") body = argv[i + 1];
    else {
      config.clear();
      break;
    }
  }
  if (config.empty() || body.empty()) {
    std::cerr << "usage: verify_server --config FILE --body FILE [--listen HOST:PORT] [--threads N] [--port-file FILE]\n";
    return 1;
  }
  Verifier v;
  if (auto problem = LoadVerifier(config, body, v)) {
    std::cerr << "verify_server: " << *problem << "\n";
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  auto colon = listen.rfind(':');
  asio::io_context ioc;
  tcp::endpoint ep(asio::ip::make_address(listen.substr(0, colon)),
                   static_cast<uint16_t>(std::atoi(listen.c_str() + colon + 1)));
  tcp::acceptor acceptor(ioc);
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  Accept(ioc, acceptor, v);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    ioc.stop();
  });

  const unsigned port = acceptor.local_endpoint().port();
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << port << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::cout << port << std::endl;

  std::vector<std::thread> pool;
  for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back([&ioc] { ioc.run(); });
  for (auto& t : pool) t.join();
  return 0;
}
