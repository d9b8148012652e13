// User passwords (oauth/password_hash.h): Argon2id with the documented
// parameters, verification that fails closed, and the policy's edges.
#include "oauth/password_hash.h"

#include <gtest/gtest.h>

#include <set>
#include <sodium.h>

namespace verbatim::oauth {
namespace {

TEST(PasswordHash, Argon2idWithTheDocumentedParametersVerifiesOnlyTheRightPassword) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  // docs/users.md "Passwords": m=64 MiB, t=3, p=1.
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  EXPECT_FALSE(NeedsRehash(*hash));
  // Salted: the same password never hashes to the same string.
  auto again = HashPassword("correct horse battery staple");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);
}

TEST(PasswordHash, MalformedOrForeignHashesNeverVerify) {
  auto hash = HashPassword("a long enough password");
  ASSERT_TRUE(hash.ok());
  std::string tampered = *hash;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyPassword("a long enough password", tampered));
  EXPECT_FALSE(VerifyPassword("a long enough password", ""));
  EXPECT_FALSE(VerifyPassword("a long enough password", "not a hash"));
  // A client secret's SHA-256 hex is not a password hash.
  EXPECT_FALSE(VerifyPassword("a long enough password", std::string(64, 'a')));
  // Argon2i (not id) is refused even when its own check would pass.
  char argon2i[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(argon2i, "a long enough password", 22, 3, size_t{8} << 20,
                                  crypto_pwhash_ALG_ARGON2I13),
            0);
  EXPECT_FALSE(VerifyPassword("a long enough password", argon2i));
  EXPECT_TRUE(NeedsRehash(argon2i));
}

TEST(PasswordHash, WeakerParametersAskForARehash) {
  char weak[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(weak, "a long enough password", 22, 2, size_t{16} << 20,
                                  crypto_pwhash_ALG_ARGON2ID13),
            0);
  EXPECT_TRUE(VerifyPassword("a long enough password", weak));  // old hashes keep working
  EXPECT_TRUE(NeedsRehash(weak));
}

TEST(PasswordPolicy, LengthIsCountedInCharactersAndBoundedInBytes) {
  EXPECT_EQ(PasswordPolicyProblem("twelve chars", "alice"), std::nullopt);
  EXPECT_NE(PasswordPolicyProblem("eleven char", "alice"), std::nullopt);
  EXPECT_NE(PasswordPolicyProblem("", "alice"), std::nullopt);
  // 12 code points of 2 bytes each: long enough although each is two bytes.
  std::string umlauts;
  for (int i = 0; i < 12; ++i) umlauts += "\xc3\xa4";
  EXPECT_EQ(PasswordPolicyProblem(umlauts, "alice"), std::nullopt);
  // 11 two-byte characters are 22 bytes but only 11 characters.
  EXPECT_NE(PasswordPolicyProblem(umlauts.substr(2), "alice"), std::nullopt);
  EXPECT_NE(PasswordPolicyProblem(std::string(kMaxPasswordBytes + 1, 'x'), "alice"), std::nullopt);
  EXPECT_EQ(PasswordPolicyProblem(std::string(kMaxPasswordBytes, 'x'), "alice"), std::nullopt);
  EXPECT_NE(PasswordPolicyProblem("abcdefghijk\xff", "alice"), std::nullopt);  // not UTF-8
  EXPECT_NE(PasswordPolicyProblem("Alice.Example", "alice.example"), std::nullopt);  // the username
}

TEST(PasswordPolicy, GeneratedPasswordsPassThePolicyAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string p = NewUserPassword();
    EXPECT_EQ(p.size(), 20u);
    EXPECT_EQ(PasswordPolicyProblem(p, "alice"), std::nullopt) << p;
    EXPECT_EQ(p.find_first_of("0O1lI"), std::string::npos) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 50u);
}

}  // namespace
}  // namespace verbatim::oauth
