// GET /api/v2/events: the change log as server-sent events (docs/changes.md
// "Events"). The route (routes_events.cc) authorizes, then registers the
// stream here and answers with kEventStreamHeader; the HTTP server hands the
// connection back through Accept, and a writer owns it from then on:
//
//   id: 42
//   event: recording.paused
//   data: {…the entry, as GET /api/v2/changes shows it…}
//
// plus a comment line every heartbeat interval, until the client goes, its
// token expires, it may see nothing any more, or the server stops. A client
// that cannot keep up (more than kMaxQueuedBytes unsent) is disconnected; it
// resumes with Last-Event-ID and loses nothing.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "service/event_hub.h"
#include "transports/http/http_server.h"

namespace verbatim::api {

class EventStreamWriter;  // event_streams.cc
class FrameCache;         // event_streams.cc

struct EventStreamOptions {
  std::chrono::milliseconds heartbeat{15000};
  service::EventHub::Options hub;
};

class EventStreams {
 public:
  static constexpr size_t kMaxQueuedBytes = 4 << 20;

  EventStreams(store::Store& store, EventStreamOptions opts);
  ~EventStreams();  // after Shutdown

  // A stream the route authorized; Accept picks it up by the returned id.
  // `expires_at`: the token's expiry, when the stream ends.
  std::string Register(std::shared_ptr<service::EventSubscription> sub, TimePoint expires_at);
  // The connection of a registered stream, its response header still to write.
  void Accept(UpgradedConnection conn);
  // Ends every stream (the server is stopping).
  void Shutdown();

 private:
  struct Pending {
    std::shared_ptr<service::EventSubscription> sub;
    TimePoint expires_at;
    std::chrono::steady_clock::time_point registered;
  };

  const EventStreamOptions opts_;
  std::shared_ptr<service::EventHub> hub_;
  std::shared_ptr<FrameCache> frames_;  // each entry rendered once for all subscribers
  mutable Mutex mu_;
  std::unordered_map<std::string, Pending> pending_ GUARDED_BY(mu_);
  std::vector<std::weak_ptr<EventStreamWriter>> live_ GUARDED_BY(mu_);
};

// One entry as an event: "id: …\nevent: …\ndata: …\n\n".
std::string EventFrame(const store::ChangeEntry& e);
// The last event of a stream: "event: stream.end" with data {"reason": …}.
std::string EndFrame(std::string_view reason);

}  // namespace verbatim::api
