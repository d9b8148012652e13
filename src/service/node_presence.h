// NodePresence: this node's heartbeat in the shared store, and the watch over
// every node's live media sessions (docs/deployment.md, "Media sessions and
// node failure").
//
// Every lease/3 the node pushes its own lease forward, then interrupts the
// sessions of every node whose lease ran out: any node may do that, the store
// serializes it per conversation, and a session is interrupted once. A node
// that finds its own lease had run out (a long pause, a database it could not
// reach) claims its live sessions again. Start() ends what the node's
// previous run held before any session opens: a node that starts again is no
// longer recording those calls, whatever their lease says.
//
// Transport-free: what the node records and what to do with an interruption
// (audit, metrics) are given.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "store/store.h"

namespace verbatim::service {

// Why a node ended a media session it found claimed.
enum class InterruptCause {
  kLeaseExpired,   // its node stopped renewing its lease (died, or lost the database)
  kNodeRestarted,  // its node started again: its previous run held it
  kNodeStopped,    // its node is stopping (the hub has finished its files)
};

class NodePresence {
 public:
  struct Options {
    std::string node_id;
    std::string advertise_url;
    std::chrono::milliseconds lease{10000};  // renewed every lease/3
    bool threads = true;                     // false: no thread, the owner calls RunOnce (tests)
    std::function<void()> each_round;        // after every round that reached the store (optional)
  };
  // The sessions this node holds now (claimed again after its lease ran out).
  using LiveSessions = std::function<std::vector<store::MediaSessionClaim>()>;
  // The sessions this node interrupted, at `at`, and why.
  using OnInterrupted =
      std::function<void(const std::vector<store::MediaSessionClaim>&, TimePoint at, InterruptCause cause)>;

  NodePresence(store::Store& store, const Clock& clock, Options opts, LiveSessions live, OnInterrupted interrupted);
  ~NodePresence();  // stops the thread
  NodePresence(const NodePresence&) = delete;
  NodePresence& operator=(const NodePresence&) = delete;

  // The first heartbeat, and the previous run's sessions ended; then the
  // thread. Call before the media hub opens any session. On an error (no
  // database) the previous run's claims may still be held: serve stops.
  Status Start();
  // One round on the calling thread: heartbeat, claims again if the lease had
  // run out, then the other nodes' expired sessions interrupted.
  void RunOnce();
  // The node stops: the thread ends, and the sessions it still holds are
  // interrupted now (call it after the media hub has finished their files)
  // rather than when its lease runs out.
  void Leave();

  const std::string& node_id() const { return opts_.node_id; }
  TimePoint started_at() const { return started_at_; }

 private:
  void Run();
  void StopThread();
  // Interrupts, in the store, the sessions of nodes whose lease ran out and,
  // if `own` is set, every session of this node (its previous run's at
  // start, its own at stop), and reports them to `interrupted_`.
  Result<std::vector<store::MediaSessionClaim>> Interrupt(bool own, InterruptCause cause);
  Status Heartbeat();
  void Reclaim();

  store::Store& store_;
  const Clock& clock_;
  const Options opts_;
  const LiveSessions live_;
  const OnInterrupted interrupted_;
  const TimePoint started_at_;

  Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread loop_;
};

}  // namespace verbatim::service
