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

namespace {

bool Blank(char c) { return c == ' ' || c == '\t'; }

// What a key may start with (TOML 1.0 bare keys, or a quote). toml++ 3.3
// assumes a table header's key starts so, without checking (parse_key's
// TOML_ASSERT_ASSUME: an assertion, or under NDEBUG an optimizer assumption).
bool KeyStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '"' || c == '\'';
}

// The line of the first structure toml++ 3.3 assumes away, or 0:
//  - a table header whose "[" or "[[" (and blanks) is not followed by the
//    start of a key (parse_key's assumption);
//  - a "}" where an array expects a value, after its "[" or a "," (parse_value
//    assumes it never starts on a value terminator).
// Values are skipped as TOML reads them: strings (basic, literal, multi-line),
// comments, arrays and inline tables, whose lines may start with "[".
size_t UnsafeStructureLine(std::string_view text) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral, kHeader };
  In in = In::kCode;
  size_t line = 1;
  std::string open;               // the '[' and '{' of values not yet closed
  bool array_wants_value = false;  // after an array's '[' or ','
  bool line_start = true;
  // toml++ skips a UTF-8 byte order mark: the first line still starts after it.
  const size_t begin = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  for (size_t i = begin; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = true;
      if (in == In::kComment || in == In::kHeader || in == In::kBasic || in == In::kLiteral) in = In::kCode;
      continue;
    }
    switch (in) {
      case In::kComment:
      case In::kHeader:
        continue;
      case In::kBasic:
        if (c == '\\') ++i;
        else if (c == '"') in = In::kCode;
        continue;
      case In::kLiteral:
        if (c == '\'') in = In::kCode;
        continue;
      case In::kMlBasic:
        if (c == '\\') {
          ++i;
        } else if (text.substr(i, 3) == R"(""")") {
          in = In::kCode;
          i += 2;
        }
        continue;
      case In::kMlLiteral:
        if (text.substr(i, 3) == "'''") {
          in = In::kCode;
          i += 2;
        }
        continue;
      case In::kCode:
        break;
    }
    if (Blank(c) || c == '\r') continue;
    if (line_start && open.empty() && c == '[') {
      size_t j = i + 1;
      if (j < text.size() && text[j] == '[') ++j;
      while (j < text.size() && Blank(text[j])) ++j;
      if (j == text.size() || !KeyStart(text[j])) return line;
      in = In::kHeader;  // its brackets and quoted keys are not a value's
      continue;
    }
    line_start = false;
    if (c == '#') {
      in = In::kComment;
      continue;  // a comment is not a value: an array still wants one
    }
    if (c == '}' && array_wants_value) return line;
    array_wants_value = false;
    if (c == '"' || c == '\'') {
      const bool multi = text.substr(i, 3) == std::string(3, c);
      in = c == '"' ? (multi ? In::kMlBasic : In::kBasic) : (multi ? In::kMlLiteral : In::kLiteral);
      if (multi) i += 2;
    } else if (c == '[' || c == '{') {
      open += c;
      array_wants_value = c == '[';
    } else if ((c == ']' || c == '}') && !open.empty()) {
      open.pop_back();
    } else if (c == ',' && !open.empty() && open.back() == '[') {
      array_wants_value = true;
    }
  }
  return 0;
}

}  // namespace

std::optional<std::string> UnsafeTomlText(std::string_view text) {
  if (size_t at = UnsafeStructureLine(text); at != 0)
    return "line " + std::to_string(at) +
           ": a table header must name its table right after its '[' or '[[' ([name], [[name]] or [\"quoted name\"]), "
           "and an array's values cannot start with '}'";
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
