#include "oauth/pkce.h"

#include "core/base64.h"
#include "core/crypto.h"

namespace verbatim::oauth {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

struct UriParts {
  std::string_view scheme;  // lowercase expected
  std::string_view host;    // as written, brackets included for IPv6
  std::string_view port;    // "" if none
  std::string_view rest;    // path, query
  bool userinfo = false;
};

// A small split of "scheme://authority/rest" — enough for the checks here;
// nothing is resolved or normalized (matching is exact).
std::optional<UriParts> Split(std::string_view uri) {
  UriParts p;
  auto colon = uri.find("://");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  p.scheme = uri.substr(0, colon);
  std::string_view after = uri.substr(colon + 3);
  auto slash = after.find_first_of("/?");
  std::string_view authority = after.substr(0, slash);
  p.rest = slash == std::string_view::npos ? std::string_view() : after.substr(slash);
  if (authority.find('@') != std::string_view::npos) p.userinfo = true;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    p.host = authority.substr(0, close + 1);
    std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') return std::nullopt;
      p.port = tail.substr(1);
    }
  } else {
    auto c = authority.rfind(':');
    p.host = authority.substr(0, c);
    if (c != std::string_view::npos) p.port = authority.substr(c + 1);
  }
  if (p.host.empty()) return std::nullopt;
  for (char c : p.port)
    if (c < '0' || c > '9') return std::nullopt;
  return p;
}

bool IsLoopbackHost(std::string_view host) { return host == "127.0.0.1" || host == "[::1]" || host == "localhost"; }

}  // namespace

bool IsValidCodeVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  for (char c : verifier)
    if (!IsUnreserved(c)) return false;
  return true;
}

bool IsValidCodeChallenge(std::string_view challenge) {
  if (challenge.size() != 43) return false;
  auto raw = Base64UrlDecode(challenge);
  return raw && raw->size() == 32;
}

std::string S256Challenge(std::string_view verifier) { return Base64UrlEncode(Sha256(verifier)); }

bool VerifyPkce(std::string_view verifier, std::string_view challenge) {
  if (!IsValidCodeVerifier(verifier)) return false;
  return ConstantTimeEquals(S256Challenge(verifier), challenge);
}

std::optional<std::string> RedirectUriProblem(std::string_view uri) {
  if (uri.empty() || uri.size() > 2048) return std::string("A redirect URI must be 1 to 2048 characters.");
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return std::string("A redirect URI may not contain spaces, controls or non-ASCII bytes (percent-encode them).");
  if (uri.find('#') != std::string_view::npos)
    return std::string("A redirect URI may not have a fragment (RFC 6749 §3.1.2).");
  if (uri.find('*') != std::string_view::npos)
    return std::string("A redirect URI may not contain wildcards: it is matched exactly (RFC 9700 §2.1).");
  auto p = Split(uri);
  if (!p) return std::string("A redirect URI must be absolute: scheme://host[:port]/path.");
  if (p->userinfo) return std::string("A redirect URI may not contain user information (user@host).");
  if (p->scheme == "https") return std::nullopt;
  if (p->scheme == "http" && IsLoopbackHost(p->host)) return std::nullopt;
  return std::string(
      "A redirect URI must use https, or http on a loopback address (127.0.0.1, [::1] or localhost; RFC 8252 §7.3).");
}

bool RedirectUriMatches(std::string_view registered, std::string_view presented) {
  if (registered == presented) return true;
  auto r = Split(registered), p = Split(presented);
  if (!r || !p) return false;
  // RFC 8252 §7.3: a native app's loopback listener gets its port at run time.
  return r->scheme == "http" && p->scheme == "http" && IsLoopbackHost(r->host) && r->host == p->host &&
         r->rest == p->rest && !p->userinfo && !r->userinfo;
}

}  // namespace verbatim::oauth
