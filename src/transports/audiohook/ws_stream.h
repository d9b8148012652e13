// A server WebSocket over a plain or a TLS connection behind one type, so the
// AudioHook session logic (transports/audiohook/audiohook_endpoint.cc) exists once for ws://
// and wss://. Each call forwards to the stream the connection has; the
// variant costs one branch per call, not a virtual function per byte.
//
// Not thread-safe, like the Beast stream it wraps: use it from the
// connection's strand (get_executor()).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <utility>
#include <variant>

#include "transports/http/http_server.h"

namespace verbatim::api {

class WsStream {
 public:
  using Plain = boost::beast::websocket::stream<PlainStream>;
  using Tls = boost::beast::websocket::stream<TlsStream>;

  explicit WsStream(std::variant<PlainStream, TlsStream> connection) : ws_(Make(std::move(connection))) {}

  boost::asio::any_io_executor get_executor() {
    return std::visit([](auto& ws) { return boost::asio::any_io_executor(ws.get_executor()); }, ws_);
  }
  bool is_tls() const { return std::holds_alternative<Tls>(ws_); }
  bool is_open() const {
    return std::visit([](const auto& ws) { return ws.is_open(); }, ws_);
  }
  bool got_text() const {
    return std::visit([](const auto& ws) { return ws.got_text(); }, ws_);
  }
  template <class Option>
  void set_option(const Option& o) {
    std::visit([&](auto& ws) { ws.set_option(o); }, ws_);
  }
  void read_message_max(size_t n) {
    std::visit([&](auto& ws) { ws.read_message_max(n); }, ws_);
  }
  void text(bool t) {
    std::visit([&](auto& ws) { ws.text(t); }, ws_);
  }

  template <class Request, class Handler>
  void async_accept(const Request& req, Handler&& h) {
    std::visit([&](auto& ws) { ws.async_accept(req, std::forward<Handler>(h)); }, ws_);
  }
  template <class Handler>
  void async_read(boost::beast::flat_buffer& buffer, Handler&& h) {
    std::visit([&](auto& ws) { ws.async_read(buffer, std::forward<Handler>(h)); }, ws_);
  }
  template <class Handler>
  void async_write(boost::asio::const_buffer data, Handler&& h) {
    std::visit([&](auto& ws) { ws.async_write(data, std::forward<Handler>(h)); }, ws_);
  }
  template <class Handler>
  void async_close(boost::beast::websocket::close_code code, Handler&& h) {
    std::visit([&](auto& ws) { ws.async_close(code, std::forward<Handler>(h)); }, ws_);
  }

 private:
  static std::variant<Plain, Tls> Make(std::variant<PlainStream, TlsStream>&& c) {
    if (auto* plain = std::get_if<PlainStream>(&c)) return std::variant<Plain, Tls>(std::in_place_type<Plain>, std::move(*plain));
    return std::variant<Plain, Tls>(std::in_place_type<Tls>, std::move(std::get<TlsStream>(c)));
  }

  std::variant<Plain, Tls> ws_;
};

}  // namespace verbatim::api
