#include "transports/console/sessions.h"

#include <algorithm>

#include "core/crypto.h"
#include "oauth/client_secret.h"

namespace verbatim::console {

ConsoleSessions::ConsoleSessions(const Clock& clock, SessionLimits limits) : clock_(clock), limits_(limits) {}

void ConsoleSessions::PruneLocked(TimePoint now) {
  std::erase_if(sessions_, [&](const auto& kv) {
    return now - kv.second.last_used >= limits_.idle_timeout || now >= kv.second.session->ends_at;
  });
}

std::string ConsoleSessions::Create(std::string user_id, std::string sign_in_id, SessionTokens tokens,
                                    TimePoint ends_at) {
  auto s = std::make_shared<Session>();
  s->user_id = std::move(user_id);
  s->sign_in_id = std::move(sign_in_id);
  s->csrf_token = oauth::NewClientSecret();
  s->ends_at = ends_at;
  {
    MutexLock l(s->mu);
    s->tokens = std::move(tokens);
  }
  std::string cookie = oauth::NewClientSecret();
  std::string key = Sha256(cookie);
  const TimePoint now = clock_.Now();
  MutexLock l(mu_);
  if (sessions_.size() >= limits_.max_sessions) PruneLocked(now);
  if (sessions_.size() >= limits_.max_sessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
  sessions_[std::move(key)] = Entry{std::move(s), now};
  return cookie;
}

std::shared_ptr<Session> ConsoleSessions::Find(std::string_view cookie) {
  if (cookie.empty()) return nullptr;
  const std::string key = Sha256(cookie);
  const TimePoint now = clock_.Now();
  MutexLock l(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  if (now - it->second.last_used >= limits_.idle_timeout || now >= it->second.session->ends_at) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_used = now;
  return it->second.session;
}

void ConsoleSessions::Remove(std::string_view cookie) {
  const std::string key = Sha256(cookie);
  MutexLock l(mu_);
  sessions_.erase(key);
}

size_t ConsoleSessions::size() const {
  MutexLock l(mu_);
  return sessions_.size();
}

}  // namespace verbatim::console
