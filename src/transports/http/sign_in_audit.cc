#include "transports/http/sign_in_audit.h"

#include "authz/decision.h"
#include "authz/engine.h"
#include "transports/http/app.h"

namespace verbatim::api {

void NoteSignIn(App& app, RequestContext& ctx, const SignInOutcome& o) {
  authz::Request req;
  req.action = o.action;
  req.resource = o.client ? "client/" + o.client->id : std::string("client");
  if (o.user && o.client) req.principal = ctx.principal = app.directory().PrincipalOf(*o.user, *o.client);
  authz::Decision d = authz::NewDecision(req);
  auto& credentials = d.layer(authz::Layer::kToken);  // the password or grant stands where a token would
  credentials.detail = o.detail;
  if (o.allowed) {
    d.allowed = true;
    credentials.outcome = authz::Outcome::kPass;
    authz::ResourceFound(d, o.client ? "Client '" + o.client->name + "'." : std::string());
  } else {
    credentials.outcome = authz::Outcome::kFail;
    credentials.code = o.code;
    authz::Deny(d, o.status, o.code, o.detail, {});
  }
  ctx.decision = std::move(d);
}

}  // namespace verbatim::api
