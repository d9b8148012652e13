#include "oauth/token_response.h"

#include "oauth/jwt_text.h"

namespace verbatim::oauth {

std::string TokenResponseJson(const IssuedToken& t, std::string_view refresh_token) {
  std::string scope;
  for (const auto& s : t.scopes) {
    if (!scope.empty()) scope += ' ';
    scope += s;
  }
  std::string out;
  out.reserve(t.access_token.size() + scope.size() + 80);
  out += R"({"access_token":)";
  AppendJsonString(out, t.access_token);
  out += R"(,"token_type":"Bearer","expires_in":)";
  out += std::to_string(t.expires_in);
  out += R"(,"scope":)";
  AppendJsonString(out, scope);
  if (!refresh_token.empty()) {
    out += R"(,"refresh_token":)";
    AppendJsonString(out, refresh_token);
  }
  out += '}';
  return out;
}

}  // namespace verbatim::oauth
