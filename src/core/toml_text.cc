#include "core/toml_text.h"

namespace verbatim {

std::optional<std::string> UnsafeTomlText(std::string_view text) {
  enum class State { kNormal, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  State state = State::kNormal;
  size_t line = 1;
  auto at = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    const bool ascii = static_cast<unsigned char>(c) < 0x80;
    switch (state) {
      case State::kNormal:
        if (!ascii) return "line " + std::to_string(line) + ": a non-ASCII character outside a string or comment";
        if (c == '#') {
          state = State::kComment;
        } else if (at(i, "\"\"\"")) {
          state = State::kMultiBasic;
          i += 2;
        } else if (c == '"') {
          state = State::kBasic;
        } else if (at(i, "'''")) {
          state = State::kMultiLiteral;
          i += 2;
        } else if (c == '\'') {
          state = State::kLiteral;
        }
        break;
      case State::kComment:
        if (c == '\n') state = State::kNormal;
        break;
      case State::kBasic:
        if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i;
        else if (c == '"' || c == '\n') state = State::kNormal;
        break;
      case State::kLiteral:
        if (c == '\'' || c == '\n') state = State::kNormal;
        break;
      case State::kMultiBasic:
      case State::kMultiLiteral:
        if (!ascii) return "line " + std::to_string(line) + ": a non-ASCII character in a multi-line string";
        if (state == State::kMultiBasic && c == '\\' && i + 1 < text.size()) {
          if (text[i + 1] == '\n') ++line;
          ++i;
        } else if (at(i, state == State::kMultiBasic ? "\"\"\"" : "'''")) {
          state = State::kNormal;
          i += 2;
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace verbatim
