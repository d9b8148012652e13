#include "transports/http/sign_in_audit.h"

#include "authz/decision.h"
#include "authz/engine.h"
#include "transports/http/app.h"

namespace verbatim::api {

void NoteSignIn(App& app, RequestContext& ctx, const SignInOutcome& o) {
  authz::Decision d;
  d.action = o.action;
  d.resource = o.client ? "client/" + o.client->id : std::string("client");
  d.layers = {authz::LayerResult{authz::Layer::kToken}, authz::LayerResult{authz::Layer::kScope},
              authz::LayerResult{authz::Layer::kPermission}, authz::LayerResult{authz::Layer::kResource}};
  if (o.user && o.client) {
    ctx.principal = app.directory().PrincipalOf(*o.user, *o.client);
    authz::PrincipalSummary p{"user", o.user->id, o.user->username, {}, o.client->id, o.client->name};
    for (const auto& r : ctx.principal->roles) p.roles.push_back(r.name);
    d.principal = std::move(p);
  }
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
