// WebhookDispatcher: pushes the change log to webhooks (docs/webhooks.md).
//
// Two steps, each safe to run on several nodes at once:
//  1. queue: for each webhook, the log entries after its cursor that match its
//     kinds become deliveries in the store's outbox, and the cursor moves, in
//     one transaction (a compare-and-set: another node's round changes nothing);
//  2. send: due deliveries are claimed (leased for one attempt) and sent by a
//     few sender threads; each outcome is recorded. A failed attempt is retried
//     with exponential backoff, with the same id and body, until the retry
//     window (24 h) has passed; then the delivery fails, and if nothing reached
//     the webhook since that delivery was queued, the webhook is disabled with
//     the reason.
//
// A restart loses nothing: what is queued is in the store, and a claim held by
// a process that died lapses after its lease, so the delivery is sent again
// with the same id. Transport-free: rendering and sending are given.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/clock.h"
#include "core/mutex.h"
#include "service/metrics.h"
#include "service/worker_pool.h"
#include "store/store.h"

namespace verbatim::service {

// What one attempt got back.
struct WebhookAttemptResult {
  int status = 0;     // the HTTP status; 0 = no response
  std::string error;  // "" on success; else why, in words a person can act on
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

// The request body of an entry (rendered once, when it is queued).
using WebhookRender = std::function<std::string(const store::ChangeEntry&)>;
// Signs and sends one attempt; called on a sender thread.
using WebhookSend = std::function<WebhookAttemptResult(const store::Webhook&, const store::WebhookDelivery&)>;

// The wait before retry number `failures` (1 = after the first failure):
// base * 2^(failures-1), at most cap, scaled by `jitter` in [0.8, 1].
std::chrono::milliseconds WebhookRetryDelay(int failures, std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, double jitter);

// The delivery id of an entry for a webhook: the same whoever queues it.
std::string WebhookDeliveryId(const std::string& webhook_id, int64_t change_id);

class WebhookDispatcher {
 public:
  struct Options {
    std::chrono::milliseconds poll{500};          // how often the log and the outbox are read
    std::chrono::milliseconds retry_base{5000};   // the first retry's wait
    std::chrono::milliseconds retry_cap{std::chrono::hours(1)};
    std::chrono::seconds retry_window{std::chrono::hours(24)};  // then a delivery fails
    std::chrono::milliseconds lease{15000};       // an attempt's claim: more than its timeout
    int senders = 4;                              // attempts in flight
    int page = 500;                               // log entries read per round
    bool threads = true;                          // false: no threads, the owner calls RunOnce (tests)
  };
  // `metrics` (optional) counts attempts by outcome and the webhooks disabled.
  WebhookDispatcher(store::Store& store, const Clock& clock, WebhookRender render, WebhookSend send, Options opts,
                    Metrics* metrics = nullptr);
  ~WebhookDispatcher();  // stops; attempts in flight finish (bounded by their timeout)
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // One round on the calling thread (tests): queue, then claim what is due
  // and attempt it. Returns the number of attempts made.
  int RunOnce();

 private:
  void Run();
  void Queue();
  // Claims up to `n` due deliveries (at most every few seconds when nothing is known to be due).
  std::vector<store::WebhookDelivery> Claim(int n, bool force);
  void Attempt(const store::WebhookDelivery& d);
  std::optional<store::Webhook> WebhookOf(const std::string& id);
  void DisableIfDead(const store::Webhook& w, const store::WebhookDelivery& d, const std::string& error);

  store::Store& store_;
  const Clock& clock_;
  const WebhookRender render_;
  const WebhookSend send_;
  const Options opts_;
  Metrics* const metrics_;

  Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  int in_flight_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, store::Webhook> webhooks_ GUARDED_BY(mu_);  // as of the last round
  std::optional<TimePoint> next_due_ GUARDED_BY(mu_);  // the earliest known retry; nullopt: claim now
  TimePoint last_claim_ GUARDED_BY(mu_);
  std::unique_ptr<WorkerPool> pool_;
  std::thread loop_;
};

}  // namespace verbatim::service
