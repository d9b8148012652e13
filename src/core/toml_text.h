// A guard for TOML text before toml++ parses it. toml++ 3.3 (Debian 12) runs
// into __builtin_unreachable() when it tests some non-ASCII code points for
// whitespace (U+00A1-U+0499, U+2C8E-U+3087, U+FB26-U+FEFE: a Latin-1 letter
// between two tokens is enough): undefined behaviour on a malformed file. It
// tests only characters outside strings, and after a line-ending backslash in
// multi-line strings, so non-ASCII text stays allowed in comments and
// single-line strings and is refused everywhere else, where TOML would reject
// it anyway (found by fuzz/trunk_config_fuzz.cc).
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace verbatim {

// nullopt if `text` is safe to hand to toml++, else why not ("line 3: ...").
std::optional<std::string> UnsafeTomlText(std::string_view text);

}  // namespace verbatim
