// Small string helpers shared by the SIP, SDP, multipart and metadata parsers,
// plus the one way those parsers turn a named ParseError into a Status.
// Everything here is bounded and allocation-free unless it returns a string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace verbatim::media::sip {

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

inline bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

inline std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

inline bool IsWsp(char c) { return c == ' ' || c == '\t'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Trims spaces and horizontal tabs (SIP LWS after unfolding).
inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 3261 §25.1 token characters.
inline bool IsTokenChar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_':
    case '+': case '`': case '\'': case '~':
      return true;
    default:
      return false;
  }
}

inline bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Decimal digits only (no sign, no spaces), value <= max; nullopt otherwise.
// At most 10 digits, so it never overflows uint64_t.
inline std::optional<uint64_t> ParseDecimal(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// Splits off the next whitespace-separated word; `s` keeps the rest.
inline std::string_view NextWord(std::string_view& s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  size_t n = 0;
  while (n < s.size() && !IsWsp(s[n])) ++n;
  std::string_view word = s.substr(0, n);
  s.remove_prefix(n);
  return word;
}

// Parser errors become InvalidArgument with code "<prefix>.<reason, spaces as
// dots>" (e.g. "sip.truncated.body") and message "<reason>: <detail>", so the
// code is stable API and the enum can be recovered with ErrorFromStatus.
template <class E>
Status ParseFailure(std::string_view prefix, E error, std::string_view detail) {
  std::string code(prefix);
  code += '.';
  for (const char* p = ToString(error); *p; ++p) code += (*p == ' ') ? '.' : *p;
  std::string msg = ToString(error);
  if (!detail.empty()) {
    msg += ": ";
    msg += detail;
  }
  return Status::InvalidArgument(std::move(code), std::move(msg));
}

// Inverse of ParseFailure. Relies on each error enum being dense from 0 and its
// ToString returning "?" past the last value (enum class has a fixed int
// underlying type, so the probe casts are well defined).
template <class E>
std::optional<E> ErrorFromStatus(std::string_view prefix, const Status& s) {
  for (int i = 0; i < 256; ++i) {
    E e = static_cast<E>(i);
    if (std::string_view(ToString(e)) == "?") break;
    if (ParseFailure(prefix, e, "").code() == s.code()) return e;
  }
  return std::nullopt;
}

}  // namespace verbatim::media::sip
