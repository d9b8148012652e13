// A real HttpServer on 127.0.0.1:<free port> whose handler answers 200 with
// the client address it was given, and a blocking client that connects from
// a chosen loopback address (on Linux every 127.x.y.z is local), for the
// tests of the HTTP layer itself.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "transports/http/http_server.h"
#include "service/metrics.h"

namespace verbatim::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using api::HttpResponse;

// Polls `cond` until it holds or `deadline` passes (a condition, never a sleep).
template <class Cond>
bool WaitUntil(Cond cond, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

class EchoServer {
 public:
  explicit EchoServer(api::HttpServerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    if (o.threads == 0) o.threads = 2;
    server_ = std::make_unique<api::HttpServer>(
        o,
        [this](std::shared_ptr<const api::OwnedRequest> req, api::Responder respond) {
          ++requests;
          HttpResponse res{api::http::status::ok, 11};
          res.set(api::http::field::content_type, "text/plain");
          res.body() = req->view.remote_ip;
          respond(std::move(res));
        },
        // Like App::RenderReadError, minus JSON: the code first, then the message.
        [](int status, std::string code, std::string message) {
          HttpResponse res{static_cast<api::http::status>(status), 11};
          res.body() = code + ": " + message;
          return res;
        });
    server_->AttachMetrics(metrics);
    Status s = server_->Listen();
    EXPECT_TRUE(s.ok()) << s.ToString();
    server_->Start();
  }
  ~EchoServer() { server_->Stop(std::chrono::milliseconds(500)); }

  api::HttpServer& server() { return *server_; }
  uint16_t port() const { return server_->port(); }

  service::Metrics metrics;  // declared before server_: outlives it
  std::atomic<int> requests{0};

 private:
  std::unique_ptr<api::HttpServer> server_;
};

// A blocking client connection from `local` (a loopback address).
class Client {
 public:
  Client(uint16_t port, const std::string& local = "127.0.0.1") : socket_(ioc_) {
    socket_.open(tcp::v4());
    socket_.bind(tcp::endpoint(asio::ip::make_address(local), 0));
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void Send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  // Reads one response (by Content-Length); status 0 if the connection ended first.
  HttpResponse Read() {
    HttpResponse res;
    boost::system::error_code ec;
    api::http::read(socket_, buffer_, res, ec);
    if (ec) res.result(0);
    return res;
  }

  HttpResponse Get(const std::string& target, const std::string& extra_headers = {}) {
    Send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n");
    return Read();
  }

  // True once the server has closed the connection (reads until EOF).
  bool ClosedByServer() {
    char c;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace verbatim::testing
