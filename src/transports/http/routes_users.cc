// Users (docs/users.md): people who sign in, with roles as clients have them.
// Needs scope `admin` and permission directory:user:*; every write stays
// within the caller's own authority (transports/http/delegation_guard.h).
// Passwords are hashed with Argon2id on the worker pool (non-GET routes never
// run on an I/O thread) and are never shown, except one the server generates,
// once, in the response that created it.
#include "transports/http/admin_common.h"
#include "transports/http/app.h"
#include "transports/http/delegation_guard.h"
#include "transports/http/views.h"
#include "core/ids.h"
#include "oauth/password_hash.h"
#include "service/user_rules.h"

namespace verbatim::api {
namespace {

using FieldProblem = std::pair<std::string, std::string>;  // (message, field)

// Applies the fields of `body` onto `u`; a new password is returned (not yet
// hashed) in `password`. (message, field) on the first problem.
std::optional<FieldProblem> ApplyUserFields(App& app, const json::object& body, store::User& u, bool creating,
                                            std::optional<std::string>& password) {
  static const std::initializer_list<std::string_view> kFields = {"username", "displayName", "email",
                                                                  "roles",    "enabled",     "password"};
  if (auto unknown = UnknownField(body, kFields))
    return FieldProblem("Unknown field '" + unknown->substr(0, 64) + "'. Known fields: " + JoinList(kFields) + ".",
                        *unknown);
  auto username = GetString(body, "username");
  if (!username.ok()) return FieldProblem(username.status().message(), "username");
  if (*username) {
    if (auto problem = service::UsernameProblem(**username)) return FieldProblem(*problem, "username");
    u.username = **username;
  } else if (creating) {
    return FieldProblem("Field 'username' is required.", "username");
  }
  auto display = GetString(body, "displayName");
  if (!display.ok()) return FieldProblem(display.status().message(), "displayName");
  if (*display) {
    if (auto problem = service::DisplayNameProblem(**display)) return FieldProblem(*problem, "displayName");
    u.display_name = **display;
  }
  auto email = GetString(body, "email");
  if (!email.ok()) return FieldProblem(email.status().message(), "email");
  if (*email) {
    if (auto problem = service::EmailProblem(**email)) return FieldProblem(*problem, "email");
    u.email = **email;
  }
  if (auto problem = ApplyRoleRefs(app, body, u.role_ids)) return problem;
  auto enabled = GetBool(body, "enabled");
  if (!enabled.ok()) return FieldProblem(enabled.status().message(), "enabled");
  if (*enabled) u.enabled = **enabled;
  auto given = GetString(body, "password");
  if (!given.ok()) return FieldProblem(given.status().message(), "password");
  if (*given) {
    if (auto problem = oauth::PasswordPolicyProblem(**given, u.username)) return FieldProblem(*problem, "password");
    password = **given;
  }
  return std::nullopt;
}

HttpResponse UserResponse(App& app, int status, const store::User& u, const std::string* generated = nullptr) {
  json::object o = UserJson(u, *app.directory().Roles());
  if (generated) o["password"] = *generated;
  return JsonResponse(status, o);
}

std::optional<store::User> UserFromPath(App& app, RequestContext& ctx, HttpResponse& out) {
  return FromPath(app, ctx, "userId", "user", out, [&app](const std::string& id) -> std::optional<store::User> {
    auto u = app.directory().FindUser(id);
    if (!u) return std::nullopt;
    return *u;
  });
}

// The path's user, when the caller holds what it holds: deleting it, revoking
// its tokens or resetting its password (then signing in as it) acts on all of it.
std::optional<store::User> UserWithinCeiling(App& app, RequestContext& ctx, HttpResponse& out) {
  auto u = UserFromPath(app, ctx, out);
  if (!u) return std::nullopt;
  if (auto denied = DenyBeyondCeiling(app, ctx, UserGrant(*u, nullptr, *app.directory().Roles()))) {
    out = std::move(*denied);
    return std::nullopt;
  }
  return u;
}

// Hashes `password` into `u` (Internal on failure, which App::Fail renders).
Status SetPassword(store::User& u, const std::string& password) {
  auto hash = oauth::HashPassword(password);
  if (!hash.ok()) return hash.status();
  u.password_hash = std::move(*hash);
  return Status::Ok();
}

HttpResponse CreateUser(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "users")) return app.Deny(ctx);
  HttpResponse err;
  auto body = app.JsonBody(ctx, err);
  if (!body) return err;
  store::User u;
  std::optional<std::string> password;
  if (auto problem = ApplyUserFields(app, *body, u, true, password))
    return app.BadRequest(ctx, problem->first, problem->second);
  if (auto denied = DenyBeyondCeiling(app, ctx, UserGrant(u, nullptr, *app.directory().Roles()))) return *denied;
  // No password given: one is generated and shown once, as a client secret is.
  const bool generated = !password;
  if (generated) password = oauth::NewUserPassword();
  if (Status s = SetPassword(u, *password); !s.ok()) return app.Fail(ctx, s);
  u.id = NewUuid();
  u.created_at = u.updated_at = app.clock().Now();
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  if (Status s = app.directory().CreateUser(u, &by); !s.ok()) return app.Fail(ctx, s);
  HttpResponse res = UserResponse(app, 201, u, generated ? &*password : nullptr);
  res.set(http::field::location, "/api/v2/users/" + u.id);
  return res;
}

HttpResponse UpdateUser(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto u = UserFromPath(app, ctx, out);
  if (!u) return out;
  auto body = app.JsonBody(ctx, out);
  if (!body) return out;
  store::User after = *u;
  std::optional<std::string> password;
  if (auto problem = ApplyUserFields(app, *body, after, false, password))
    return app.BadRequest(ctx, problem->first, problem->second);
  // A new password lets the caller sign in as this user: the ceiling covers what it holds.
  if (auto denied = DenyBeyondCeiling(app, ctx, UserGrant(after, &*u, *app.directory().Roles()))) return *denied;
  if (password)
    if (Status s = SetPassword(after, *password); !s.ok()) return app.Fail(ctx, s);
  after.updated_at = app.clock().Now();
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  auto stored = app.directory().UpdateUser(std::move(after), &by);
  if (!stored.ok()) return app.Fail(ctx, stored.status());
  return UserResponse(app, 200, *stored);
}

HttpResponse ResetPassword(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto u = UserWithinCeiling(app, ctx, out);
  if (!u) return out;
  const std::string password = oauth::NewUserPassword();
  if (Status s = SetPassword(*u, password); !s.ok()) return app.Fail(ctx, s);
  u->updated_at = app.clock().Now();
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  auto stored = app.directory().UpdateUser(*u, &by);
  if (!stored.ok()) return app.Fail(ctx, stored.status());
  return UserResponse(app, 200, *stored, &password);
}

}  // namespace

void RegisterUserRoutes(App& app, Router& r) {
  r.Add({"POST", "/api/v2/users", Access::kPermission, "directory:user:add",
         [&app](RequestContext& ctx) { return CreateUser(app, ctx); }});
  r.Add({"GET", "/api/v2/users", Access::kPermission, "directory:user:view", [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "users")) return app.Deny(ctx);
           json::array entities;
           auto roles = app.directory().Roles();
           for (const auto& u : app.directory().Users()) entities.emplace_back(UserJson(u, *roles));
           json::object o;
           o["total"] = entities.size();
           o["entities"] = std::move(entities);
           return JsonResponse(200, o);
         }});
  r.Add({"GET", "/api/v2/users/{userId}", Access::kPermission, "directory:user:view", [&app](RequestContext& ctx) {
           HttpResponse out;
           auto u = UserFromPath(app, ctx, out);
           return u ? UserResponse(app, 200, *u) : out;
         }});
  r.Add({"PATCH", "/api/v2/users/{userId}", Access::kPermission, "directory:user:edit",
         [&app](RequestContext& ctx) { return UpdateUser(app, ctx); }});
  r.Add({"DELETE", "/api/v2/users/{userId}", Access::kPermission, "directory:user:delete",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto u = UserWithinCeiling(app, ctx, out);
           if (!u) return out;
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status s = app.directory().DeleteUser(u->id, &by); !s.ok()) return app.Fail(ctx, s);
           return EmptyResponse(204);
         }});
  r.Add({"POST", "/api/v2/users/{userId}/password", Access::kPermission, "directory:user:edit",
         [&app](RequestContext& ctx) { return ResetPassword(app, ctx); }});
  r.Add({"DELETE", "/api/v2/users/{userId}/tokens", Access::kPermission, "directory:user:edit",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto u = UserWithinCeiling(app, ctx, out);
           if (!u) return out;
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           auto stored = app.directory().RevokeUserTokens(u->id, "an administrator revoked all its tokens", &by);
           if (!stored.ok()) return app.Fail(ctx, stored.status());
           return UserResponse(app, 200, *stored);
         }});
}

}  // namespace verbatim::api
