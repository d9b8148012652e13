// A guard for TOML text before toml++ parses it. toml++ 3.3 (Debian 12) runs
// into __builtin_unreachable() when it tests some non-ASCII code points for
// whitespace (its generated is_non_ascii_horizontal_whitespace: U+00A1-U+0499
// and two smaller ranges; "é" is one), which it does wherever a value or a
// key may end, including inside malformed values: undefined behaviour on a
// bad file. Text with such a code point is refused, wherever it is; escapes
// ("\u00e9") are plain ASCII and fine (found by fuzz/trunk_config_fuzz.cc).
// Likewise a table header whose "[" or "[[" (and blanks) is not followed by
// the start of a key (a bare-key character or a quote): toml++ asserts, and
// under NDEBUG assumes, that parse_key never sees one (found by the same
// fuzzer built without NDEBUG: "[" then a newline, "[(", "[{").
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace verbatim {

// True for the code points toml++ 3.3 cannot test for whitespace.
bool TomlCannotClassify(char32_t c);
// nullopt if `text` is safe to hand to toml++, else why not ("line 3: ...").
std::optional<std::string> UnsafeTomlText(std::string_view text);

}  // namespace verbatim
