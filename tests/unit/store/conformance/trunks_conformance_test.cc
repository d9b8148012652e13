// Store conformance, run on SQLite and PostgreSQL: SIPREC trunks and
// conversation owners.
#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using testing_util::MakeConversation;
using conformance::StoreTest;
using testing_util::T;

class TrunkTest : public StoreTest {};

SipTrunk MakeTrunk(std::string name) {
  SipTrunk t;
  t.id = NewUuid();
  t.name = std::move(name);
  t.description = "CUBE east";
  t.networks = {"192.0.2.0/24", "2001:db8::/32"};
  t.transports = {"udp", "tcp"};
  t.digest_username = "cube";
  t.digest_realm = "verbatim";
  t.digest_ha1_md5 = std::string(32, 'a');
  t.digest_ha1_sha256 = std::string(64, 'b');
  t.max_sessions = 40;
  t.max_channels = 4;
  t.max_bandwidth_kbps = 512;
  t.rtp_source = "latch";
  t.srtp = "required";
  t.created_at = T(1);
  t.updated_at = T(2);
  return t;
}

TEST_P(TrunkTest, TrunkCrudRoundTripsEveryFieldAndSurvivesReopen) {
  SipTrunk a = MakeTrunk("cube-east");
  ASSERT_TRUE(store_->CreateTrunk(a).ok());
  Reopen();
  auto got = store_->GetTrunk(a.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "cube-east");
  EXPECT_EQ(got->description, "CUBE east");
  EXPECT_EQ(got->networks, a.networks);
  EXPECT_EQ(got->transports, a.transports);
  EXPECT_EQ(got->digest_username, "cube");
  EXPECT_EQ(got->digest_realm, "verbatim");
  EXPECT_EQ(got->digest_ha1_md5, a.digest_ha1_md5);
  EXPECT_EQ(got->digest_ha1_sha256, a.digest_ha1_sha256);
  EXPECT_EQ(got->max_sessions, 40);
  EXPECT_EQ(got->max_channels, 4);
  EXPECT_EQ(got->max_bandwidth_kbps, 512);
  EXPECT_EQ(got->rtp_source, "latch");
  EXPECT_EQ(got->srtp, "required");
  EXPECT_EQ(got->created_at, T(1));
  EXPECT_EQ(got->updated_at, T(2));

  got->networks = {"198.51.100.7/32"};
  got->digest_username.clear();
  got->srtp = "off";
  got->updated_at = T(3);
  ASSERT_TRUE(store_->UpdateTrunk(*got).ok());
  auto after = store_->GetTrunk(a.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->networks, std::vector<std::string>{"198.51.100.7/32"});
  EXPECT_TRUE(after->digest_username.empty());
  EXPECT_EQ(after->srtp, "off");
  EXPECT_EQ(after->created_at, T(1)) << "created_at never changes";

  ASSERT_TRUE(store_->DeleteTrunk(a.id).ok());
  EXPECT_EQ(store_->GetTrunk(a.id).status().code(), "trunk.not.found");
  EXPECT_EQ(store_->DeleteTrunk(a.id).code(), "trunk.not.found");
  SipTrunk ghost = MakeTrunk("ghost");
  EXPECT_EQ(store_->UpdateTrunk(ghost).code(), "trunk.not.found");
}

TEST_P(TrunkTest, TrunkNamesAreUniqueCaseInsensitivelyAndListedByName) {
  ASSERT_TRUE(store_->CreateTrunk(MakeTrunk("sbc-west")).ok());
  SipTrunk b = MakeTrunk("Acme-1");
  ASSERT_TRUE(store_->CreateTrunk(b).ok());
  EXPECT_EQ(store_->CreateTrunk(MakeTrunk("SBC-WEST")).code(), "trunk.name.taken");
  b.name = "sbc-West";
  EXPECT_EQ(store_->UpdateTrunk(b).code(), "trunk.name.taken") << "renaming onto another trunk's name";
  b.name = "ACME-1";  // its own name in another case is fine
  EXPECT_TRUE(store_->UpdateTrunk(b).ok());
  auto list = store_->ListTrunks();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "ACME-1");
  EXPECT_EQ((*list)[1].name, "sbc-west");
}

TEST_P(TrunkTest, ConversationOwnerIsStoredAndDefaultsToNone) {
  Conversation owned = MakeConversation(NewUuid(), T(0), "call-1@src");
  owned.owner = "trunk:6f1a0c3e-0000-4000-8000-000000000001";
  ASSERT_TRUE(store_->CreateConversation(owned).ok());
  Conversation api = MakeConversation(NewUuid(), T(1));
  ASSERT_TRUE(store_->CreateConversation(api).ok());
  Reopen();
  EXPECT_EQ(store_->GetConversation(owned.id)->owner, owned.owner);
  EXPECT_EQ(store_->GetConversation(api.id)->owner, "");
  auto found = store_->FindConversationByExternalId("call-1@src");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((**found).owner, owned.owner);
}

// Two nodes (store instances on one database) adding trunks whose names
// differ only in case at the same moment: one wins, the other is refused as
// taken, never two trunks of one name.
TEST_P(TrunkTest, TwoNodesAddingTrunksOfTheSameNameAtOnceMakeOne) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kRounds = 10;
  conformance::ExpectOneWinnerPerRace(
      *store_, **other, kRounds,
      [](Store& s, int n, int round) {
        return s.CreateTrunk(MakeTrunk((n == 0 ? "sbc-" : "SBC-") + std::to_string(round)));
      },
      "trunk.name.taken");
  EXPECT_EQ(store_->ListTrunks()->size(), static_cast<size_t>(kRounds));
}

VERBATIM_STORE_CONFORMANCE(TrunkTest);

}  // namespace
}  // namespace verbatim::store
