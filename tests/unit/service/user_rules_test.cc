#include "service/user_rules.h"

#include <gtest/gtest.h>

namespace verbatim::service {
namespace {

TEST(UserRules, UsernamesAreShortPlainAndNeverUuidShaped) {
  for (const char* ok : {"alice", "a", "alice.smith", "alice_smith-2", "alice@example.com", "a+b"})
    EXPECT_EQ(UsernameProblem(ok), std::nullopt) << ok;
  EXPECT_NE(UsernameProblem(""), std::nullopt);
  EXPECT_NE(UsernameProblem(std::string(kMaxUsername + 1, 'a')), std::nullopt);
  EXPECT_EQ(UsernameProblem(std::string(kMaxUsername, 'a')), std::nullopt);
  for (const char* bad : {"alice smith", "alice/smith", "al\xc3\xa4", "a\nb", "<script>"})
    EXPECT_NE(UsernameProblem(bad), std::nullopt) << bad;
  EXPECT_NE(UsernameProblem("6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90"), std::nullopt);
}

TEST(UserRules, EmailIsEmptyOrOneAtWithBothSides) {
  for (const char* ok : {"", "a@b", "alice@example.com"}) EXPECT_EQ(EmailProblem(ok), std::nullopt) << ok;
  for (const char* bad : {"@b", "a@", "a@@b", "a@b@c", "a b@c", "a@b\n", "alice"})
    EXPECT_NE(EmailProblem(bad), std::nullopt) << bad;
  EXPECT_NE(EmailProblem(std::string(kMaxEmail, 'a') + "@b"), std::nullopt);
}

TEST(UserRules, DisplayNamesAreBounded) {
  EXPECT_EQ(DisplayNameProblem(""), std::nullopt);
  EXPECT_EQ(DisplayNameProblem(std::string(kMaxDisplayName, 'x')), std::nullopt);
  EXPECT_NE(DisplayNameProblem(std::string(kMaxDisplayName + 1, 'x')), std::nullopt);
}

}  // namespace
}  // namespace verbatim::service
