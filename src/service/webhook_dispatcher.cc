#include "service/webhook_dispatcher.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>

#include "core/crypto.h"
#include "core/log.h"
#include "service/event_hub.h"
#include "store/change_diff.h"

namespace verbatim::service {

namespace {

// When nothing is known to be due, the outbox is still read this often: for
// claims that lapsed (a node died) and deliveries another node queued.
constexpr std::chrono::seconds kIdleClaimEvery{5};

double Jitter() { return 0.8 + 0.2 * (randombytes_uniform(1'000'001) / 1'000'000.0); }

std::string Seconds(std::chrono::seconds s) {
  if (s.count() % 3600 == 0) return std::to_string(s.count() / 3600) + " h";
  return std::to_string(s.count()) + " s";
}

}  // namespace

std::chrono::milliseconds WebhookRetryDelay(int failures, std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, double jitter) {
  const int doublings = std::clamp(failures - 1, 0, 40);
  const double raw = static_cast<double>(base.count()) * std::pow(2.0, doublings);
  const double capped = std::min(raw, static_cast<double>(cap.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(capped * std::clamp(jitter, 0.8, 1.0)));
}

std::string WebhookDeliveryId(const std::string& webhook_id, int64_t change_id) {
  return "msg_" + HexEncode(Sha256(webhook_id + ":" + std::to_string(change_id))).substr(0, 32);
}

WebhookDispatcher::WebhookDispatcher(store::Store& store, const Clock& clock, WebhookRender render, WebhookSend send,
                                     Options opts, Metrics* metrics)
    : store_(store),
      clock_(clock),
      render_(std::move(render)),
      send_(std::move(send)),
      opts_(opts),
      metrics_(metrics) {
  if (opts_.threads) {
    pool_ = std::make_unique<WorkerPool>(static_cast<size_t>(std::max(1, opts_.senders)),
                                         static_cast<size_t>(std::max(1, opts_.senders)));
    loop_ = std::thread([this] { Run(); });
  }
}

WebhookDispatcher::~WebhookDispatcher() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  pool_.reset();  // waits for the attempts in flight
}

void WebhookDispatcher::Queue() {
  auto webhooks = store_.ListWebhooks();
  if (!webhooks.ok()) {
    Log(LogLevel::kWarn, "webhooks: cannot read the webhooks", {{"error", webhooks.status().message()}});
    return;
  }
  {
    MutexLock lock(mu_);
    webhooks_.clear();
    for (const auto& w : *webhooks) webhooks_.emplace(w.id, w);
  }
  if (webhooks->empty()) return;
  int64_t from = webhooks->front().cursor;
  for (const auto& w : *webhooks) from = std::min(from, w.cursor);
  store::ChangeFilter f;
  f.after_id = from;
  f.limit = opts_.page;
  auto page = store_.ListChanges(f);
  if (!page.ok()) {
    Log(LogLevel::kWarn, "webhooks: the change log cannot be read", {{"error", page.status().message()}});
    return;
  }
  if (page->empty()) return;
  const int64_t to = page->back().id;
  const TimePoint now = clock_.Now();
  bool queued = false;
  for (const auto& w : *webhooks) {
    if (w.cursor >= to) continue;
    std::vector<store::WebhookDelivery> deliveries;
    // A disabled webhook's cursor moves on without queuing: it is not sent
    // what happened while it was off (GET /api/v2/changes has it).
    if (w.enabled) {
      for (const auto& e : *page) {
        if (e.id <= w.cursor || !KindMatches(w.kinds, e.kind)) continue;
        store::WebhookDelivery d;
        d.id = WebhookDeliveryId(w.id, e.id);
        d.webhook_id = w.id;
        d.change_id = e.id;
        d.kind = e.kind;
        d.payload = render_(e);
        d.created_at = now;
        d.next_attempt_at = now;
        deliveries.push_back(std::move(d));
      }
    }
    Status s = store_.EnqueueDeliveries(w.id, w.cursor, to, deliveries);
    if (s.ok()) {
      queued = queued || !deliveries.empty();
    } else if (s.code() != "webhook.cursor.moved" && s.code() != "webhook.not.found") {
      Log(LogLevel::kWarn, "webhooks: cannot queue deliveries", {{"webhook", w.id}, {"error", s.message()}});
    }
  }
  if (queued) {
    MutexLock lock(mu_);
    next_due_ = now;
  }
}

std::vector<store::WebhookDelivery> WebhookDispatcher::Claim(int n, bool force) {
  const TimePoint now = clock_.Now();
  {
    MutexLock lock(mu_);
    const bool known_due = next_due_ && *next_due_ <= now;
    if (!force && !known_due && now - last_claim_ < kIdleClaimEvery) return {};
    last_claim_ = now;
    next_due_.reset();
  }
  auto claimed = store_.ClaimDueDeliveries(now, now + opts_.lease, n);
  if (!claimed.ok()) {
    Log(LogLevel::kWarn, "webhooks: cannot claim deliveries", {{"error", claimed.status().message()}});
    return {};
  }
  if (static_cast<int>(claimed->size()) == n) {  // more may be waiting
    MutexLock lock(mu_);
    next_due_ = now;
  }
  return std::move(*claimed);
}

std::optional<store::Webhook> WebhookDispatcher::WebhookOf(const std::string& id) {
  {
    MutexLock lock(mu_);
    if (auto it = webhooks_.find(id); it != webhooks_.end()) return it->second;
  }
  auto w = store_.GetWebhook(id);  // created on another node since the last round
  if (!w.ok()) return std::nullopt;
  return *w;
}

void WebhookDispatcher::Attempt(const store::WebhookDelivery& d) {
  std::optional<store::Webhook> w = WebhookOf(d.webhook_id);
  if (!w) return;  // deleted meanwhile: its deliveries went with it
  const WebhookAttemptResult r = send_(*w, d);
  const TimePoint now = clock_.Now();
  store::DeliveryAttempt a{d.id, now, r.status, r.error, store::DeliveryStatus::kDelivered, now};
  if (!r.ok()) {
    a.error = r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error;
    const auto delay = WebhookRetryDelay(d.attempts + 1, opts_.retry_base, opts_.retry_cap, Jitter());
    a.retry_at = now + delay;
    a.next = a.retry_at > d.created_at + opts_.retry_window ? store::DeliveryStatus::kFailed
                                                            : store::DeliveryStatus::kPending;
    Log(LogLevel::kWarn, "webhook delivery failed",
        {{"webhook", w->id}, {"delivery", d.id}, {"attempt", d.attempts + 1}, {"error", a.error},
         {"final", a.next == store::DeliveryStatus::kFailed}});
  }
  if (Status s = store_.RecordDeliveryAttempt(a); !s.ok()) {
    // The claim lapses and the delivery is attempted again, with the same id.
    Log(LogLevel::kWarn, "webhooks: cannot record an attempt", {{"delivery", d.id}, {"error", s.message()}});
    return;
  }
  if (metrics_) {
    const char* outcome = a.next == store::DeliveryStatus::kDelivered ? "delivered"
                          : a.next == store::DeliveryStatus::kFailed  ? "failed"
                                                                      : "retry";
    metrics_->Inc("verbatim_webhook_attempts_total", {{"outcome", outcome}});
  }
  if (a.next == store::DeliveryStatus::kFailed) DisableIfDead(*w, d, a.error);
  if (a.next == store::DeliveryStatus::kPending) {
    MutexLock lock(mu_);
    if (!next_due_ || a.retry_at < *next_due_) next_due_ = a.retry_at;
  }
}

// A delivery failed for the whole window: if nothing reached the webhook
// since it was queued, the receiver is gone, and it is disabled. (A receiver
// that refuses one event but takes the others stays enabled.)
void WebhookDispatcher::DisableIfDead(const store::Webhook& w, const store::WebhookDelivery& d,
                                      const std::string& error) {
  auto current = store_.GetWebhook(w.id);
  if (!current.ok() || !current->enabled) return;
  if (current->last_delivered_at && *current->last_delivered_at >= d.created_at) return;
  const TimePoint now = clock_.Now();
  const std::string reason = "Every attempt to deliver " + d.id + " failed for " +
                             Seconds(std::chrono::duration_cast<std::chrono::seconds>(opts_.retry_window)) +
                             " and nothing else was delivered meanwhile; the last attempt: " + error +
                             ". Fix the receiver, then enable the webhook again (docs/webhooks.md).";
  const store::ChangeAuthor by = store::OfflineAuthor("webhook dispatcher", now);
  if (Status s = store_.SetWebhookEnabled(w.id, false, reason, now, &by); !s.ok())
    Log(LogLevel::kWarn, "webhooks: cannot disable a failing webhook", {{"webhook", w.id}, {"error", s.message()}});
  else {
    if (metrics_) metrics_->Inc("verbatim_webhooks_disabled_total", {});
    Log(LogLevel::kWarn, "webhook disabled", {{"webhook", w.id}, {"reason", reason}});
  }
}

int WebhookDispatcher::RunOnce() {
  Queue();
  auto due = Claim(opts_.senders, /*force=*/true);
  for (const auto& d : due) Attempt(d);
  return static_cast<int>(due.size());
}

void WebhookDispatcher::Run() {
  // The log is read once per poll interval, not again each time an attempt
  // finishes and wakes the loop to claim more.
  std::chrono::steady_clock::time_point queued_at{};
  for (;;) {
    if (const auto t = std::chrono::steady_clock::now(); t - queued_at >= opts_.poll) {
      Queue();
      queued_at = t;
    }
    int free = 0;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      free = opts_.senders - in_flight_;
    }
    if (free > 0) {
      for (auto& d : Claim(free, /*force=*/false)) {
        {
          MutexLock lock(mu_);
          ++in_flight_;
        }
        const bool posted = pool_->Post([this, d = std::move(d)] {
          Attempt(d);
          {
            MutexLock lock(mu_);
            --in_flight_;
          }
          wake_.notify_all();
        });
        if (!posted) {  // cannot happen (the queue holds `senders`); the claim would lapse and be retried
          MutexLock lock(mu_);
          --in_flight_;
        }
      }
    }
    MutexLock lock(mu_);
    if (stopping_) return;
    const bool more_due = next_due_ && *next_due_ <= clock_.Now() && in_flight_ < opts_.senders;
    if (!more_due) wake_.wait_for(lock.native(), opts_.poll);
  }
}

}  // namespace verbatim::service
