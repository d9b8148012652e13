// RecordingFeed: who hears about a recording's change. The media layer (the
// SIPREC server, the AudioHook endpoint, the media hub) follows the control
// state through it; a gRPC Watch stream subscribes for one call's lifetime.
// Every committed change is published once, whichever transport made it.
//
// Thread-safe. Listeners run on the publishing thread, outside the lock, and
// must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/model.h"

namespace verbatim::service {

class RecordingFeed {
 public:
  // `after` is the recording after the change: its timeline holds the
  // transition just committed, if any.
  using Listener = std::function<void(const std::string& conversation_id, const store::Recording& after)>;

  uint64_t Subscribe(Listener l);
  void Unsubscribe(uint64_t id);
  void Publish(const std::string& conversation_id, const store::Recording& after) const;
  size_t size() const;

  // Conversations a listener here follows (a gRPC Watch). With several nodes,
  // their changes committed through another node are read back and published
  // here too (transports/http/app.h, FollowOtherNodes). Counted: add and
  // remove in pairs.
  void AddInterest(const std::string& conversation_id);
  void RemoveInterest(const std::string& conversation_id);
  std::vector<std::string> Interests() const;

 private:
  mutable Mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Listener> listeners_ GUARDED_BY(mu_);
  std::map<std::string, int> interests_ GUARDED_BY(mu_);
};

}  // namespace verbatim::service
