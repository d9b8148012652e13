#include "media/sip/header_values.h"

#include <algorithm>

#include "media/sip/errors.h"
#include "media/sip/text.h"

namespace verbatim::media::sip {
namespace {

constexpr size_t kMaxParams = 64;

Status Bad(std::string_view detail) { return SipError(ParseError::kBadHeader, detail); }

// Reads the quoted-string starting at s[pos] == '"'. Returns the unescaped
// content and sets `end` past the closing quote; nullopt if unterminated.
std::optional<std::string> ReadQuoted(std::string_view s, size_t pos, size_t& end) {
  std::string out;
  for (size_t i = pos + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      if (i + 1 >= s.size()) return std::nullopt;
      out += s[++i];
    } else if (s[i] == '"') {
      end = i + 1;
      return out;
    } else {
      out += s[i];
    }
  }
  return std::nullopt;
}

size_t SkipWsp(std::string_view s, size_t i) {
  while (i < s.size() && IsWsp(s[i])) ++i;
  return i;
}

// scheme ":" rest, no whitespace, quotes or angle brackets (RFC 3986 §3.1).
bool IsPlausibleUri(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(uri[0])) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = uri[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  for (char c : uri) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> FindParam(const Params& params, std::string_view name) {
  for (const Param& p : params) {
    if (IEquals(p.name, name)) return std::string_view(p.value);
  }
  return std::nullopt;
}

Result<Params> ParseParams(std::string_view s) {
  s = Trim(s);
  Params out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != ';') return Bad("expected ';' before a parameter");
    ++i;
    size_t start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
    Param p;
    p.name = std::string(Trim(s.substr(start, i - start)));
    if (!IsToken(p.name)) return Bad("parameter name is not a token");
    if (i < s.size() && s[i] == '=') {
      i = SkipWsp(s, i + 1);
      if (i < s.size() && s[i] == '"') {
        size_t end = 0;
        auto q = ReadQuoted(s, i, end);
        if (!q) return Bad("unterminated quoted parameter value");
        p.value = std::move(*q);
        i = SkipWsp(s, end);
      } else {
        start = i;
        while (i < s.size() && s[i] != ';') ++i;
        std::string_view v = Trim(s.substr(start, i - start));
        if (v.empty()) return Bad("empty parameter value");
        for (char c : v) {
          if (IsWsp(c) || c == '"') return Bad("bad character in parameter value");
        }
        p.value = std::string(v);
      }
    }
    if (out.size() >= kMaxParams) return Bad("too many parameters");
    out.push_back(std::move(p));
  }
  return out;
}

Result<NameAddr> ParseNameAddr(std::string_view value) {
  std::string_view v = Trim(value);
  if (v.empty()) return Bad("empty name-addr");
  NameAddr out;
  size_t i = 0;
  if (v[0] == '"') {
    size_t end = 0;
    auto q = ReadQuoted(v, 0, end);
    if (!q) return Bad("unterminated display name");
    out.display_name = std::move(*q);
    i = SkipWsp(v, end);
    if (i >= v.size() || v[i] != '<') return Bad("expected '<' after the display name");
  } else if (size_t lt = v.find('<'); lt != std::string_view::npos) {
    std::string_view display = Trim(v.substr(0, lt));
    for (char c : display) {
      if (c == '"' || c == ';' || c == ',' || c == '>') return Bad("bad character in display name");
    }
    out.display_name = std::string(display);
    i = lt;
  } else {
    // addr-spec form: parameters after the first ';' belong to the header.
    size_t semi = v.find(';');
    out.uri = std::string(Trim(v.substr(0, semi)));
    if (!IsPlausibleUri(out.uri)) return Bad("bad URI");
    auto params = ParseParams(semi == std::string_view::npos ? std::string_view() : v.substr(semi));
    if (!params.ok()) return params.status();
    out.params = std::move(*params);
    return out;
  }
  size_t gt = v.find('>', i + 1);
  if (gt == std::string_view::npos) return Bad("unterminated '<'");
  out.uri = std::string(Trim(v.substr(i + 1, gt - i - 1)));
  if (!IsPlausibleUri(out.uri)) return Bad("bad URI");
  auto params = ParseParams(v.substr(gt + 1));
  if (!params.ok()) return params.status();
  out.params = std::move(*params);
  return out;
}

Result<Via> ParseVia(std::string_view value) {
  std::string_view v = Trim(value);
  size_t semi = v.find(';');
  std::string_view head = Trim(v.substr(0, semi));
  // sent-protocol = name SLASH version SLASH transport, LWS allowed around '/'.
  std::string_view parts[3];
  size_t i = 0;
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      i = SkipWsp(head, i);
      if (i >= head.size() || head[i] != '/') return Bad("Via sent-protocol needs name/version/transport");
      i = SkipWsp(head, i + 1);
    }
    size_t start = i;
    while (i < head.size() && IsTokenChar(head[i])) ++i;
    parts[k] = head.substr(start, i - start);
    if (parts[k].empty()) return Bad("Via sent-protocol needs name/version/transport");
  }
  if (i >= head.size() || !IsWsp(head[i])) return Bad("Via needs a sent-by after the transport");
  std::string_view sent_by = Trim(head.substr(i));
  if (sent_by.empty()) return Bad("Via needs a sent-by after the transport");
  for (char c : sent_by) {
    if (IsWsp(c) || c == '"' || c == ',') return Bad("bad character in Via sent-by");
  }
  Via out;
  out.protocol = std::string(parts[0]) + "/" + std::string(parts[1]);
  out.transport = std::string(parts[2]);
  out.sent_by = std::string(sent_by);
  auto params = ParseParams(semi == std::string_view::npos ? std::string_view() : v.substr(semi));
  if (!params.ok()) return params.status();
  out.params = std::move(*params);
  return out;
}

Result<CSeq> ParseCSeq(std::string_view value) {
  std::string_view rest = value;
  std::string_view number = NextWord(rest);
  std::string_view method = NextWord(rest);
  auto n = ParseDecimal(number, 0x7fffffff);
  if (!n) return SipError(ParseError::kBadCSeq, "sequence number must be decimal and below 2^31");
  if (!IsToken(method) || !Trim(rest).empty()) return SipError(ParseError::kBadCSeq, "expected '<number> <method>'");
  return CSeq{static_cast<uint32_t>(*n), std::string(method)};
}

Result<MediaType> ParseMediaType(std::string_view value) {
  std::string_view v = Trim(value);
  size_t slash = v.find('/');
  if (slash == std::string_view::npos) return Bad("media type needs type/subtype");
  size_t semi = v.find(';', slash);
  std::string_view type = Trim(v.substr(0, slash));
  std::string_view subtype = Trim(v.substr(slash + 1, semi == std::string_view::npos ? std::string_view::npos : semi - slash - 1));
  if (!IsToken(type) || !IsToken(subtype)) return Bad("media type and subtype must be tokens");
  MediaType out;
  out.type = ToLower(type);
  out.subtype = ToLower(subtype);
  auto params = ParseParams(semi == std::string_view::npos ? std::string_view() : v.substr(semi));
  if (!params.ok()) return params.status();
  out.params = std::move(*params);
  return out;
}

std::vector<std::string_view> SplitList(std::string_view value) {
  std::vector<std::string_view> out;
  bool quoted = false;
  bool angle = false;
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      angle = true;
    } else if (c == '>') {
      angle = false;
    } else if (c == ',' && !angle) {
      out.push_back(Trim(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(Trim(value.substr(std::min(start, value.size()))));
  return out;
}

}  // namespace verbatim::media::sip
