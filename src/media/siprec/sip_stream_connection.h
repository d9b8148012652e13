// One SIP connection over a stream transport: read, frame (Content-Length,
// RFC 3261 §18.3), hand each message to the server, write the answers.
// Templated on the Asio stream so that TLS (ssl::stream<tcp::socket>, after
// its handshake) can use it as is: the dialog logic never sees the transport.
//
// Writes go out one at a time from a queue bounded in bytes: a peer that
// stops reading while it keeps sending requests would otherwise make us hold
// every answer in memory. Past the bound the connection is closed and counted.
//
// Threading: everything runs on the io thread that owns the socket; Send()
// from other threads posts there.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "media/sip/message.h"
#include "media/siprec/uas.h"

namespace verbatim::media::siprec {

// What a connection needs from the server that owns it.
class StreamHost {
 public:
  virtual ~StreamHost() = default;
  // Handles one framed message (or an unframeable prefix, `framed` false);
  // returns the bytes to send back.
  virtual std::vector<std::string> OnStreamMessage(std::string_view raw, bool framed, Peer peer) = 0;
  virtual void OnStreamSent() = 0;  // one message written
  virtual void OnWriteQueueOverflow() = 0;
};

struct StreamLimits {
  size_t max_buffer = 2 * sip::kMaxMessageBytes;  // unparsed input held
  size_t max_write_queue = 256 * 1024;            // answers not yet written
  std::chrono::seconds idle{600};                 // no input for this long: close
};

template <class Stream>
class SipStreamConnection : public std::enable_shared_from_this<SipStreamConnection<Stream>> {
 public:
  // `live` counts open connections; the destructor decrements it (it may run
  // when the io_context is torn down, after the host is gone: hence shared).
  SipStreamConnection(StreamHost& host, Stream stream, SipTransport transport, std::optional<IpAddress> address,
                      uint16_t port, StreamLimits limits, std::shared_ptr<std::atomic<size_t>> live)
      : host_(host),
        live_(std::move(live)),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        transport_(transport),
        address_(std::move(address)),
        port_(port),
        limits_(limits) {}
  ~SipStreamConnection() { --*live_; }

  void Start() { Read(); }

 private:
  void Read() {
    timer_.expires_after(limits_.idle);
    timer_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->Close();
    });
    stream_.async_read_some(boost::asio::buffer(chunk_),
                            [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec || self->closed_) return self->Close();
                              self->buffer_.append(self->chunk_.data(), n);
                              self->Drain();
                            });
  }

  Peer MakePeer() {
    Peer p;
    p.transport = transport_;
    p.address = address_;
    p.port = port_;
    p.send = [weak = this->weak_from_this()](std::string bytes) {
      if (auto self = weak.lock())
        boost::asio::post(self->stream_.get_executor(),
                          [self, bytes = std::move(bytes)]() mutable { self->Send(std::move(bytes)); });
    };
    return p;
  }

  void Drain() {
    for (;;) {
      auto len = sip::FrameLength(buffer_);
      if (!len.ok()) {
        // Framing is lost (no Content-Length, oversized): answer once if we can, then close.
        auto out = host_.OnStreamMessage(std::string_view(buffer_).substr(0, sip::kMaxMessageBytes), false, MakePeer());
        for (auto& bytes : out) Send(std::move(bytes));
        return CloseWhenSent();
      }
      if (!*len) break;  // need more bytes
      std::string frame = buffer_.substr(0, **len);
      buffer_.erase(0, **len);
      for (auto& bytes : host_.OnStreamMessage(frame, true, MakePeer())) Send(std::move(bytes));
      if (closed_) return;
    }
    if (buffer_.size() > limits_.max_buffer) return Close();
    Read();
  }

  void Send(std::string bytes) {
    if (closed_) return;
    queued_bytes_ += bytes.size();
    if (queued_bytes_ > limits_.max_write_queue) {
      host_.OnWriteQueueOverflow();
      return Close();
    }
    queue_.push_back(std::move(bytes));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    writing_ = true;
    boost::asio::async_write(stream_, boost::asio::buffer(queue_.front()),
                             [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                               self->writing_ = false;
                               if (ec || self->closed_) return self->Close();
                               self->queued_bytes_ -= self->queue_.front().size();
                               self->queue_.pop_front();
                               self->host_.OnStreamSent();
                               if (!self->queue_.empty()) return self->WriteNext();
                               if (self->close_when_sent_) self->Close();
                             });
  }

  void CloseWhenSent() {
    close_when_sent_ = true;
    if (!writing_ && queue_.empty()) Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    timer_.cancel();
    stream_.lowest_layer().shutdown(boost::asio::socket_base::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

  StreamHost& host_;
  const std::shared_ptr<std::atomic<size_t>> live_;
  Stream stream_;
  boost::asio::steady_timer timer_;
  const SipTransport transport_;
  const std::optional<IpAddress> address_;
  const uint16_t port_;
  const StreamLimits limits_;
  std::array<char, 16384> chunk_;
  std::string buffer_;             // received, not yet framed
  std::deque<std::string> queue_;  // to write, front is in flight while writing_
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool close_when_sent_ = false;
  bool closed_ = false;
};

}  // namespace verbatim::media::siprec
