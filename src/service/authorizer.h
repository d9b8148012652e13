// Authorizer: the one decision path every transport (HTTP, gRPC, AudioHook)
// takes before it acts (docs/api.md §2):
//
//   address refused? → verify the bearer token → cached denial? →
//   token → scope → permission (authz::Evaluate) → count the decision
//
// The resource layer is concluded afterwards by the use case that loads the
// resource (service/recordings.h, service/conversations.h). Nothing here
// knows HTTP or gRPC: a transport passes the credentials as sent and the
// client's address, and renders the Authorization it gets back.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "authz/engine.h"
#include "oauth/token_service.h"
#include "service/change_history.h"
#include "service/directory.h"
#include "service/metrics.h"
#include "service/rate_limiter.h"

namespace verbatim::service {

// Who is calling, as the transport saw it.
struct Caller {
  std::string_view authorization;  // "Bearer <token>": the Authorization header or gRPC metadata, as sent
  std::string_view remote_ip;      // the client's address (after trusted proxies)
};

// What one call is allowed to do, and why (or why not).
struct Authorization {
  authz::Decision decision;
  std::optional<authz::Principal> principal;  // set once the token resolved to an enabled client
  authz::TokenCheck token;
  std::chrono::seconds retry_after{0};  // with a 429 decision
  bool allowed() const { return decision.allowed; }
};

// What is asked: the permission (empty with token_only), on which resource.
struct AccessRequest {
  std::string action;        // e.g. recording:recording:start
  std::string resource;      // e.g. conversation/<id>
  bool token_only = false;   // any valid token will do (GET /api/v2/tokens/me, the simulator)
  std::string metrics_route; // the route or RPC, for verbatim_rate_limited_total
};

struct AuthFailureLimits {
  double per_second = 10;  // failed authentications/s per source address
  double burst = 100;      // ... allowed in a burst before 429
};

class Authorizer {
 public:
  // `history` (optional) adds what changed to denials (service/change_history.h).
  Authorizer(AuthFailureLimits limits, oauth::TokenService& tokens, Directory& directory, Metrics& metrics,
             const ChangeHistory* history = nullptr);

  // A transport's cache of earlier denials, asked once the token is known:
  // fills `out.decision`/`out.principal` and returns true on a hit.
  using DenialLookup = std::function<bool(const authz::TokenCheck& token, Authorization& out)>;

  Authorization Authorize(const Caller& caller, const AccessRequest& request, const DenialLookup& cached = {});

  // The engine's input for `token` (the client's current state applied:
  // disabled, cut off, its principal). Also used by the simulator.
  authz::Request MakeRequest(const authz::TokenCheck& token, std::string action, std::string resource);
  // The engine's whole decision (token, scope, permission) for `token`
  // asking `action` on `resource`: a check beyond a call's own permission.
  authz::Decision Decide(const authz::TokenCheck& token, std::string action, std::string resource);

  // Failed authentications per source address (AddressKey: IPv6 by /64) and,
  // on the token endpoint, per (client id, address), so failures from one
  // address never lock a client out elsewhere. AuthBlocked() says whether to
  // refuse before doing any crypto. Pass `client_id` to CountAuthFailure only
  // for a client that exists (unknown ids would only fill the limiter).
  std::optional<RateLimiter::Verdict> AuthBlocked(std::string_view ip, std::string_view client_id = {});
  void CountAuthFailure(std::string_view ip, std::string_view client_id = {});
  size_t LimiterKeys() const;  // buckets held by the limiters (a metric)

  // Adds to a denial the recent changes that explain it (d.history), for
  // the principal or, when the token was refused, whoever it was issued to.
  void AnnotateHistory(authz::Decision& d, const std::optional<authz::Principal>& principal,
                       const authz::TokenCheck& token) const;
  // verbatim_authz_decisions_total{decision, layer, code}.
  void CountDecision(const authz::Decision& d);

 private:
  // Constant after construction.
  oauth::TokenService& tokens_;
  Directory& directory_;
  Metrics& metrics_;
  const ChangeHistory* history_;
  // Thread-safe themselves.
  RateLimiter fail_ip_limiter_;
  RateLimiter fail_client_limiter_;
};

}  // namespace verbatim::service
