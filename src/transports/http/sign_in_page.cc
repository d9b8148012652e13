#include "transports/http/sign_in_page.h"

#include <sodium.h>

#include "authz/catalog.h"
#include "core/base64.h"

namespace verbatim::api {
namespace {

constexpr std::string_view kCsrfCookie = "verbatim_signin_csrf";

// System fonts, a centred card, visible focus; readable from 320 px up.
constexpr std::string_view kStyle = R"(
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#f4f6f8;--card:#fff;--muted:#57606a;--accent:#0b5cad;--err:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--card:#161b22;--muted:#9da7b3;--accent:#58a6ff;--err:#ff7b72}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:var(--card);border-radius:12px;box-shadow:0 1px 3px #0003}
h1{font-size:1.4rem;margin:0 0 1rem}p{margin:.5rem 0}ul{padding-left:1.2rem;margin:.25rem 0 1rem}
li{margin:.15rem 0}code{font-size:.9em}.muted{color:var(--muted);font-size:.9rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--muted);border-radius:6px}
button{margin-top:1.5rem;width:100%;padding:.7rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:6px;cursor:pointer}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.error{color:var(--err);border-left:4px solid var(--err);padding:.25rem .75rem}
@media (max-width:480px){main{margin:0;border-radius:0;min-height:100vh}}
)";

std::string Nonce() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

// No script, no frames, no plugins; forms post here, and the browser may then
// follow the redirect to the client (Chromium applies form-action to it).
void SecurePageHeaders(HttpResponse& res, const std::string& nonce, std::string_view form_action_origin) {
  std::string csp = "default-src 'none'; style-src 'nonce-" + nonce +
                    "'; form-action 'self'" + (form_action_origin.empty() ? "" : " ") + std::string(form_action_origin) +
                    "; frame-ancestors 'none'; base-uri 'none'";
  res.set("Content-Security-Policy", csp);
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
}

std::string Page(const std::string& nonce, std::string_view title, const std::string& body) {
  std::string out = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";
  out += HtmlEscape(title);
  out += " · verbatim</title><style nonce=\"" + nonce + "\">";
  out += kStyle;
  out += "</style></head><body><main>";
  out += body;
  out += "</main></body></html>\n";
  return out;
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

HttpResponse SignInPage(const SignInForm& f, int status) {
  std::string body = "<h1>Sign in to verbatim</h1>";
  body += "<p><strong>" + HtmlEscape(f.client_name) + "</strong> asks to act for you with these scopes:</p><ul>";
  for (const auto& s : f.scopes) {
    const authz::ScopeInfo* info = authz::FindScope(s);
    body += "<li><code>" + HtmlEscape(s) + "</code>";
    if (info) body += " — " + HtmlEscape(info->summary);
    body += "</li>";
  }
  body += "</ul><p class=\"muted\">What you can do is still limited by your own roles.</p>";
  if (!f.error.empty()) body += "<p class=\"error\" role=\"alert\">" + HtmlEscape(f.error) + "</p>";
  body += "<form method=\"post\" action=\"/oauth/authorize\">";
  for (const auto& [name, value] : f.hidden)
    body += "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\"" + HtmlEscape(value) + "\">";
  body += "<input type=\"hidden\" name=\"csrf\" value=\"" + HtmlEscape(f.csrf) + "\">";
  body += "<label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" "
          "autocapitalize=\"none\" spellcheck=\"false\" required";
  body += f.username.empty() ? " autofocus" : " value=\"" + HtmlEscape(f.username) + "\"";
  body += "><label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required";
  body += f.username.empty() ? "" : " autofocus";
  body += "><button type=\"submit\">Sign in</button></form>";
  body += "<p class=\"muted\">Your password goes to this server only; " + HtmlEscape(f.client_name) +
          " receives a token, never your password.</p>";

  const std::string nonce = Nonce();
  HttpResponse res{static_cast<http::status>(status), 11};
  SecurePageHeaders(res, nonce, f.form_action_origin);
  // SameSite=Strict: a form posted from another site arrives without it.
  res.set(http::field::set_cookie, std::string(kCsrfCookie) + "=" + f.csrf +
                                       "; Path=/oauth/authorize; Max-Age=900; HttpOnly; SameSite=Strict" +
                                       (f.secure_cookie ? "; Secure" : ""));
  res.body() = Page(nonce, "Sign in", body);
  return res;
}

HttpResponse SignInErrorPage(int status, std::string_view title, std::string_view detail, std::string_view link_href,
                             std::string_view link_text) {
  std::string body = "<h1>" + HtmlEscape(title) + "</h1><p class=\"error\" role=\"alert\">" + HtmlEscape(detail) + "</p>";
  body += link_href.empty() ? "<p class=\"muted\">Nothing was sent back to the application. If you followed a link, "
                              "tell its developer what this page says; the rules are in docs/users.md.</p>"
                            : "<p><a href=\"" + HtmlEscape(link_href) + "\">" + HtmlEscape(link_text) + "</a></p>";
  const std::string nonce = Nonce();
  HttpResponse res{static_cast<http::status>(status), 11};
  SecurePageHeaders(res, nonce, "");
  res.body() = Page(nonce, title, body);
  return res;
}

std::string SignInCsrfCookie(std::string_view header) { return CookieValue(header, kCsrfCookie); }

std::string CookieValue(std::string_view header, std::string_view name) {
  // "a=1; verbatim_signin_csrf=xyz; b=2"
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    pos = end + 1;
  }
  return "";
}

}  // namespace verbatim::api
