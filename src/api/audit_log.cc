#include "api/audit_log.h"

#include "core/log.h"

namespace verbatim::api {

AuditLog::AuditLog(store::Store& store, const Clock& clock, AuditLogOptions opts)
    : store_(store), clock_(clock), opts_(opts), next_purge_(std::chrono::steady_clock::now()) {
  writer_ = std::thread([this] { Run(); });
}

AuditLog::~AuditLog() { Stop(); }

void AuditLog::Record(store::AuditEvent e) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(e));
  ++enqueued_;
  if (queue_.size() >= 256) wake_.notify_one();
}

void AuditLog::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_;
  wake_.notify_one();
  committed_.wait(lock, [&] { return committed_n_ >= target || (stop_ && !writer_.joinable()); });
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

int64_t AuditLog::PurgeExpired() {
  if (opts_.retention.count() <= 0) return 0;
  const TimePoint cutoff = clock_.Now() - opts_.retention;
  int64_t total = 0;
  for (int i = 0; i < opts_.purge_max_batches; ++i) {
    auto n = store_.PurgeAuditBefore(cutoff, opts_.purge_batch);
    if (!n.ok()) {
      Log(LogLevel::kError, "audit retention failed", {{"error", n.status().message()}});
      break;
    }
    total += *n;
    if (*n < opts_.purge_batch) break;
  }
  if (total > 0) Log(LogLevel::kInfo, "audit events past retention deleted", {{"events", total}});
  return total;
}

uint64_t AuditLog::write_errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

void AuditLog::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, opts_.interval, [&] { return stop_ || queue_.size() >= 256 || committed_n_ < enqueued_; });
    if (opts_.retention.count() > 0 && !stop_ && std::chrono::steady_clock::now() >= next_purge_) {
      next_purge_ = std::chrono::steady_clock::now() + opts_.purge_every;
      lock.unlock();
      PurgeExpired();
      lock.lock();
    }
    if (queue_.empty()) {
      if (stop_) break;
      continue;
    }
    std::vector<store::AuditEvent> batch(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.unlock();
    Status s = store_.AppendAudit(batch);
    lock.lock();
    if (!s.ok()) {
      ++errors_;
      Log(LogLevel::kError, "audit write failed", {{"events", batch.size()}, {"error", s.message()}});
    }
    committed_n_ += batch.size();
    committed_.notify_all();
  }
  committed_.notify_all();
}

}  // namespace verbatim::api
