#include "transports/http/event_streams.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <map>

#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "transports/http/views.h"

namespace verbatim::api {

namespace asio = boost::asio;
namespace beast = boost::beast;

std::string EventFrame(const store::ChangeEntry& e) {
  // JSON text has no raw newline, so `data` is one line.
  return "id: " + std::to_string(e.id) + "\nevent: " + e.kind + "\ndata: " +
         ToValidUtf8(json::serialize(ChangeEntryJson(e))) + "\n\n";
}

std::string EndFrame(std::string_view reason) {
  return "event: stream.end\ndata: {\"reason\":\"" + std::string(reason) + "\"}\n\n";
}

// The hub hands every subscriber of a round the same entries: each is
// rendered once, and the others get the frame from here (the last kKeep, by id).
class FrameCache {
 public:
  std::string FrameOf(const store::ChangeEntry& e) {
    MutexLock lock(mu_);
    if (auto it = frames_.find(e.id); it != frames_.end()) return it->second;
    std::string frame = EventFrame(e);
    frames_.emplace(e.id, frame);
    while (frames_.size() > kKeep) frames_.erase(frames_.begin());
    return frame;
  }

 private:
  static constexpr size_t kKeep = 2048;
  Mutex mu_;
  std::map<int64_t, std::string> frames_ GUARDED_BY(mu_);
};

// The owner of one event-stream connection. Enqueue may be called from any
// thread (the hub's); everything else runs on the connection's executor.
class EventStreamWriter {
 public:
  virtual ~EventStreamWriter() = default;
  // False when the stream is closed or would hold more than kMaxQueuedBytes.
  virtual bool Enqueue(std::string frame) = 0;
  virtual void Close(std::string last_frame) = 0;
};

namespace {

template <class Stream>
class Writer final : public EventStreamWriter, public std::enable_shared_from_this<Writer<Stream>> {
 public:
  Writer(Stream stream, ConnectionLimiter::Slot slot, std::weak_ptr<service::EventHub> hub,
         std::chrono::milliseconds heartbeat, TimePoint expires_at)
      : stream_(std::move(stream)),
        slot_(std::move(slot)),
        hub_(std::move(hub)),
        heartbeat_every_(heartbeat),
        expires_at_(expires_at),
        heartbeat_(stream_.get_executor()),
        expiry_(stream_.get_executor()) {}

  ~Writer() override {
    if (auto hub = hub_.lock(); hub && sub_id_ != 0) hub->Unsubscribe(sub_id_);
  }

  // Before anyone else holds the writer: the response header comes first,
  // whatever the hub delivers once subscribed.
  void Prime(std::string head) {
    // The reconnection delay EventSource clients use when the stream ends.
    out_ = std::move(head) + "retry: 2000\n\n";
  }

  void Start(uint64_t sub_id) {
    sub_id_ = sub_id;
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->Flush();
      self->WatchForClose();
      self->ArmHeartbeat();
      self->ArmExpiry();
    });
  }

  bool Enqueue(std::string frame) override {
    if (closed_.load()) return false;
    if (queued_.fetch_add(frame.size()) + frame.size() > EventStreams::kMaxQueuedBytes) {
      Close("");
      return false;
    }
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->out_ += frame;
      self->Flush();
    });
    return true;
  }

  void Close(std::string last_frame) override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), last = std::move(last_frame)]() mutable {
      if (self->closed_.load()) return;
      if (last.empty()) return self->CloseNow();
      self->closing_ = true;
      self->out_ += last;
      self->Flush();
    });
  }

 private:
  void Flush() {
    if (writing_ || closed_.load()) return;
    if (out_.empty()) {
      if (closing_) CloseNow();
      return;
    }
    writing_ = true;
    auto buf = std::make_shared<std::string>(std::move(out_));
    out_.clear();
    asio::async_write(stream_, asio::buffer(*buf), [self = this->shared_from_this(), buf](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->queued_.fetch_sub(std::min(self->queued_.load(), buf->size()));
      if (ec) return self->CloseNow();
      self->Flush();
    });
  }

  // The client sends nothing on an event stream: any read completing means it
  // closed the connection (or broke the protocol).
  void WatchForClose() {
    stream_.async_read_some(asio::buffer(probe_), [self = this->shared_from_this()](beast::error_code, size_t) {
      self->CloseNow();
    });
  }

  void ArmHeartbeat() {
    heartbeat_.expires_after(heartbeat_every_);
    heartbeat_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_.load()) return;
      // A comment: ignored by clients, keeps proxies and load balancers from closing an idle stream.
      self->out_ += ": keep-alive\n\n";
      self->Flush();
      self->ArmHeartbeat();
    });
  }

  // A stream lives as long as the token that opened it: the client
  // reconnects with a new token and Last-Event-ID.
  void ArmExpiry() {
    expiry_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::max(expires_at_ - std::chrono::system_clock::now(), std::chrono::system_clock::duration::zero())));
    expiry_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_.load()) return;
      self->closing_ = true;
      self->out_ += EndFrame("token.expired");
      self->Flush();
    });
  }

  void CloseNow() {
    if (closed_.exchange(true)) return;
    heartbeat_.cancel();
    expiry_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
    if (auto hub = hub_.lock(); hub && sub_id_ != 0) hub->Unsubscribe(sub_id_);
  }

  Stream stream_;
  ConnectionLimiter::Slot slot_;  // the connection's place under the caps, for as long as it lives
  const std::weak_ptr<service::EventHub> hub_;
  const std::chrono::milliseconds heartbeat_every_;
  const TimePoint expires_at_;
  asio::steady_timer heartbeat_;
  asio::steady_timer expiry_;
  std::atomic<uint64_t> sub_id_{0};
  std::string out_;  // not yet handed to a write
  bool writing_ = false;
  bool closing_ = false;  // close once out_ is written
  std::atomic<bool> closed_{false};
  std::atomic<size_t> queued_{0};
  std::array<char, 64> probe_{};
};

}  // namespace

EventStreams::EventStreams(store::Store& store, EventStreamOptions opts)
    : opts_(opts), hub_(std::make_shared<service::EventHub>(store, opts.hub)), frames_(std::make_shared<FrameCache>()) {}

EventStreams::~EventStreams() { Shutdown(); }

std::string EventStreams::Register(std::shared_ptr<service::EventSubscription> sub, TimePoint expires_at) {
  const std::string id = RandomToken(16);
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(mu_);
  // A registration whose connection never came back (the client left before
  // the answer was written) is dropped after a while.
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = now - it->second.registered > std::chrono::seconds(30) ? pending_.erase(it) : std::next(it);
  }
  pending_.emplace(id, Pending{std::move(sub), expires_at, now});
  return id;
}

void EventStreams::Accept(UpgradedConnection conn) {
  std::optional<Pending> p;
  {
    MutexLock lock(mu_);
    auto it = pending_.find(conn.event_stream);
    if (it != pending_.end()) {
      p = std::move(it->second);
      pending_.erase(it);
    }
  }
  if (!p) return;  // unknown: the connection closes as `conn` goes
  std::visit(
      [&](auto& stream) {
        using Stream = std::decay_t<decltype(stream)>;
        auto w = std::make_shared<Writer<Stream>>(std::move(stream), std::move(conn.slot), hub_, opts_.heartbeat,
                                                  p->expires_at);
        std::weak_ptr<EventStreamWriter> weak = w;
        p->sub->deliver = [weak, cache = frames_](std::vector<store::ChangeEntry> entries) {
          auto writer = weak.lock();
          if (!writer) return false;
          std::string frames;
          for (const auto& e : entries) frames += cache->FrameOf(e);
          return writer->Enqueue(std::move(frames));
        };
        p->sub->ended = [weak] {
          if (auto writer = weak.lock()) writer->Close(EndFrame("access.lost"));
        };
        {
          MutexLock lock(mu_);
          std::erase_if(live_, [](const auto& x) { return x.expired(); });
          live_.push_back(w);
        }
        w->Prime(std::move(conn.head));
        w->Start(hub_->Subscribe(p->sub));
      },
      conn.stream);
}

void EventStreams::Shutdown() {
  std::vector<std::shared_ptr<EventStreamWriter>> live;
  {
    MutexLock lock(mu_);
    for (auto& w : live_)
      if (auto s = w.lock()) live.push_back(std::move(s));
    live_.clear();
    pending_.clear();
  }
  for (auto& w : live) w->Close(EndFrame("server.stopping"));
}

}  // namespace verbatim::api
