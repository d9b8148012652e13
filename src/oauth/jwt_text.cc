#include "oauth/jwt_text.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/base64.h"
#include "oauth/jwt.h"

namespace verbatim::oauth {
namespace {

// 0: as is; 'u': \u00xx; otherwise the character after the backslash.
constexpr char EscapeOf(unsigned char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\t': return 't';
    case '\n': return 'n';
    case '\f': return 'f';
    case '\r': return 'r';
    default: return c < 0x20 ? 'u' : 0;
  }
}

struct EscapeTable {
  char v[256];
  constexpr EscapeTable() : v() {
    for (int c = 0; c < 256; ++c) v[c] = EscapeOf(static_cast<unsigned char>(c));
  }
};
constexpr EscapeTable kEscape;

// Whether any of the 8 bytes of `w` is below 0x20, '"' or '\\' (never false
// when one is; the bytes are then looked at one by one).
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;
constexpr bool HasZeroByte(uint64_t w) { return ((w - kOnes) & ~w & kHighs) != 0; }
constexpr bool MayNeedEscape(uint64_t w) {
  const bool below_space = ((w - kOnes * 0x20) & ~w & kHighs) != 0;
  return below_space || HasZeroByte(w ^ (kOnes * '"')) || HasZeroByte(w ^ (kOnes * '\\'));
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// "name": with the name a literal that needs no escaping.
void AppendKey(std::string& out, std::string_view name, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += name;
  out += "\":";
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the pending run of bytes that need no escape
  size_t i = 0;
  while (i < s.size()) {
    // Eight bytes at a time while none needs an escape (tokens are ~700 plain bytes).
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!MayNeedEscape(w)) {
        i += 8;
        continue;
      }
    }
    const size_t stop = std::min(s.size(), i + 8);
    for (; i < stop; ++i) {
      const char e = kEscape.v[static_cast<unsigned char>(s[i])];
      if (e == 0) continue;
      out.append(s.data() + run, i - run);
      run = i + 1;
      out += '\\';
      if (e != 'u') {
        out += e;
        continue;
      }
      static constexpr char kHex[] = "0123456789abcdef";
      const auto c = static_cast<unsigned char>(s[i]);
      out += "u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

std::string EncodedJwsHeader(std::string_view kid) {
  std::string json = R"({"alg":"ES256","typ":"at+jwt","kid":)";
  AppendJsonString(json, kid);
  json += '}';
  return Base64UrlEncode(json);
}

void AppendAccessTokenPayload(std::string& out, const AccessTokenClaims& c, int64_t iat, int64_t exp) {
  out += '{';
  AppendKey(out, "iss", /*first=*/true);
  AppendJsonString(out, c.issuer);
  AppendKey(out, "sub");
  AppendJsonString(out, c.subject);
  AppendKey(out, "aud");
  AppendJsonString(out, c.audience);
  AppendKey(out, "exp");
  AppendInt(out, exp);
  AppendKey(out, "iat");
  AppendInt(out, iat);
  AppendKey(out, "nbf");
  AppendInt(out, iat);
  AppendKey(out, "jti");
  AppendJsonString(out, c.jti);
  AppendKey(out, "client_id");
  AppendJsonString(out, c.client_id);
  AppendKey(out, "scope");
  out += '"';
  for (size_t i = 0; i < c.scopes.size(); ++i) {
    if (i) out += ' ';
    out += c.scopes[i];  // scope-tokens: nothing to escape
  }
  out += '"';
  AppendKey(out, "org");
  AppendJsonString(out, c.org);
  if (!c.session_id.empty()) {
    AppendKey(out, "sid");
    AppendJsonString(out, c.session_id);
  }
  if (c.auth_time) {
    AppendKey(out, "auth_time");
    AppendInt(out, ToUnixSeconds(*c.auth_time));
  }
  out += '}';
}

}  // namespace verbatim::oauth
