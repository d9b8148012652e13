// Store conformance, run on SQLite and PostgreSQL: users (issue 13).
#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::T;

class UserTest : public StoreTest {};

User MakeUser(std::string username, std::vector<std::string> role_ids = {"builtin-1"}) {
  User u;
  u.id = NewUuid();
  u.username = std::move(username);
  u.display_name = "Ada Lovelace";
  u.email = "ada@example.com";
  u.role_ids = std::move(role_ids);
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  u.created_at = T(1);
  u.updated_at = T(2);
  return u;
}

TEST_P(UserTest, CreateAndGetRoundTripEveryFieldAndSurviveReopen) {
  User a = MakeUser("ada", {"builtin-2", "custom-b", "builtin-1"});
  a.enabled = false;
  a.tokens_valid_after = T(1500);
  a.tokens_valid_after_reason = "disabled";
  ASSERT_TRUE(store_->CreateUser(a).ok());
  User b = MakeUser("bob", {});
  b.email.clear();
  ASSERT_TRUE(store_->CreateUser(b).ok());
  Reopen();

  auto got = store_->GetUser(a.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, a.id);
  EXPECT_EQ(got->username, "ada");
  EXPECT_EQ(got->display_name, "Ada Lovelace");
  EXPECT_EQ(got->email, "ada@example.com");
  EXPECT_EQ(got->role_ids, (std::vector<std::string>{"builtin-2", "custom-b", "builtin-1"})) << "in their order";
  EXPECT_EQ(got->password_hash, a.password_hash);
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->created_at, T(1));
  EXPECT_EQ(got->updated_at, T(2));
  EXPECT_EQ(got->tokens_valid_after, T(1500));
  EXPECT_EQ(got->tokens_valid_after_reason, "disabled");

  auto other = store_->GetUser(b.id);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->enabled);
  EXPECT_TRUE(other->role_ids.empty());
  EXPECT_TRUE(other->email.empty());
  EXPECT_FALSE(other->tokens_valid_after.has_value());
  EXPECT_EQ(other->tokens_valid_after_reason, "");
}

TEST_P(UserTest, UpdateReplacesEveryFieldButIdAndCreatedAt) {
  User a = MakeUser("ada", {"builtin-1", "builtin-2"});
  ASSERT_TRUE(store_->CreateUser(a).ok());

  User changed = a;
  changed.username = "ada.l";
  changed.display_name = "Countess";
  changed.email = "";
  changed.role_ids = {"custom-c"};
  changed.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA";
  changed.enabled = false;
  changed.created_at = T(999);  // ignored
  changed.updated_at = T(3);
  changed.tokens_valid_after = T(3);
  changed.tokens_valid_after_reason = "password.changed";
  ASSERT_TRUE(store_->UpdateUser(changed).ok());
  auto got = store_->GetUser(a.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->username, "ada.l");
  EXPECT_EQ(got->display_name, "Countess");
  EXPECT_EQ(got->email, "");
  EXPECT_EQ(got->role_ids, std::vector<std::string>{"custom-c"});
  EXPECT_EQ(got->password_hash, changed.password_hash);
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->created_at, T(1)) << "created_at never changes";
  EXPECT_EQ(got->updated_at, T(3));
  EXPECT_EQ(got->tokens_valid_after, T(3));
  EXPECT_EQ(got->tokens_valid_after_reason, "password.changed");

  // And back: the cutoff can be cleared, the roles emptied, the user enabled.
  changed.tokens_valid_after.reset();
  changed.tokens_valid_after_reason.clear();
  changed.role_ids.clear();
  changed.enabled = true;
  ASSERT_TRUE(store_->UpdateUser(changed).ok());
  got = store_->GetUser(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->tokens_valid_after.has_value());
  EXPECT_EQ(got->tokens_valid_after_reason, "");
  EXPECT_TRUE(got->role_ids.empty());
  EXPECT_TRUE(got->enabled);
}

TEST_P(UserTest, MissingUsersAreNotFound) {
  User ghost = MakeUser("ghost");
  EXPECT_EQ(store_->GetUser(ghost.id).status().code(), "user.not.found");
  EXPECT_EQ(store_->UpdateUser(ghost).code(), "user.not.found");
  EXPECT_EQ(store_->DeleteUser(ghost.id).code(), "user.not.found");
  EXPECT_EQ(store_->GetUser(ghost.id).status().kind(), Status::Kind::kNotFound);
  EXPECT_TRUE(store_->ListUsers()->empty()) << "a refused update creates nothing";
}

TEST_P(UserTest, DeleteRemovesTheUserAndItsRolesOnly) {
  User a = MakeUser("ada", {"builtin-1", "builtin-2"});
  User b = MakeUser("bob", {"builtin-1"});
  ASSERT_TRUE(store_->CreateUser(a).ok());
  ASSERT_TRUE(store_->CreateUser(b).ok());
  ASSERT_TRUE(store_->DeleteUser(a.id).ok());
  EXPECT_EQ(store_->GetUser(a.id).status().code(), "user.not.found");
  EXPECT_EQ(store_->DeleteUser(a.id).code(), "user.not.found");
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM user_roles WHERE user_id = '" + a.id + "'"), 0) << "no orphan role rows";
  EXPECT_EQ(store_->GetUser(b.id)->role_ids, std::vector<std::string>{"builtin-1"});

  // The username is free again.
  EXPECT_TRUE(store_->CreateUser(MakeUser("ADA")).ok());
}

TEST_P(UserTest, ListIsOrderedByUsernameIgnoringCase) {
  User c = MakeUser("carol");
  User a = MakeUser("Alice");
  User b = MakeUser("bob");
  for (const User* u : {&c, &a, &b}) ASSERT_TRUE(store_->CreateUser(*u).ok());
  auto list = store_->ListUsers();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].username, "Alice");
  EXPECT_EQ((*list)[1].username, "bob");
  EXPECT_EQ((*list)[2].username, "carol");
  EXPECT_EQ((*list)[0].id, a.id);
  EXPECT_EQ((*list)[0].role_ids, std::vector<std::string>{"builtin-1"}) << "listed users carry their roles";
}

TEST_P(UserTest, UsernamesAreUniqueCaseInsensitively) {
  User a = MakeUser("ada");
  User b = MakeUser("Bob");
  ASSERT_TRUE(store_->CreateUser(a).ok());
  ASSERT_TRUE(store_->CreateUser(b).ok());

  Status taken = store_->CreateUser(MakeUser("ADA"));
  EXPECT_EQ(taken.code(), "user.name.taken");
  EXPECT_EQ(taken.kind(), Status::Kind::kAlreadyExists);

  b.username = "Ada";
  EXPECT_EQ(store_->UpdateUser(b).code(), "user.name.taken") << "renaming onto another user's name";
  EXPECT_EQ(store_->GetUser(b.id)->username, "Bob") << "a refused update changes nothing";

  a.username = "ADA";  // its own name in another case is fine
  a.display_name = "Ada L.";
  EXPECT_TRUE(store_->UpdateUser(a).ok());
  EXPECT_EQ(store_->GetUser(a.id)->username, "ADA");
  EXPECT_EQ(store_->ListUsers()->size(), 2u);
}

TEST_P(UserTest, DeleteRoleRemovesItFromEveryUser) {
  ASSERT_TRUE(store_->CreateRole(Role{"custom", "Custom", "d", {"recording:*:*"}, T(1), T(1)}).ok());
  User a = MakeUser("ada", {"builtin-1", "custom", "builtin-2"});
  User b = MakeUser("bob", {"custom"});
  User c = MakeUser("carol", {"builtin-1"});
  for (const User* u : {&a, &b, &c}) ASSERT_TRUE(store_->CreateUser(*u).ok());

  clock_.Set(T(777));
  ASSERT_TRUE(store_->DeleteRole("custom").ok());
  EXPECT_EQ(store_->GetUser(a.id)->role_ids, (std::vector<std::string>{"builtin-1", "builtin-2"}));
  EXPECT_TRUE(store_->GetUser(b.id)->role_ids.empty());
  EXPECT_EQ(store_->GetUser(a.id)->updated_at, T(777)) << "their role lists changed";
  EXPECT_EQ(store_->GetUser(b.id)->updated_at, T(777));
  EXPECT_EQ(store_->GetUser(c.id)->updated_at, T(2)) << "untouched";
  EXPECT_EQ(store_->GetUser(c.id)->role_ids, std::vector<std::string>{"builtin-1"});

  // A role that does not exist removes nothing (and changes no user).
  clock_.Set(T(888));
  EXPECT_EQ(store_->DeleteRole("custom").code(), "role.not.found");
  EXPECT_EQ(store_->GetUser(a.id)->updated_at, T(777));
}

// Two nodes (store instances on one database) adding users whose names
// differ only in case at the same moment: one wins, the other is refused as
// taken, never two users of one name.
TEST_P(UserTest, TwoNodesAddingUsersOfTheSameNameAtOnceMakeOne) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kRounds = 10;
  conformance::ExpectOneWinnerPerRace(
      *store_, **other, kRounds,
      [](Store& s, int n, int round) {
        return s.CreateUser(MakeUser((n == 0 ? "user-" : "USER-") + std::to_string(round)));
      },
      "user.name.taken");
  EXPECT_EQ(store_->ListUsers()->size(), static_cast<size_t>(kRounds));
}

VERBATIM_STORE_CONFORMANCE(UserTest);

}  // namespace
}  // namespace verbatim::store
