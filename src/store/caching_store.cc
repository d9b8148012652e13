#include "store/caching_store.h"

#include <functional>

namespace verbatim::store {

CachingStore::CachingStore(std::unique_ptr<Store> inner, size_t capacity)
    : inner_(std::move(inner)), per_shard_(std::max<size_t>(1, capacity / 16)) {}

CachingStore::Shard& CachingStore::ShardFor(const std::string& id) {
  return shards_[std::hash<std::string>{}(id) % shards_.size()];
}

void CachingStore::Invalidate(const std::string& id) {
  Shard& s = ShardFor(id);
  MutexLock lock(s.mu);
  s.entries.erase(id);
  ++s.epoch;
}

void CachingStore::InvalidateAll() {
  for (Shard& s : shards_) {
    MutexLock lock(s.mu);
    s.entries.clear();
    ++s.epoch;
  }
}

Result<std::unique_ptr<ChangeWatch>> CachingStore::WatchChanges(ChangeHandler handler) {
  return inner_->WatchChanges([this, handler = std::move(handler)](const std::vector<Change>& changes) {
    for (const auto& c : changes) {
      if (c.topic == ChangeTopic::kConversation) Invalidate(c.id);
      if (c.topic == ChangeTopic::kResync) InvalidateAll();
    }
    handler(changes);
  });
}

template <class T, class Load, class Field>
Result<T> CachingStore::Cached(const std::string& id, Load load, Field field) {
  Shard& s = ShardFor(id);
  uint64_t epoch;
  {
    MutexLock lock(s.mu);
    auto it = s.entries.find(id);
    if (it != s.entries.end() && (it->second.*field)) {
      ++s.hits;
      return *(it->second.*field);
    }
    ++s.misses;
    epoch = s.epoch;
  }
  Result<T> loaded = load();
  if (!loaded.ok()) return loaded;  // misses are not cached: a later create must be seen
  MutexLock lock(s.mu);
  if (s.epoch != epoch) return loaded;  // a write raced with this read: do not install it
  if (s.entries.size() >= per_shard_ && !s.entries.count(id)) s.entries.erase(s.entries.begin());
  s.entries[id].*field = std::make_shared<const T>(*loaded);
  return loaded;
}

Result<Conversation> CachingStore::GetConversation(const std::string& id) {
  return Cached<Conversation>(id, [&] { return inner_->GetConversation(id); }, &Entry::conversation);
}

Result<Recording> CachingStore::GetRecording(const std::string& conversation_id) {
  return Cached<Recording>(conversation_id, [&] { return inner_->GetRecording(conversation_id); }, &Entry::recording);
}

Result<Conversation> CachingStore::DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                                          const std::string& context_id, ChangeRefused* refused) {
  auto r = inner_->DisconnectConversation(id, at, actor, context_id, refused);
  Invalidate(id);
  return r;
}

Status CachingStore::AddParticipant(const std::string& conversation_id, const Participant& p) {
  Status s = inner_->AddParticipant(conversation_id, p);
  Invalidate(conversation_id);
  return s;
}

Result<ActionOutcome> CachingStore::ApplyRecordingAction(const std::string& conversation_id, RecordingAction action,
                                                         TimePoint at, const Actor& actor, const std::string& reason,
                                                         const std::string& context_id, const AuditEvent* audit,
                                                         ChangeRefused* refused) {
  auto r = inner_->ApplyRecordingAction(conversation_id, action, at, actor, reason, context_id, audit, refused);
  if (!r.ok() || r->changed) Invalidate(conversation_id);
  return r;
}

Result<Recording> CachingStore::UpdateRecordingMetadata(const std::string& conversation_id,
                                                        const RecordingMetadata& m) {
  auto r = inner_->UpdateRecordingMetadata(conversation_id, m);
  Invalidate(conversation_id);
  return r;
}

Status CachingStore::UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) {
  Status s = inner_->UpsertMediaFile(conversation_id, f);
  Invalidate(conversation_id);
  return s;
}

Result<std::optional<MediaSessionClaim>> CachingStore::ClaimMediaSession(const MediaSessionClaim& claim, TimePoint now) {
  auto r = inner_->ClaimMediaSession(claim, now);
  Invalidate(claim.conversation_id);
  return r;
}

Result<std::vector<MediaSessionClaim>> CachingStore::InterruptMediaSessions(TimePoint now,
                                                                           const std::string& restarted_node) {
  auto r = inner_->InterruptMediaSessions(now, restarted_node);
  // On failure some may have been ended already: whatever is cached may be stale.
  if (!r.ok()) InvalidateAll();
  else
    for (const auto& c : *r) Invalidate(c.conversation_id);
  return r;
}

Status CachingStore::CreateConversation(const Conversation& c) {
  Status s = inner_->CreateConversation(c);
  Invalidate(c.id);
  return s;
}

CachingStore::CacheStats CachingStore::stats() const {
  CacheStats out;
  for (auto& s : shards_) {
    MutexLock lock(s.mu);
    out.hits += s.hits;
    out.misses += s.misses;
  }
  return out;
}

}  // namespace verbatim::store
