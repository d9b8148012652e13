// The baseline of `make bench`: a bare Boost.Beast HTTP/1.1 keep-alive
// hello-world with the same thread and connection model as
// src/transports/http/http_server.cc, so "verbatim vs hello" measures the application and
// not a different server design:
//   - one io_context run by N threads;
//   - every accepted socket gets its own strand (make_strand in async_accept);
//   - beast::tcp_stream with an idle timeout, a flat_buffer, and a fresh
//     request_parser<string_body> with header/body limits for each request;
//   - the response is a heap-allocated http::response<string_body> kept alive
//     by the write completion handler; TCP_NODELAY on.
// Every request gets `200 text/plain "Hello, world!\n"`.
//
//   hello_server --listen 127.0.0.1:0 --threads N --port-file FILE
// prints the bound port on stdout (and writes it to FILE) once accepting.
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
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kIdleTimeout{60};  // as HttpServerOptions::idle_timeout
constexpr size_t kMaxBody = 1 << 20;              // as HttpServerOptions::max_body_bytes
constexpr uint32_t kMaxHeader = 16 << 10;         // as HttpServerOptions::max_header_bytes

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}

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
    auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, req.version());
    res->set(http::field::content_type, "text/plain");
    res->body() = "Hello, world!\n";
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

void Accept(asio::io_context& ioc, tcp::acceptor& acceptor) {
  acceptor.async_accept(asio::make_strand(ioc), [&ioc, &acceptor](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket))->Run();
    }
    Accept(ioc, acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", port_file;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--listen") listen = argv[i + 1];
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--port-file") port_file = argv[i + 1];
    else {
      std::cerr << "usage: hello_server [--listen HOST:PORT] [--threads N] [--port-file FILE]\n";
      return 1;
    }
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
  Accept(ioc, acceptor);

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
