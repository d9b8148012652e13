// UTF-8 validation shared by whatever must turn arbitrary bytes into text
// (core/json.cc ToValidUtf8, the webhook sender's response excerpts).
#pragma once

#include <cstddef>
#include <string_view>

namespace verbatim {

// Length of the valid UTF-8 sequence starting at t[i] (1 for ASCII), or 0 if
// none starts there: a stray or truncated byte, an overlong form, a
// surrogate, a code point past U+10FFFF.
inline size_t Utf8SequenceLength(std::string_view t, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(t[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > t.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
  if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogates
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
  if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // > U+10FFFF
  return n;
}

}  // namespace verbatim
