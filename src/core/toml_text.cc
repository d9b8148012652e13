#include "core/toml_text.h"

#include <cstdint>
#include <cstdio>

namespace verbatim {

bool TomlCannotClassify(char32_t c) {
  // The same arithmetic as toml++'s generated function: its buckets 0, 11 and
  // 63 fall through to a switch without a case for them.
  if (c < 0xA0 || c > 0xFEFF) return false;
  const uint64_t bucket = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
  if ((1ull << bucket) & 0x7FFFFFFFFFFFF75Eull) return false;
  if (c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  return bucket != 5 && bucket != 7;
}

std::optional<std::string> UnsafeTomlText(std::string_view text) {
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') ++line;
    if (b < 0x80) continue;
    // Decode one UTF-8 sequence; malformed ones are toml++'s to report.
    const size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    if (n == 1 || i + n > text.size()) continue;
    char32_t c = b & (0xFF >> (n + 1));
    bool ok = true;
    for (size_t k = 1; k < n && ok; ++k) {
      const auto cb = static_cast<unsigned char>(text[i + k]);
      ok = (cb & 0xC0) == 0x80;
      c = (c << 6) | (cb & 0x3F);
    }
    if (!ok) continue;
    if (TomlCannotClassify(c)) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(c));
      return "line " + std::to_string(line) + ": the character " + hex +
             " is not accepted in this config file (write it as an escape, \\u" + std::string(hex + 2) +
             ", inside a string)";
    }
    i += n - 1;
  }
  return std::nullopt;
}

}  // namespace verbatim
