#include "service/authorizer.h"

#include <algorithm>

#include "service/client_address.h"

namespace verbatim::service {

Authorizer::Authorizer(AuthFailureLimits limits, oauth::TokenService& tokens, Directory& directory, Metrics& metrics,
                       const ChangeHistory* history)
    : tokens_(tokens),
      directory_(directory),
      metrics_(metrics),
      history_(history),
      fail_ip_limiter_(limits.per_second, limits.burst),
      fail_client_limiter_(limits.per_second, limits.burst) {}

std::optional<RateLimiter::Verdict> Authorizer::AuthBlocked(std::string_view ip, std::string_view client_id) {
  auto now = SteadyNanos();
  const std::string address = AddressKey(ip);
  if (auto v = fail_ip_limiter_.Peek(address, now); !v.allowed) return v;
  if (!client_id.empty())
    if (auto v = fail_client_limiter_.Peek(std::string(client_id) + '\n' + address, now); !v.allowed) return v;
  return std::nullopt;
}

void Authorizer::CountAuthFailure(std::string_view ip, std::string_view client_id) {
  auto now = SteadyNanos();
  const std::string address = AddressKey(ip);
  fail_ip_limiter_.Take(address, now);
  if (!client_id.empty()) fail_client_limiter_.Take(std::string(client_id) + '\n' + address, now);
}

size_t Authorizer::LimiterKeys() const { return fail_ip_limiter_.size() + fail_client_limiter_.size(); }

authz::Request Authorizer::MakeRequest(const authz::TokenCheck& token, std::string action, std::string resource) {
  authz::Request r;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.token = token;
  r.principal = directory_.PrincipalFor(r.token);
  return r;
}

Authorization Authorizer::Authorize(const Caller& caller, const AccessRequest& request, const DenialLookup& cached) {
  Authorization out;
  if (auto blocked = AuthBlocked(caller.remote_ip)) {
    // Too many failed authentications from this address: refuse before any crypto.
    out.token.problem = authz::TokenProblem::kMissing;
    authz::Request req = MakeRequest(out.token, request.action, request.resource);
    out.decision = authz::Evaluate(req);
    auto& d = out.decision;
    auto& l = d.layer(authz::Layer::kToken);
    l.code = d.code = "too.many.requests";
    l.detail = "too many failed authentications from this address.";
    d.status = 429;
    d.message = d.message_template = "Too many failed authentications from this address; retry in " +
                                      std::to_string(std::max<int64_t>(1, blocked->retry_after.count())) + " s.";
    d.params.clear();
    d.fix = {"Wait for Retry-After seconds, then send a valid token."};
    out.retry_after = std::max(std::chrono::seconds(1), blocked->retry_after);
    metrics_.Inc("verbatim_rate_limited_total", {{"route", request.metrics_route}});
    return out;
  }
  out.token = tokens_.CheckAuthorization(caller.authorization);
  // No token at all is not a failed authentication: only a wrong one is.
  if (!out.token.ok() && out.token.problem != authz::TokenProblem::kMissing) CountAuthFailure(caller.remote_ip);
  if (!request.token_only && cached && cached(out.token, out)) {
    CountDecision(out.decision);
    return out;
  }
  authz::Request req = MakeRequest(out.token, request.action, request.resource);
  auto catalog = directory_.Roles();
  req.role_catalog = *catalog;
  out.token = req.token;
  out.principal = req.principal;
  out.decision = request.token_only ? authz::EvaluateTokenOnly(req) : authz::Evaluate(req);
  if (!out.decision.allowed) AnnotateHistory(out.decision, out.principal, out.token);
  CountDecision(out.decision);
  return out;
}

authz::Decision Authorizer::Decide(const authz::TokenCheck& token, std::string action, std::string resource) {
  authz::Request req = MakeRequest(token, std::move(action), std::move(resource));
  auto catalog = directory_.Roles();  // held while the request points into it
  req.role_catalog = *catalog;
  return authz::Evaluate(req);
}

void Authorizer::AnnotateHistory(authz::Decision& d, const std::optional<authz::Principal>& principal,
                                 const authz::TokenCheck& token) const {
  if (history_ == nullptr || d.allowed) return;
  HistorySubject who;
  if (token.issued_at != TimePoint{}) who.token_issued_at = token.issued_at;
  if (principal) {
    who.type = principal->type;
    who.id = principal->id;
    who.scope_client_id = principal->via_client_id.empty() ? principal->id : principal->via_client_id;
    for (const auto& r : principal->roles) who.role_ids.push_back(r.id);
  } else if (!token.client_id.empty()) {
    // A refused token: whoever it was issued to (a person's sub is not its client).
    const bool person = !token.subject.empty() && token.subject != token.client_id;
    who.type = person ? "user" : "client";
    who.id = person ? token.subject : token.client_id;
    who.scope_client_id = token.client_id;
  } else {
    return;
  }
  auto catalog = directory_.Roles();
  history_->Annotate(d, who, *catalog);
}

void Authorizer::CountDecision(const authz::Decision& d) {
  const authz::LayerResult* failed = authz::FirstFailure(d);
  const std::string_view layer = failed ? authz::ToString(failed->layer) : "";
  metrics_.Inc("verbatim_authz_decisions_total",
               {{"decision", d.allowed ? "allow" : "deny"}, {"layer", std::string(layer)}, {"code", d.code}});
}

}  // namespace verbatim::service
