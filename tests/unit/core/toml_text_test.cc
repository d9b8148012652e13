// The guard in front of toml++ (core/toml_text.h): the code points toml++ 3.3
// cannot test for whitespace are refused wherever they are; the rest pass.
#include "core/toml_text.h"

#include <gtest/gtest.h>

namespace verbatim {
namespace {

TEST(TomlText, RefusesTheCodePointsToml3CannotClassify) {
  // Found by fuzz/trunk_config_fuzz.cc: U+FEBF at the start of the text, and
  // U+0141 inside a malformed value.
  auto r = UnsafeTomlText("\xEF\xBA\xBF");
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("line 1"), std::string::npos) << *r;
  EXPECT_NE(r->find("U+FEBF"), std::string::npos) << *r;
  auto in_value = UnsafeTomlText("a = 1\nn1=27/'\xC5\x81_x\n");
  ASSERT_TRUE(in_value.has_value());
  EXPECT_NE(in_value->find("line 2"), std::string::npos) << *in_value;
  EXPECT_TRUE(UnsafeTomlText("description = \"Caf\xC3\xA9\"\n").has_value()) << "é anywhere";
  EXPECT_TRUE(TomlCannotClassify(U'\u00E9'));
  EXPECT_TRUE(TomlCannotClassify(U'\u3001'));
}

TEST(TomlText, AllowsAsciiEscapesAndWhatToml3Classifies) {
  EXPECT_EQ(UnsafeTomlText("# comment\ndescription = \"Caf\\u00e9\"\nname = 'x'\n"), std::nullopt);
  EXPECT_EQ(UnsafeTomlText(""), std::nullopt);
  // Whitespace it knows (U+00A0, U+3000, U+FEFF) and letters outside the broken ranges.
  for (char32_t ok : {U'\u00A0', U'\u3000', U'\uFEFF', U'\u4E2D', U'\u05D0', U'\U0001F600'}) EXPECT_FALSE(TomlCannotClassify(ok));
  EXPECT_EQ(UnsafeTomlText("name = \"\xE4\xB8\xAD\"\n"), std::nullopt) << "U+4E2D is fine";
  EXPECT_EQ(UnsafeTomlText("bad utf-8 \xC3 is toml++'s to report\n"), std::nullopt);
}

TEST(TomlText, RefusesATableHeaderThatDoesNotStartWithAKey) {
  // fuzz/trunk_config_fuzz.cc without NDEBUG: toml++ 3.3's parse_key assertion.
  const std::string fuzz_input =
      "[[\nnetworks = [\"192assword = \"01 = \"u\"\ndigest2_password = \"0154236789abcdef\"\n";
  for (const std::string& bad : {fuzz_input, std::string("[\na=1"), std::string("a = 1\n  [[ \t\nb=2"),
                                 std::string("[ # comment\na=1"), std::string("[[\r\na=1"),
                                 std::string("[([siprec.trec.tr192.{0"),  // the same assertion, found with asserts on
                                 std::string("[ {x}]\n"), std::string("[[.a]]\n"), std::string("[ [x]]\n"),
                                 std::string("["),
                                 std::string("\xEF\xBB\xBF[\\\\\x15")}) {  // after a byte order mark
    auto r = UnsafeTomlText(bad);
    ASSERT_TRUE(r.has_value()) << bad;
    EXPECT_NE(r->find("table header"), std::string::npos) << *r;
  }
  EXPECT_NE(UnsafeTomlText("a = 1\n  [[ \t\nb=2")->find("line 2"), std::string::npos);
}

TEST(TomlText, RefusesACurlyBraceWhereAnArrayExpectsAValue) {
  // fuzz/trunk_config_fuzz.cc with asserts on: toml++ 3.3's parse_value assumption.
  for (const std::string& bad : {std::string("3=[[[[}[[,"), std::string("a = [1, }]\n"), std::string("a = [\n# c\n}]\n"),
                                 std::string("a = [{x=1}, }]\n")}) {
    auto r = UnsafeTomlText(bad);
    ASSERT_TRUE(r.has_value()) << bad;
    EXPECT_NE(r->find("cannot start with '}'"), std::string::npos) << *r;
  }
  for (const char* ok : {"a = [{x = 1}, {}]\n", "a = [\"}\", '}']\n", "t = {a = [1], b = {}}\n", "a = [ # }\n1]\n"})
    EXPECT_EQ(UnsafeTomlText(ok), std::nullopt) << ok;
}

TEST(TomlText, AllowsArraysAndStringsWhoseLinesStartWithABracket) {
  const char* ok[] = {
      "x = [\n[\n1\n]\n]\n",                 // an array of arrays over lines
      "x = [ # c\n  [\n    1\n  ],\n]\n",   // ... with a comment
      "x = \"\"\"\n[\n\"\"\"\n",             // a multi-line basic string
      "x = '''\n[[\n'''\n",                  // a multi-line literal string
      "[[siprec.trunks]]\nname = \"a\"\n",   // ordinary headers
      "[a] # c\nx = \"[\"\n[\"q\"]\n",
      "s = \"a\\\"[\"\n[b]\n",               // an escaped quote inside a string
      "[ 'literal key' ]\n[[ -x_1 ]]\n",     // blanks, quoted and bare keys
  };
  for (const char* text : ok) EXPECT_EQ(UnsafeTomlText(text), std::nullopt) << text;
}

}  // namespace
}  // namespace verbatim
