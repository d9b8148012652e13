#include "service/node_presence.h"

#include "core/log.h"

namespace verbatim::service {

NodePresence::NodePresence(store::Store& store, const Clock& clock, Options opts, LiveSessions live,
                           OnInterrupted interrupted)
    : store_(store),
      clock_(clock),
      opts_(std::move(opts)),
      live_(std::move(live)),
      interrupted_(std::move(interrupted)),
      started_at_(clock.Now()) {}

NodePresence::~NodePresence() { StopThread(); }

void NodePresence::StopThread() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
}

Result<std::vector<store::MediaSessionClaim>> NodePresence::Interrupt(bool own, InterruptCause cause) {
  const TimePoint now = clock_.Now();
  auto ended = store_.InterruptMediaSessions(now, own ? opts_.node_id : std::string());
  if (ended.ok() && !ended->empty()) interrupted_(*ended, now, cause);
  return ended;
}

void NodePresence::Leave() {
  StopThread();
  if (auto ended = Interrupt(true, InterruptCause::kNodeStopped); !ended.ok())
    Log(LogLevel::kWarn, "media sessions not released at stop; they end when this node's lease runs out",
        {{"node", opts_.node_id}, {"error", ended.status().message()}});
}

Status NodePresence::Start() {
  Status s = Heartbeat();
  if (s.ok()) {
    auto ended = Interrupt(true, InterruptCause::kNodeRestarted);
    if (!ended.ok()) s = ended.status();
    else if (!ended->empty())
      Log(LogLevel::kWarn, "media sessions of this node's previous run interrupted",
          {{"node", opts_.node_id}, {"sessions", ended->size()}});
  }
  if (opts_.threads) loop_ = std::thread([this] { Run(); });
  return s;
}

Status NodePresence::Heartbeat() {
  const TimePoint now = clock_.Now();
  store::NodeRecord me{opts_.node_id, opts_.advertise_url, started_at_, now, now + opts_.lease};
  auto before = store_.HeartbeatNode(me);
  if (!before.ok()) return before.status();
  // Our lease ran out before this renewal: another node may have interrupted
  // what we still record. Claim it again (what was interrupted stays so in the
  // log; the files go on).
  if (*before && **before < now) {
    Log(LogLevel::kWarn, "this node's lease had run out; claiming its live media sessions again",
        {{"node", opts_.node_id}, {"lapsedMs", std::chrono::duration_cast<std::chrono::milliseconds>(now - **before).count()}});
    Reclaim();
  }
  return Status::Ok();
}

void NodePresence::Reclaim() {
  for (const auto& c : live_()) {
    const TimePoint now = clock_.Now();
    auto r = store_.ClaimMediaSession(c, now);
    if (r.ok() && *r) interrupted_({**r}, now, InterruptCause::kLeaseExpired);  // a lapsed node's claim it replaced
    // media.busy: we still hold it (the usual case) or another node took the
    // call over; either way there is nothing to take.
    if (!r.ok() && r.status().code() != "media.busy")
      Log(LogLevel::kWarn, "media session not claimed again",
          {{"conversationId", c.conversation_id}, {"error", r.status().message()}});
  }
}

void NodePresence::RunOnce() {
  if (Status s = Heartbeat(); !s.ok()) {
    Log(LogLevel::kWarn, "node heartbeat failed", {{"node", opts_.node_id}, {"error", s.message()}});
    return;  // whether others' leases ran out is not ours to judge without the store
  }
  if (opts_.each_round) opts_.each_round();
  auto ended = Interrupt(false, InterruptCause::kLeaseExpired);
  if (!ended.ok()) {
    Log(LogLevel::kWarn, "expired media sessions not interrupted", {{"error", ended.status().message()}});
    return;
  }
  for (const auto& c : *ended)
    Log(LogLevel::kWarn, "media session interrupted: its node stopped renewing its lease",
        {{"conversationId", c.conversation_id}, {"node", c.node_id}, {"transport", c.transport}});
}

void NodePresence::Run() {
  const auto period = std::max(opts_.lease / 3, std::chrono::milliseconds(100));
  for (;;) {
    {
      MutexLock lock(mu_);
      wake_.wait_for(lock.native(), period, [&] {
        mu_.AssertHeld();
        return stopping_;
      });
      if (stopping_) return;
    }
    RunOnce();
  }
}

}  // namespace verbatim::service
