#include "service/audit_log.h"

#include <algorithm>

#include "core/log.h"

namespace verbatim::service {

std::string TruncateForAudit(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  // Back off to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "\u2026[truncated, " + std::to_string(s.size()) + " bytes]";
}

AuditLog::AuditLog(store::Store& store, const Clock& clock, AuditLogOptions opts)
    : store_(store),
      clock_(clock),
      opts_(opts),
      next_purge_(std::chrono::steady_clock::now()),
      aggregator_(opts.aggregation) {
  writer_ = std::thread([this] { Run(); });
}

AuditLog::~AuditLog() { Stop(); }

void AuditLog::PushLocked(store::AuditEvent e) {
  queue_.push_back(std::move(e));
  ++enqueued_;
  queued_.store(enqueued_ - committed_n_, std::memory_order_relaxed);
  if (queue_.size() >= 256) wake_.notify_one();
}

void AuditLog::CloseAggregatesLocked(bool force) {
  for (auto& e : aggregator_.Close(clock_.Now(), force)) PushLocked(std::move(e));
}

void AuditLog::Record(store::AuditEvent e) {
  MutexLock lock(mu_);
  PushLocked(std::move(e));
}

void AuditLog::RecordUnauthenticated(store::AuditEvent e, std::string_view address_key) {
  MutexLock lock(mu_);
  CloseAggregatesLocked(false);  // a denial after the interval's end starts the next one
  if (auto individual = aggregator_.Offer(std::move(e), address_key)) PushLocked(std::move(*individual));
}

bool AuditLog::Flush(std::chrono::milliseconds timeout) {
  MutexLock lock(mu_);
  CloseAggregatesLocked(true);
  const uint64_t target = enqueued_;
  wake_.notify_one();
  return committed_.wait_for(lock.native(), timeout, [&] { mu_.AssertHeld(); return committed_n_ >= target || writer_done_; });
}

void AuditLog::Stop() {
  {
    MutexLock lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

AuditLog::Health AuditLog::health() const {
  MutexLock lock(mu_);
  Health h;
  h.writer_failing = writer_failing_.load(std::memory_order_relaxed);
  h.queued = queued_.load(std::memory_order_relaxed);
  h.queue_full = h.queued >= opts_.max_queued;
  h.available = !h.writer_failing && !h.queue_full;
  if (!h.available) {
    auto wait = std::chrono::ceil<std::chrono::seconds>(retry_at_ - std::chrono::steady_clock::now());
    h.retry_after = std::max(std::chrono::seconds(1), h.writer_failing ? wait : std::chrono::seconds(1));
  }
  return h;
}

uint64_t AuditLog::write_errors() const {
  MutexLock lock(mu_);
  return errors_;
}

uint64_t AuditLog::aggregated() const {
  MutexLock lock(mu_);
  return aggregator_.folded_total();
}

int64_t AuditLog::PurgeExpired() {
  if (opts_.retention.count() <= 0) return 0;
  const TimePoint cutoff = clock_.Now() - opts_.retention;
  // Bounded batches, so the writer is never held long; stops at the first failure.
  auto purge = [&](const char* what, auto&& batch) {
    int64_t total = 0;
    for (int i = 0; i < opts_.purge_max_batches; ++i) {
      auto n = batch();
      if (!n.ok()) {
        Log(LogLevel::kError, std::string(what) + " retention failed", {{"error", n.status().message()}});
        break;
      }
      total += *n;
      if (*n < opts_.purge_batch) break;
    }
    if (total > 0) Log(LogLevel::kInfo, std::string(what) + " past retention deleted", {{"deleted", total}});
    return total;
  };
  const int64_t events = purge("audit events", [&] { return store_.PurgeAuditBefore(cutoff, opts_.purge_batch); });
  // The change log (docs/changes.md) is kept as long as the audit trail.
  purge("change-log entries", [&] { return store_.PurgeChangesBefore(cutoff, opts_.purge_batch); });
  // and so are finished webhook deliveries (docs/webhooks.md).
  purge("webhook deliveries", [&] { return store_.PurgeDeliveriesBefore(cutoff, opts_.purge_batch); });
  return events;
}

void AuditLog::Run() {
  using SteadyClock = std::chrono::steady_clock;
  MutexLock lock(mu_);
  auto backoff = opts_.retry_first;
  std::optional<SteadyClock::time_point> give_up;  // once stopping while the store fails
  for (;;) {
    const bool failing = writer_failing_.load(std::memory_order_relaxed);
    if (failing) {
      wake_.wait_until(lock.native(), retry_at_);
    } else {
      // Commits as soon as anything is queued (batches form while the previous
      // commit runs); an idle writer looks again every `interval`.
      wake_.wait_for(lock.native(), opts_.interval, [&] { mu_.AssertHeld(); return stop_ || committed_n_ < enqueued_; });
    }
    CloseAggregatesLocked(stop_);
    if (opts_.retention.count() > 0 && !stop_ && !failing && SteadyClock::now() >= next_purge_) {
      next_purge_ = SteadyClock::now() + opts_.purge_every;
      lock.Unlock();
      PurgeExpired();
      lock.Lock();
    }
    // A retried batch takes what arrived meanwhile: one transaction for all.
    for (auto& e : queue_) inflight_.push_back(std::move(e));
    queue_.clear();
    if (inflight_.empty()) {
      if (stop_) break;
      continue;
    }
    if (failing && SteadyClock::now() < retry_at_) continue;  // woken before the back-off ended

    lock.Unlock();
    Status s = store_.AppendAudit(inflight_);
    lock.Lock();
    if (s.ok()) {
      if (failing)
        Log(LogLevel::kWarn, "audit writes recovered", {{"events", inflight_.size()}, {"failedAttempts", errors_}});
      committed_n_ += inflight_.size();
      inflight_.clear();
      queued_.store(enqueued_ - committed_n_, std::memory_order_relaxed);
      writer_failing_.store(false, std::memory_order_relaxed);
      backoff = opts_.retry_first;
      committed_.notify_all();
      continue;
    }
    // Fail closed: keep the batch, refuse new protected requests, retry.
    ++errors_;
    writer_failing_.store(true, std::memory_order_relaxed);
    const auto now = SteadyClock::now();
    retry_at_ = now + backoff;
    Log(LogLevel::kError, "audit write failed; protected requests are refused until it succeeds",
        {{"events", inflight_.size()}, {"error", s.message()}, {"retryInMs", backoff.count()}});
    backoff = std::min(backoff * 2, opts_.retry_max);
    if (stop_) {
      if (!give_up) give_up = now + opts_.stop_grace;
      if (now >= *give_up) {
        Log(LogLevel::kError, "audit events lost at shutdown: the store kept failing",
            {{"events", inflight_.size()}, {"graceSeconds", opts_.stop_grace.count()}});
        committed_n_ += inflight_.size();
        inflight_.clear();
        break;
      }
    }
  }
  writer_done_ = true;
  committed_.notify_all();
}

std::string_view AuditUnavailableReason(const AuditLog::Health& h) {
  return h.writer_failing ? "audit-write-failing" : "audit-queue-full";
}

std::chrono::seconds AuditRetryAfter(const AuditLog::Health& h) {
  return std::max(std::chrono::seconds(1), h.retry_after);
}

std::string AuditUnavailableMessage(const AuditLog::Health& h) {
  const std::string why = h.writer_failing ? "its store refuses writes" : "too many events wait to be written";
  return "The audit log cannot record requests (" + why +
         "); this one was refused before anything was done. Retry in " + std::to_string(AuditRetryAfter(h).count()) +
         " s.";
}

}  // namespace verbatim::service
