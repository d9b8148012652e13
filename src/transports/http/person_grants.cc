#include "transports/http/person_grants.h"

#include <algorithm>
#include <optional>

#include "oauth/client_cutoff.h"
#include "oauth/token_response.h"
#include "transports/http/app.h"
#include "transports/http/oauth_client_auth.h"
#include "transports/http/sign_in_audit.h"

namespace verbatim::api {
namespace {

std::string_view Param(const oauth::Form& form, const char* name) {
  const std::string* v = form.Find(name);
  return v ? std::string_view(*v) : std::string_view();
}

bool Allows(const store::OAuthClient& c, std::string_view grant) {
  return std::find(c.allowed_grant_types.begin(), c.allowed_grant_types.end(), grant) != c.allowed_grant_types.end();
}

// Why the person's sign-in at `auth_time` no longer stands, or nullopt: the
// user is gone, or the rules that refuse its tokens (oauth/client_cutoff.h:
// disabled, or a cutoff at or after it) refuse the sign-in itself.
std::optional<std::string> SignInEnded(const store::OAuthClient& client, const Result<store::User>& user,
                                       TimePoint auth_time) {
  if (!user.ok()) return "the user it signed in no longer exists.";
  authz::TokenCheck sign_in;
  sign_in.issued_at = auth_time;
  oauth::CheckAgainstUser(sign_in, *user);
  oauth::CheckAgainstClient(sign_in, client);
  if (sign_in.ok()) return std::nullopt;
  return sign_in.detail;  // "it was issued at …, and user 'alice' refuses every token issued until …"
}

}  // namespace

HttpResponse TokenForPerson(App& app, RequestContext& ctx, const store::OAuthClient& client, const oauth::Form& form) {
  auto fail = [&](int status, const char* code, std::string description) {
    return TokenError(app, ctx, status, code, std::move(description));
  };
  auto refused = [&](const Status& s) {
    if (s.code() == oauth::kGrantReused) {
      NoteSignIn(app, ctx, {"oauth:session:revoke", &client, nullptr, false, 400, std::string(oauth::kGrantReused),
                            s.message()});
      return fail(400, "invalid_grant", s.message());
    }
    if (s.code() == "invalid_grant") return fail(400, "invalid_grant", s.message());
    return app.Fail(ctx, s);
  };
  const bool by_code = Param(form, "grant_type") == "authorization_code";

  // What the grant stands for: the sign-in (family), who, which scopes, when.
  store::RefreshToken session;
  std::optional<oauth::IssuedRefresh> refresh;
  if (by_code) {
    if (Param(form, "code").empty()) return fail(400, "invalid_request", "Parameter 'code' is required.");
    auto code = app.sign_ins().RedeemCode(Param(form, "code"), client.id, Param(form, "redirect_uri"),
                                          Param(form, "code_verifier"));
    if (!code.ok()) return refused(code.status());
    session.family_id = code->family_id;
    session.user_id = code->user_id;
    session.scopes = code->scopes;
    session.auth_time = code->auth_time;
    if (Allows(client, "refresh_token")) {
      auto first = app.sign_ins().StartRefresh(*code);
      if (!first.ok() && first.status().kind() == Status::Kind::kNotFound)  // deleted since the sign-in
        return fail(400, "invalid_grant", "This sign-in has ended: " + first.status().message() + " Sign in again.");
      if (!first.ok()) return app.Fail(ctx, first.status());
      refresh = std::move(*first);
    }
  } else {
    if (Param(form, "refresh_token").empty())
      return fail(400, "invalid_request", "Parameter 'refresh_token' is required.");
    auto next = app.sign_ins().RotateRefresh(Param(form, "refresh_token"), client.id);
    if (!next.ok()) return refused(next.status());
    session = next->record;
    refresh = std::move(*next);
  }

  auto user = app.store().GetUser(session.user_id);  // the store, not a snapshot: another node may have changed it
  if (!user.ok() && user.status().kind() != Status::Kind::kNotFound) return app.Fail(ctx, user.status());
  if (auto why = SignInEnded(client, user, session.auth_time)) {
    if (Status s = app.sign_ins().RevokeFamily(session.family_id); !s.ok()) return app.Fail(ctx, s);
    return fail(400, "invalid_grant", "This sign-in has ended: " + *why + " Sign in again.");
  }

  // Scopes: what the sign-in approved, still allowed to the client; a refresh
  // may ask for fewer for this access token (RFC 6749 §6).
  std::vector<std::string> scopes;
  for (const auto& s : session.scopes)
    if (std::find(client.allowed_scopes.begin(), client.allowed_scopes.end(), s) != client.allowed_scopes.end())
      scopes.push_back(s);
  if (!by_code && !Param(form, "scope").empty()) {
    std::vector<std::string> asked = SplitScopes(Param(form, "scope"));
    for (const auto& s : asked)
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end())
        return fail(400, "invalid_scope",
                    "Scope '" + s.substr(0, 64) + "' was not granted to this sign-in; a refresh can only narrow it.");
    scopes = std::move(asked);
  }

  auto issued = app.tokens().IssueForUser(client, *user, std::move(scopes), session.family_id, session.auth_time);
  if (!issued.ok()) return app.Fail(ctx, issued.status());
  app.metrics().Inc("verbatim_tokens_issued_total", {{"grant_type", by_code ? "authorization_code" : "refresh_token"}});
  return TokenSuccess(
      oauth::TokenResponseJson(*issued, refresh ? std::string_view(refresh->token) : std::string_view()));
}

}  // namespace verbatim::api
