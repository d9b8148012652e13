// EventHub: subscribers to the change log (docs/changes.md "Events"). One
// poller per node reads what was committed since the oldest subscriber's
// cursor (one query per round, whatever the number of subscribers, several
// nodes included: the log is in the shared database) and hands each
// subscriber, in id order, the entries it asked for and may see.
//
// Resuming is reading from an older cursor: a subscriber that starts behind
// the others catches up a page per round, without gaps, because entries are
// visible in id order (store.h).
//
// Thread-safe. Callbacks run on the poller's thread and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "store/store.h"

namespace verbatim::service {

struct EventSubscription {
  int64_t cursor = 0;  // the last id this subscriber has (or never wants)
  std::vector<std::string> kinds;  // exact kinds or families ending in '.'; empty: every kind
  std::optional<std::string> conversation_id;
  // Whether the subscriber may see an entry; nullopt: it may see nothing any
  // more (its token was revoked, its client disabled): the hub ends it.
  std::function<std::optional<bool>(const store::ChangeEntry&)> may_see;
  // The entries for it, in id order. False: the subscriber is gone or cannot
  // keep up; the hub drops it.
  std::function<bool(std::vector<store::ChangeEntry>)> deliver;
  std::function<void()> ended;  // the hub dropped it because may_see said so (optional)
};

// A kind filter as clients write it: lowercase words joined by dots ("client.updated"),
// or a family ending in a dot ("recording.").
bool IsKindFilter(std::string_view k);
// Does `kind` match one of `filters` (an exact kind, or a family "client.")? Empty filters match all.
bool KindMatches(const std::vector<std::string>& filters, std::string_view kind);

class EventHub {
 public:
  struct Options {
    std::chrono::milliseconds interval{200};  // how often the log is read while anyone listens
    int page = 500;                           // entries read per round
    bool poller = true;                       // false: no thread, the owner calls PollOnce (tests)
  };
  EventHub(store::Store& store, Options opts);
  ~EventHub();  // stops the poller
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  uint64_t Subscribe(std::shared_ptr<EventSubscription> s);
  void Unsubscribe(uint64_t id);
  size_t subscribers() const;

  // One round: what the poller does each interval (tests call it directly).
  // Returns true if a page was full (more is waiting).
  bool PollOnce();

 private:
  void Run();

  store::Store& store_;
  const Options opts_;
  mutable Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool poke_ GUARDED_BY(mu_) = false;  // a new subscriber: read now, not at the next interval
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::unordered_map<uint64_t, std::shared_ptr<EventSubscription>> subs_ GUARDED_BY(mu_);
  Mutex poll_mu_;  // one round at a time (the poller, or a test)
  std::thread poller_;
};

}  // namespace verbatim::service
