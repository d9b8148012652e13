// Store conformance, run on SQLite and PostgreSQL: sign-in grants (issue 13),
// authorization codes redeemed once and refresh tokens rotated in families.
#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::T;

// A stand-in for a SHA-256 in hex: as long, and distinct per label.
std::string Hash(const std::string& label) { return label + std::string(64 - label.size(), '0'); }

AuthorizationCode MakeCode(const std::string& label, const std::string& client_id = "c1",
                           const std::string& user_id = "u1") {
  AuthorizationCode c;
  c.code_hash = Hash(label);
  c.client_id = client_id;
  c.user_id = user_id;
  c.redirect_uri = "https://app.example.com/callback?x=1";
  c.scopes = {"recording:write", "openid", "recording:read"};
  c.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  c.family_id = "family-" + label;
  c.auth_time = T(1);
  c.expires_at = T(60'000);
  return c;
}

RefreshToken MakeRefresh(const std::string& label, const std::string& family_id, const std::string& client_id = "c1",
                         const std::string& user_id = "u1") {
  RefreshToken t;
  t.token_hash = Hash(label);
  t.family_id = family_id;
  t.client_id = client_id;
  t.user_id = user_id;
  t.scopes = {"recording:read", "openid"};
  t.auth_time = T(1);
  t.issued_at = T(2);
  t.expires_at = T(86'400'000);
  return t;
}

void ExpectSameCode(const AuthorizationCode& got, const AuthorizationCode& want) {
  EXPECT_EQ(got.code_hash, want.code_hash);
  EXPECT_EQ(got.client_id, want.client_id);
  EXPECT_EQ(got.user_id, want.user_id);
  EXPECT_EQ(got.redirect_uri, want.redirect_uri);
  EXPECT_EQ(got.scopes, want.scopes) << "in their order";
  EXPECT_EQ(got.code_challenge, want.code_challenge);
  EXPECT_EQ(got.family_id, want.family_id);
  EXPECT_EQ(got.auth_time, want.auth_time);
  EXPECT_EQ(got.expires_at, want.expires_at);
  EXPECT_EQ(got.used_at, want.used_at);
}

void ExpectSameRefresh(const RefreshToken& got, const RefreshToken& want) {
  EXPECT_EQ(got.token_hash, want.token_hash);
  EXPECT_EQ(got.family_id, want.family_id);
  EXPECT_EQ(got.client_id, want.client_id);
  EXPECT_EQ(got.user_id, want.user_id);
  EXPECT_EQ(got.scopes, want.scopes) << "in their order";
  EXPECT_EQ(got.auth_time, want.auth_time);
  EXPECT_EQ(got.issued_at, want.issued_at);
  EXPECT_EQ(got.expires_at, want.expires_at);
  EXPECT_EQ(got.used_at, want.used_at);
  EXPECT_EQ(got.revoked_at, want.revoked_at);
}

// Every test has clients c1, c2 and users u1, u2 (grants need both).
class GrantTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const char* id : {"c1", "c2"}) {
      OAuthClient c;
      c.id = id;
      c.name = id;
      c.allowed_grant_types = {"authorization_code", "refresh_token"};
      c.redirect_uris = {"https://app.example.com/callback?x=1"};
      ASSERT_TRUE(store_->CreateClient(c).ok());
    }
    for (const char* id : {"u1", "u2"}) ASSERT_TRUE(store_->CreateUser(User{.id = id, .username = id}).ok());
  }

  bool CodeStored(const std::string& label) {
    return RawInt("SELECT COUNT(*) FROM auth_codes WHERE code_hash = '" + Hash(label) + "'") == 1;
  }
  bool RefreshStored(const std::string& label) { return store_->GetRefreshToken(Hash(label)).ok(); }
};

TEST_P(GrantTest, CodesRoundTripEveryFieldAndSurviveReopen) {
  AuthorizationCode fresh = MakeCode("a");
  AuthorizationCode used = MakeCode("b", "c2", "u2");
  used.redirect_uri = "http://127.0.0.1:4711/cb";
  used.scopes = {};
  used.used_at = T(5);
  ASSERT_TRUE(store_->InsertAuthorizationCode(fresh).ok());
  ASSERT_TRUE(store_->InsertAuthorizationCode(used).ok());
  Reopen();

  auto got = store_->RedeemAuthorizationCode(fresh.code_hash, T(10));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameCode(*got, fresh);
  got = store_->RedeemAuthorizationCode(used.code_hash, T(10));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameCode(*got, used);
}

TEST_P(GrantTest, RefreshTokensRoundTripEveryFieldAndSurviveReopen) {
  RefreshToken plain = MakeRefresh("r1", "f1");
  RefreshToken retired = MakeRefresh("r2", "f2", "c2", "u2");
  retired.scopes = {"recording:write", "recording:read", "openid"};
  retired.used_at = T(7);
  retired.revoked_at = T(8);
  ASSERT_TRUE(store_->InsertRefreshToken(plain).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(retired).ok());
  Reopen();

  auto got = store_->GetRefreshToken(plain.token_hash);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameRefresh(*got, plain);
  got = store_->GetRefreshToken(retired.token_hash);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameRefresh(*got, retired);
}

TEST_P(GrantTest, ACodeIsRedeemedOnceAndEveryReplayIsRecognized) {
  AuthorizationCode c = MakeCode("a");
  ASSERT_TRUE(store_->InsertAuthorizationCode(c).ok());

  auto first = store_->RedeemAuthorizationCode(c.code_hash, T(10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->used_at.has_value()) << "the first redemption sees it unused";

  for (int64_t at : {20, 30}) {
    auto replay = store_->RedeemAuthorizationCode(c.code_hash, T(at));
    ASSERT_TRUE(replay.ok()) << replay.status().ToString();
    EXPECT_EQ(replay->used_at, T(10)) << "a replay sees the first redemption's time, unchanged";
    c.used_at = T(10);
    ExpectSameCode(*replay, c);
  }
}

TEST_P(GrantTest, UnknownCodesAndTokensAreNotFound) {
  auto code = store_->RedeemAuthorizationCode(Hash("nope"), T(10));
  EXPECT_EQ(code.status().code(), "code.not.found");
  EXPECT_EQ(code.status().kind(), Status::Kind::kNotFound);

  auto token = store_->GetRefreshToken(Hash("nope"));
  EXPECT_EQ(token.status().code(), "refresh.not.found");
  EXPECT_EQ(token.status().kind(), Status::Kind::kNotFound);

  auto rotated = store_->RotateRefreshToken(Hash("nope"), MakeRefresh("next", "f1"), T(10));
  EXPECT_EQ(rotated.status().code(), "refresh.not.found");
  EXPECT_FALSE(RefreshStored("next")) << "a refused rotation inserts nothing";
}

TEST_P(GrantTest, RotationRetiresTheOldTokenAndInsertsTheNext) {
  RefreshToken r1 = MakeRefresh("r1", "f1");
  RefreshToken r2 = MakeRefresh("r2", "f1");
  r2.issued_at = T(10);
  ASSERT_TRUE(store_->InsertRefreshToken(r1).ok());

  auto old = store_->RotateRefreshToken(r1.token_hash, r2, T(10));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ExpectSameRefresh(*old, r1);  // as it was: unused
  auto next = store_->GetRefreshToken(r2.token_hash);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ExpectSameRefresh(*next, r2);
  EXPECT_EQ(store_->GetRefreshToken(r1.token_hash)->used_at, T(10)) << "the old one is retired";

  // Using the retired one again: returned as stored, and its `next` is not kept.
  auto reuse = store_->RotateRefreshToken(r1.token_hash, MakeRefresh("r2-bis", "f1"), T(20));
  ASSERT_TRUE(reuse.ok()) << reuse.status().ToString();
  EXPECT_EQ(reuse->used_at, T(10));
  EXPECT_FALSE(reuse->revoked_at.has_value());
  EXPECT_EQ(store_->GetRefreshToken(Hash("r2-bis")).status().code(), "refresh.not.found");
  EXPECT_EQ(store_->GetRefreshToken(r1.token_hash)->used_at, T(10)) << "unchanged by the reuse";
  EXPECT_FALSE(store_->GetRefreshToken(r2.token_hash)->used_at.has_value()) << "the current one is untouched";
}

TEST_P(GrantTest, RevokingAFamilyRevokesEveryTokenOfItAndStopsItsRotation) {
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh("r1", "f1")).ok());
  ASSERT_TRUE(store_->RotateRefreshToken(Hash("r1"), MakeRefresh("r2", "f1"), T(10)).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh("g1", "g")).ok());

  ASSERT_TRUE(store_->RevokeRefreshFamily("f1", T(30)).ok());
  EXPECT_EQ(store_->GetRefreshToken(Hash("r1"))->revoked_at, T(30));
  EXPECT_EQ(store_->GetRefreshToken(Hash("r2"))->revoked_at, T(30));
  EXPECT_FALSE(store_->GetRefreshToken(Hash("g1"))->revoked_at.has_value()) << "other families are untouched";

  // The current token of a revoked family rotates to nothing.
  auto revoked = store_->RotateRefreshToken(Hash("r2"), MakeRefresh("r3", "f1"), T(40));
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->revoked_at, T(30));
  EXPECT_FALSE(revoked->used_at.has_value()) << "returned as stored";
  EXPECT_FALSE(RefreshStored("r3"));
  EXPECT_FALSE(store_->GetRefreshToken(Hash("r2"))->used_at.has_value()) << "not retired either";

  // Again, and for a family that does not exist: fine, and the first time stays.
  EXPECT_TRUE(store_->RevokeRefreshFamily("f1", T(50)).ok());
  EXPECT_TRUE(store_->RevokeRefreshFamily("no-such-family", T(50)).ok());
  EXPECT_EQ(store_->GetRefreshToken(Hash("r1"))->revoked_at, T(30));
  EXPECT_EQ(store_->GetRefreshToken(Hash("r2"))->revoked_at, T(30));
}

TEST_P(GrantTest, PurgeRemovesOnlyWhatExpiredBeforeNow) {
  for (int64_t expires : {100, 200, 300}) {
    const std::string n = std::to_string(expires);
    AuthorizationCode c = MakeCode("code-" + n);
    c.expires_at = T(expires);
    c.used_at = T(50);  // used or not makes no difference
    ASSERT_TRUE(store_->InsertAuthorizationCode(c).ok());
    RefreshToken r = MakeRefresh("token-" + n, "f-" + n);
    r.expires_at = T(expires);
    ASSERT_TRUE(store_->InsertRefreshToken(r).ok());
  }

  ASSERT_TRUE(store_->PurgeExpiredGrants(T(200)).ok());
  EXPECT_FALSE(CodeStored("code-100"));
  EXPECT_FALSE(RefreshStored("token-100"));
  EXPECT_TRUE(CodeStored("code-200")) << "expiring at `now` is not before it";
  EXPECT_TRUE(RefreshStored("token-200"));
  EXPECT_TRUE(CodeStored("code-300"));
  EXPECT_TRUE(RefreshStored("token-300"));
  EXPECT_EQ(store_->RedeemAuthorizationCode(Hash("code-100"), T(200)).status().code(), "code.not.found");
}

TEST_P(GrantTest, DeletingAUserDeletesItsGrantsOnly) {
  ASSERT_TRUE(store_->InsertAuthorizationCode(MakeCode("a", "c1", "u1")).ok());
  ASSERT_TRUE(store_->InsertAuthorizationCode(MakeCode("b", "c1", "u2")).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh("r1", "f1", "c1", "u1")).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh("r2", "f2", "c1", "u2")).ok());

  ASSERT_TRUE(store_->DeleteUser("u1").ok());
  EXPECT_FALSE(CodeStored("a"));
  EXPECT_FALSE(RefreshStored("r1"));
  EXPECT_TRUE(CodeStored("b"));
  EXPECT_TRUE(RefreshStored("r2"));
}

TEST_P(GrantTest, DeletingAClientDeletesItsGrantsOnly) {
  ASSERT_TRUE(store_->InsertAuthorizationCode(MakeCode("a", "c1", "u1")).ok());
  ASSERT_TRUE(store_->InsertAuthorizationCode(MakeCode("b", "c2", "u1")).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh("r1", "f1", "c1", "u1")).ok());
  ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh("r2", "f2", "c2", "u1")).ok());

  ASSERT_TRUE(store_->DeleteClient("c1").ok());
  EXPECT_FALSE(CodeStored("a"));
  EXPECT_FALSE(RefreshStored("r1"));
  EXPECT_TRUE(CodeStored("b"));
  EXPECT_TRUE(RefreshStored("r2"));
}

// Grants go with their client and user, so none can be kept for one that
// does not exist (deleted while the person signed in): a clean not-found,
// which the sign-in turns into a refusal, never an internal error.
TEST_P(GrantTest, GrantsOfAMissingClientOrUserAreNotKept) {
  auto expect_not_found = [](const Status& s, const char* code) {
    EXPECT_EQ(s.kind(), Status::Kind::kNotFound) << s.ToString();
    EXPECT_EQ(s.code(), code) << s.ToString();
  };
  expect_not_found(store_->InsertAuthorizationCode(MakeCode("a", "no-client", "u1")), "client.not.found");
  expect_not_found(store_->InsertAuthorizationCode(MakeCode("b", "c1", "no-user")), "user.not.found");
  expect_not_found(store_->InsertRefreshToken(MakeRefresh("r1", "f1", "no-client", "u1")), "client.not.found");
  expect_not_found(store_->InsertRefreshToken(MakeRefresh("r2", "f2", "c1", "no-user")), "user.not.found");
  EXPECT_FALSE(CodeStored("a"));
  EXPECT_FALSE(CodeStored("b"));
  EXPECT_FALSE(RefreshStored("r1"));
  EXPECT_FALSE(RefreshStored("r2"));
}

// Two nodes redeeming one code at the same moment: exactly one sees it
// unused (the other is told it is a replay), in every round.
TEST_P(GrantTest, TwoNodesRedeemingOneCodeAtOnceSeeOneFirstRedemption) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round)
    ASSERT_TRUE(store_->InsertAuthorizationCode(MakeCode("race-" + std::to_string(round))).ok());
  conformance::ExpectOneWinnerPerRace(
      *store_, **other, kRounds,
      [](Store& s, int n, int round) -> Status {
        auto got = s.RedeemAuthorizationCode(Hash("race-" + std::to_string(round)), T(100 + n));
        if (!got.ok()) return got.status();
        return got->used_at ? Status::FailedPrecondition("test.replay", "already redeemed") : Status::Ok();
      },
      "test.replay");
}

// Two nodes rotating one refresh token at the same moment: exactly one gets
// it unused and only its `next` is kept, in every round.
TEST_P(GrantTest, TwoNodesRotatingOneTokenAtOnceRotateItOnce) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kRounds = 10;
  auto label = [](int round, const std::string& suffix) { return "race-" + std::to_string(round) + suffix; };
  for (int round = 0; round < kRounds; ++round)
    ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh(label(round, ""), label(round, "-f"))).ok());
  conformance::ExpectOneWinnerPerRace(
      *store_, **other, kRounds,
      [&](Store& s, int n, int round) -> Status {
        RefreshToken next = MakeRefresh(label(round, "-next-" + std::to_string(n)), label(round, "-f"));
        auto old = s.RotateRefreshToken(Hash(label(round, "")), next, T(100 + n));
        if (!old.ok()) return old.status();
        return old->used_at ? Status::FailedPrecondition("test.reuse", "already rotated") : Status::Ok();
      },
      "test.reuse");
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_NE(RefreshStored(label(round, "-next-0")), RefreshStored(label(round, "-next-1")))
        << "round " << round << ": one successor, never two";
  }
}

// A rotation and a revocation of one family at the same moment, on two
// nodes: whichever goes first, no token of the family is left unrevoked (a
// successor inserted just before the revocation is revoked with the rest).
TEST_P(GrantTest, ARotationRacingTheRevocationOfItsFamilyLeavesNothingUnrevoked) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string family = "f-" + std::to_string(round);
    ASSERT_TRUE(store_->InsertRefreshToken(MakeRefresh(family + "-r1", family)).ok());
    std::barrier line(2);
    Status rotated, revoked;
    std::thread rotate([&] {
      line.arrive_and_wait();
      rotated = store_->RotateRefreshToken(Hash(family + "-r1"), MakeRefresh(family + "-r2", family), T(10)).status();
    });
    std::thread revoke([&] {
      line.arrive_and_wait();
      revoked = (*other)->RevokeRefreshFamily(family, T(10));
    });
    rotate.join();
    revoke.join();
    ASSERT_TRUE(rotated.ok()) << rotated.ToString();
    ASSERT_TRUE(revoked.ok()) << revoked.ToString();
    EXPECT_EQ(RawInt("SELECT COUNT(*) FROM refresh_tokens WHERE family_id = '" + family + "' AND revoked_at IS NULL"),
              0)
        << "round " << round;
  }
}

VERBATIM_STORE_CONFORMANCE(GrantTest);

}  // namespace
}  // namespace verbatim::store
