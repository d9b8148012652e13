// The guard in front of toml++ (core/toml_text.h): non-ASCII text only where
// toml++ never tests it for whitespace.
#include "core/toml_text.h"

#include <gtest/gtest.h>

namespace verbatim {
namespace {

TEST(TomlText, AllowsNonAsciiInCommentsAndSingleLineStrings) {
  EXPECT_EQ(UnsafeTomlText("# Café ☕\nname = \"Café\"\ndescription = 'Zürich \"\\u00e9\"'\n"), std::nullopt);
  EXPECT_EQ(UnsafeTomlText("a = \"esc \\\" é\" # é\nb = 1\n"), std::nullopt);
  EXPECT_EQ(UnsafeTomlText("m = \"\"\"\nplain ascii\n\"\"\"\nx = '''\nascii\n'''\n"), std::nullopt);
  EXPECT_EQ(UnsafeTomlText(""), std::nullopt);
}

TEST(TomlText, RefusesNonAsciiWhereToml3Misbehaves) {
  // Found by fuzz/trunk_config_fuzz.cc: U+FEBF at the start of the text.
  auto r = UnsafeTomlText("\xEF\xBA\xBF");
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("line 1"), std::string::npos) << *r;
  EXPECT_TRUE(UnsafeTomlText("name = \"x\"\n\xC3\xA9 = 1\n").has_value()) << "é between tokens";
  auto ml = UnsafeTomlText("a = 1\nm = \"\"\"x \\\n  \xC3\xA9\"\"\"\n");
  ASSERT_TRUE(ml.has_value()) << "after a line-ending backslash";
  EXPECT_NE(ml->find("line 3"), std::string::npos) << *ml;
  EXPECT_TRUE(UnsafeTomlText("m = '''\n\xC3\xA9'''\n").has_value());
}

}  // namespace
}  // namespace verbatim
