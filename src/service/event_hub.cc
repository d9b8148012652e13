#include "service/event_hub.h"

#include <algorithm>

#include "core/log.h"

namespace verbatim::service {

bool IsKindFilter(std::string_view k) {
  if (k.empty() || k.size() > 64 || k.front() == '.') return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || c == '.' || c == '-')) return false;
  return true;
}

bool KindMatches(const std::vector<std::string>& filters, std::string_view kind) {
  if (filters.empty()) return true;
  for (const auto& f : filters) {
    if (!f.empty() && f.back() == '.' ? kind.substr(0, f.size()) == f : kind == f) return true;
  }
  return false;
}

EventHub::EventHub(store::Store& store, Options opts) : store_(store), opts_(opts) {
  if (opts_.poller) poller_ = std::thread([this] { Run(); });
}

EventHub::~EventHub() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (poller_.joinable()) poller_.join();
}

uint64_t EventHub::Subscribe(std::shared_ptr<EventSubscription> s) {
  uint64_t id;
  {
    MutexLock lock(mu_);
    id = next_id_++;
    subs_.emplace(id, std::move(s));
    poke_ = true;
  }
  wake_.notify_all();  // a resuming subscriber catches up at once
  return id;
}

void EventHub::Unsubscribe(uint64_t id) {
  MutexLock lock(mu_);
  subs_.erase(id);
}

size_t EventHub::subscribers() const {
  MutexLock lock(mu_);
  return subs_.size();
}

bool EventHub::PollOnce() {
  MutexLock round(poll_mu_);
  std::vector<std::pair<uint64_t, std::shared_ptr<EventSubscription>>> subs;
  {
    MutexLock lock(mu_);
    subs.assign(subs_.begin(), subs_.end());
  }
  if (subs.empty()) return false;
  int64_t from = subs.front().second->cursor;
  for (const auto& [id, s] : subs) from = std::min(from, s->cursor);

  store::ChangeFilter f;
  f.after_id = from;
  f.limit = opts_.page;
  auto page = store_.ListChanges(f);
  if (!page.ok()) {
    // The database is away: the subscribers wait (their cursors stay), and
    // the next round tries again.
    Log(LogLevel::kWarn, "event stream: the change log cannot be read", {{"error", page.status().message()}});
    return false;
  }
  const bool full = static_cast<int>(page->size()) == opts_.page;
  // Where every subscriber stands after this page: past all of it, even the
  // entries it filtered out, so that it is not read again.
  const int64_t reached = page->empty() ? from : page->back().id;
  std::vector<uint64_t> drop;
  for (auto& [id, s] : subs) {
    if (s->cursor >= reached) continue;
    std::vector<store::ChangeEntry> mine;
    bool ended = false;
    for (const auto& e : *page) {
      if (e.id <= s->cursor) continue;
      if (!KindMatches(s->kinds, e.kind)) continue;
      if (s->conversation_id && (e.subject_type != "conversation" || e.subject_id != *s->conversation_id)) continue;
      const std::optional<bool> see = s->may_see ? s->may_see(e) : std::optional<bool>(true);
      if (!see) {
        ended = true;
        break;
      }
      if (*see) mine.push_back(e);
    }
    if (ended) {
      if (!mine.empty()) s->deliver(std::move(mine));
      if (s->ended) s->ended();
      drop.push_back(id);
      continue;
    }
    s->cursor = reached;
    if (!mine.empty() && !s->deliver(std::move(mine))) drop.push_back(id);
  }
  if (!drop.empty()) {
    MutexLock lock(mu_);
    for (uint64_t id : drop) subs_.erase(id);
  }
  return full;
}

void EventHub::Run() {
  MutexLock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock.native(), opts_.interval, [&] {
      mu_.AssertHeld();
      return stopping_ || poke_;
    });
    if (stopping_) break;
    poke_ = false;
    if (subs_.empty()) continue;
    lock.Unlock();
    // A full page: more is waiting (a subscriber catching up): read on at once.
    while (PollOnce()) {
    }
    lock.Lock();
  }
}

}  // namespace verbatim::service
