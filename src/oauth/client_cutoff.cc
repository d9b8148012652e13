#include "oauth/client_cutoff.h"

#include <algorithm>
#include <vector>

namespace verbatim::oauth {
namespace {

std::vector<std::string> Removed(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  std::vector<std::string> out;
  for (const auto& x : before)
    if (std::find(after.begin(), after.end(), x) == after.end()) out.push_back(x);
  return out;
}

std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "'" : ", '") + i + "'";
  return out;
}

std::string RoleName(const std::string& id, std::span<const authz::RoleDef> roles) {
  for (const auto& r : roles)
    if (r.id == id) return r.name;
  return id;
}

}  // namespace

namespace {

void AddRolesRemoved(std::vector<std::string>& why, const std::vector<std::string>& before,
                     const std::vector<std::string>& after, std::span<const authz::RoleDef> roles) {
  auto ids = Removed(before, after);
  if (ids.empty()) return;
  std::vector<std::string> names;
  for (const auto& id : ids) names.push_back(RoleName(id, roles));
  why.push_back((names.size() == 1 ? "role " : "roles ") + Listed(names) + (names.size() == 1 ? " was" : " were") +
                " removed from it");
}

std::optional<std::string> Joined(const std::vector<std::string>& why) {
  if (why.empty()) return std::nullopt;
  std::string out;
  for (const auto& w : why) out += (out.empty() ? "" : "; ") + w;
  return out;
}

template <class Holder>
void Cut(Holder& h, TimePoint at, std::string reason) {
  h.tokens_valid_after = FromUnixMillis(ToUnixMillis(at));
  h.tokens_valid_after_reason = std::move(reason);
}

}  // namespace

std::optional<std::string> TokensInvalidatedBy(const store::OAuthClient& before, const store::OAuthClient& after,
                                               std::span<const authz::RoleDef> roles) {
  std::vector<std::string> why;
  if (before.secret_hash != after.secret_hash) why.push_back("its secret was rotated");
  if (before.enabled && !after.enabled) why.push_back("it was disabled");
  if (auto scopes = Removed(before.allowed_scopes, after.allowed_scopes); !scopes.empty()) {
    why.push_back((scopes.size() == 1 ? "scope " : "scopes ") + Listed(scopes) +
                  (scopes.size() == 1 ? " was" : " were") + " removed from its allowed scopes");
  }
  AddRolesRemoved(why, before.role_ids, after.role_ids, roles);
  return Joined(why);
}

std::optional<std::string> TokensInvalidatedBy(const store::User& before, const store::User& after,
                                               std::span<const authz::RoleDef> roles) {
  std::vector<std::string> why;
  if (before.password_hash != after.password_hash) why.push_back("its password was changed");
  if (before.enabled && !after.enabled) why.push_back("it was disabled");
  AddRolesRemoved(why, before.role_ids, after.role_ids, roles);
  return Joined(why);
}

void InvalidateTokens(store::OAuthClient& c, TimePoint at, std::string reason) { Cut(c, at, std::move(reason)); }

void InvalidateTokens(store::User& u, TimePoint at, std::string reason) { Cut(u, at, std::move(reason)); }

namespace {

// `who` is "client 'crm'" or "user 'alice'"; `claim` names the token claim
// that points at it.
template <class Holder>
void CheckAgainst(authz::TokenCheck& token, const Holder& h, const std::string& who, const char* claim) {
  if (!token.ok()) return;
  const std::string since = h.tokens_valid_after ? " since " + FormatRfc3339(*h.tokens_valid_after) : "";
  if (!h.enabled) {
    token.problem = authz::TokenProblem::kRevoked;
    token.claim = claim;
    token.detail = who + " is disabled" + since + ".";
    return;
  }
  if (!h.tokens_valid_after || token.issued_at > *h.tokens_valid_after) return;
  token.problem = authz::TokenProblem::kRevoked;
  token.claim = "iat";
  token.detail = "it was issued at " + FormatRfc3339(token.issued_at) + ", and " + who +
                 " refuses every token issued until " + FormatRfc3339(*h.tokens_valid_after) + ", when " +
                 (h.tokens_valid_after_reason.empty() ? std::string("its tokens were revoked")
                                                      : h.tokens_valid_after_reason) +
                 ".";
}

TimePoint After(TimePoint iat, const std::optional<TimePoint>& cutoff) {
  if (cutoff && iat <= *cutoff) return FromUnixSeconds(ToUnixSeconds(*cutoff)) + std::chrono::seconds(1);
  return iat;
}

}  // namespace

void CheckAgainstClient(authz::TokenCheck& token, const store::OAuthClient& c) {
  CheckAgainst(token, c, "client '" + c.name + "'", "client_id");
}

void CheckAgainstUser(authz::TokenCheck& token, const store::User& u) {
  CheckAgainst(token, u, "user '" + u.username + "'", "sub");
}

TimePoint IssuedAtFor(const store::OAuthClient& c, TimePoint now) {
  return After(FromUnixSeconds(ToUnixSeconds(now)), c.tokens_valid_after);
}

TimePoint IssuedAtFor(const store::OAuthClient& c, const store::User& u, TimePoint now) {
  return After(IssuedAtFor(c, now), u.tokens_valid_after);
}

}  // namespace verbatim::oauth
