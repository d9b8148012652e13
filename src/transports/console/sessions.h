// ConsoleSessions: who is signed in to the console (docs/console.md
// "Sessions"). The browser holds only an opaque cookie; the tokens its
// sign-in earned stay here, in memory, keyed by the cookie's SHA-256 (a
// lookup by hash leaks nothing through timing, and a heap dump holds no
// cookie). (A sign-in in flight keeps nothing here: its PKCE verifier
// travels sealed in the browser's login cookie, gateway.cc.)
//
// A session ends when idle for `idle_timeout`, at its sign-in's end, at sign
// out, or when the server restarts (the person signs in again; the refresh
// token it held is then simply never used).
//
// Thread-safe. Token refresh is serialized per session by the gateway
// (Session::mu), so two requests never spend the same refresh token: that
// would look like a replay and revoke the sign-in (RFC 9700 §4.14.2).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"

namespace verbatim::console {

struct SessionLimits {
  std::chrono::seconds idle_timeout{3600};
  size_t max_sessions = 10000;               // the least recently used goes first
};

// The tokens of one signed-in person.
struct SessionTokens {
  std::string access_token;
  TimePoint access_expires_at;
  std::string refresh_token;
};

// The outcome of renewing a session's access token: the token, or the sign-in
// ended (the person must sign in again), or the token endpoint could not
// answer now (a 429 or 5xx: retry).
struct Renewal {
  std::optional<std::string> access_token;
  bool sign_in_ended = false;
  std::string why;
};

struct Session {
  std::string user_id;
  std::string sign_in_id;  // the "sid" of its tokens: the refresh token family
  std::string csrf_token;  // sent back in X-CSRF-Token by every write
  TimePoint ends_at;       // the sign-in's own end (oauth::SignInGrantOptions::session_lifetime)

  Mutex mu;
  SessionTokens tokens GUARDED_BY(mu);
  bool refreshing GUARDED_BY(mu) = false;
  // Requests waiting for the refresh in flight, called with its outcome.
  std::vector<std::function<void(const Renewal&)>> waiting GUARDED_BY(mu);
};

class ConsoleSessions {
 public:
  ConsoleSessions(const Clock& clock, SessionLimits limits = {});

  // Keeps a new session; returns the cookie value that finds it (256 random bits).
  std::string Create(std::string user_id, std::string sign_in_id, SessionTokens tokens, TimePoint ends_at);
  // The session `cookie` finds, if it has not ended; touching it restarts the idle clock.
  std::shared_ptr<Session> Find(std::string_view cookie);
  void Remove(std::string_view cookie);
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    TimePoint last_used;
  };
  void PruneLocked(TimePoint now) REQUIRES(mu_);

  const Clock& clock_;
  const SessionLimits limits_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Entry> sessions_ GUARDED_BY(mu_);  // SHA-256(cookie) →
};

}  // namespace verbatim::console
