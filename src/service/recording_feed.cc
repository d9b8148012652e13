#include "service/recording_feed.h"

#include <vector>

namespace verbatim::service {

uint64_t RecordingFeed::Subscribe(Listener l) {
  MutexLock lock(mu_);
  const uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(l));
  return id;
}

void RecordingFeed::Unsubscribe(uint64_t id) {
  MutexLock lock(mu_);
  listeners_.erase(id);
}

void RecordingFeed::Publish(const std::string& conversation_id, const store::Recording& after) const {
  std::vector<Listener> copy;
  {
    MutexLock lock(mu_);
    copy.reserve(listeners_.size());
    for (const auto& [id, l] : listeners_) copy.push_back(l);
  }
  for (const auto& l : copy)
    if (l) l(conversation_id, after);
}

void RecordingFeed::AddInterest(const std::string& conversation_id) {
  MutexLock lock(mu_);
  ++interests_[conversation_id];
}

void RecordingFeed::RemoveInterest(const std::string& conversation_id) {
  MutexLock lock(mu_);
  auto it = interests_.find(conversation_id);
  if (it != interests_.end() && --it->second <= 0) interests_.erase(it);
}

std::vector<std::string> RecordingFeed::Interests() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  out.reserve(interests_.size());
  for (const auto& [id, n] : interests_) out.push_back(id);
  return out;
}

size_t RecordingFeed::size() const {
  MutexLock lock(mu_);
  return listeners_.size();
}

}  // namespace verbatim::service
