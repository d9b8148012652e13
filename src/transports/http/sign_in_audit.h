// Audit events for sign-ins and the grants that follow them (docs/users.md
// "Sign-in"). These endpoints are public, so no authorization decision exists
// for the request log to record; this makes one that says what happened:
//   oauth:session:create  on client/<id>  a password entered at /oauth/authorize
//   oauth:session:revoke  on client/<id>  a sign-in ended because a code or
//                                         refresh token was presented twice
// Failures without a proven identity aggregate per address, as bad tokens do.
#pragma once

#include <string>

#include "store/model.h"
#include "transports/http/context.h"

namespace verbatim::api {

class App;

struct SignInOutcome {
  std::string action;             // oauth:session:create | oauth:session:revoke
  const store::OAuthClient* client = nullptr;
  const store::User* user = nullptr;  // when the person is known (the right password, a session's owner)
  bool allowed = false;
  int status = 0;
  std::string code;    // when denied: signin.failed, signin.throttled, user.disabled, grant.reused, ...
  std::string detail;  // one sentence, never a password or a token
};

// Sets ctx.decision (and ctx.principal for a known user), which App::Handle
// then records like every other request's.
void NoteSignIn(App& app, RequestContext& ctx, const SignInOutcome& o);

}  // namespace verbatim::api
