// Store conformance, run on SQLite and PostgreSQL: nodes and the media
// sessions they hold (docs/deployment.md, "Media sessions and node failure").
// One live session per conversation; a node whose lease runs out has its
// sessions interrupted, once, with the files it was writing marked and the
// change logged; a node starting again ends what its previous run held.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::T;

class NodeStoreTest : public StoreTest {
 protected:
  void Heartbeat(const std::string& node, TimePoint now, std::chrono::milliseconds lease = std::chrono::seconds(10)) {
    auto r = store_->HeartbeatNode(NodeRecord{node, "http://" + node + ":8080", T(0), now, now + lease});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  static MediaSessionClaim Claim(const std::string& conversation, const std::string& node, TimePoint at = T(100)) {
    return MediaSessionClaim{conversation, node, "siprec", at};
  }
  // A growing file of `node` for segment `segment`.
  void Growing(const std::string& conversation, const std::string& node, int segment, TimePoint at) {
    MediaFile f;
    f.segment = segment;
    f.path = conversation + "/segment-" + std::to_string(segment) + ".wav";
    f.channels = 2;
    f.bytes = 44 + 3200;
    f.duration_ms = 100;
    f.status = "recording";
    f.updated_at = at;
    f.node_id = node;
    ASSERT_TRUE(store_->UpsertMediaFile(conversation, f).ok());
  }
  std::vector<ChangeEntry> Interruptions(const std::string& conversation) {
    ChangeFilter f;
    f.kind = "media.interrupted";
    f.subject_id = conversation;
    auto got = store_->ListChanges(f);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::vector<ChangeEntry>{};
  }
};

TEST_P(NodeStoreTest, HeartbeatsReturnTheLeaseTheNodeHadAndListNodes) {
  auto first = store_->HeartbeatNode(NodeRecord{"n1", "http://a:8080", T(0), T(0), T(10'000)});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->has_value()) << "a new node had no lease";
  auto second = store_->HeartbeatNode(NodeRecord{"n1", "http://a:9090", T(0), T(3'000), T(13'000)});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ(**second, T(10'000));
  Heartbeat("n0", T(1'000));
  auto nodes = store_->ListNodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].id, "n0");
  EXPECT_EQ((*nodes)[1].id, "n1");
  EXPECT_EQ((*nodes)[1].advertise_url, "http://a:9090");
  EXPECT_EQ((*nodes)[1].heartbeat_at, T(3'000));
  EXPECT_EQ((*nodes)[1].lease_expires_at, T(13'000));
}

TEST_P(NodeStoreTest, ALiveNodesClaimRefusesEveryOtherSessionUntilReleased) {
  CreateConversation("c1");
  Heartbeat("n1", T(0));
  Heartbeat("n2", T(0));
  auto claimed = store_->ClaimMediaSession(Claim("c1", "n1"), T(100));
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_FALSE(claimed->has_value());
  for (const std::string node : {"n1", "n2"}) {
    auto busy = store_->ClaimMediaSession(Claim("c1", node), T(200));
    ASSERT_FALSE(busy.ok()) << node;
    EXPECT_EQ(busy.status().code(), "media.busy");
    EXPECT_NE(busy.status().message().find("n1"), std::string::npos) << busy.status().message();
  }
  // Only the holder releases it.
  ASSERT_TRUE(store_->ReleaseMediaSession("c1", "n2").ok());
  EXPECT_EQ(store_->ClaimMediaSession(Claim("c1", "n2"), T(300)).status().code(), "media.busy");
  ASSERT_TRUE(store_->ReleaseMediaSession("c1", "n1").ok());
  ASSERT_TRUE(store_->ClaimMediaSession(Claim("c1", "n2"), T(400)).ok());
  // Nothing was interrupted on the way.
  EXPECT_TRUE(Interruptions("c1").empty());
}

TEST_P(NodeStoreTest, ExpiredLeasesInterruptTheirSessionsOnceMarkingTheGrowingFiles) {
  CreateConversation("c1");
  CreateConversation("c2");
  Heartbeat("n1", T(0), std::chrono::seconds(10));
  Heartbeat("n2", T(0), std::chrono::seconds(60));
  ASSERT_TRUE(store_->ClaimMediaSession(Claim("c1", "n1"), T(100)).ok());
  ASSERT_TRUE(store_->ClaimMediaSession(Claim("c2", "n2"), T(100)).ok());
  Growing("c1", "n1", 1, T(500));
  Growing("c2", "n2", 1, T(500));

  // Before n1's lease runs out: nothing.
  auto none = store_->InterruptMediaSessions(T(9'000), "");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  auto ended = store_->InterruptMediaSessions(T(11'000), "");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].conversation_id, "c1");
  EXPECT_EQ((*ended)[0].node_id, "n1");
  EXPECT_EQ((*ended)[0].transport, "siprec");
  EXPECT_EQ((*ended)[0].opened_at, T(100));

  auto c1 = store_->GetRecording("c1");
  ASSERT_TRUE(c1.ok());
  ASSERT_EQ(c1->media.size(), 1u);
  EXPECT_EQ(c1->media[0].status, "interrupted");
  EXPECT_EQ(c1->media[0].node_id, "n1");
  ASSERT_TRUE(c1->media[0].interrupted_at.has_value());
  EXPECT_EQ(*c1->media[0].interrupted_at, T(11'000));
  EXPECT_EQ(store_->GetRecording("c2")->media[0].status, "recording") << "n2's lease still runs";

  auto log = Interruptions("c1");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].actor.principal_type, "system");
  EXPECT_EQ(log[0].subject_type, "conversation");
  EXPECT_EQ(log[0].at, T(11'000));

  // Once: a second round (another node's) finds nothing, and the conversation is free.
  auto again = store_->InterruptMediaSessions(T(12'000), "");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(Interruptions("c1").size(), 1u);
  EXPECT_TRUE(store_->ClaimMediaSession(Claim("c1", "n2"), T(12'000)).ok());

  // n1 comes back and recovers its file: complete, still saying it was interrupted.
  MediaFile recovered = c1->media[0];
  recovered.status = "complete";
  recovered.updated_at = T(20'000);
  recovered.interrupted_at.reset();
  ASSERT_TRUE(store_->UpsertMediaFile("c1", recovered).ok());
  auto after = store_->GetRecording("c1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->media[0].status, "complete");
  ASSERT_TRUE(after->media[0].interrupted_at.has_value());
  EXPECT_EQ(*after->media[0].interrupted_at, T(11'000));
}

TEST_P(NodeStoreTest, AClaimOnAConversationWhoseNodeLapsedInterruptsAndReplacesIt) {
  CreateConversation("c1");
  Heartbeat("n1", T(0), std::chrono::seconds(1));
  Heartbeat("n2", T(0), std::chrono::seconds(60));
  ASSERT_TRUE(store_->ClaimMediaSession(Claim("c1", "n1"), T(100)).ok());
  Growing("c1", "n1", 1, T(200));
  auto taken = store_->ClaimMediaSession(Claim("c1", "n2", T(5'000)), T(5'000));
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ASSERT_TRUE(taken->has_value());
  EXPECT_EQ((*taken)->node_id, "n1");
  EXPECT_EQ(store_->GetRecording("c1")->media[0].status, "interrupted");
  EXPECT_EQ(Interruptions("c1").size(), 1u);
  EXPECT_EQ(store_->ClaimMediaSession(Claim("c1", "n1"), T(5'100)).status().code(), "media.busy")
      << "n2 holds it now";
}

TEST_P(NodeStoreTest, ANodeStartingAgainEndsWhatItsPreviousRunHeldWhateverTheLease) {
  CreateConversation("c1");
  CreateConversation("c2");
  Heartbeat("n1", T(0), std::chrono::seconds(60));
  Heartbeat("n2", T(0), std::chrono::seconds(60));
  ASSERT_TRUE(store_->ClaimMediaSession(Claim("c1", "n1"), T(100)).ok());
  ASSERT_TRUE(store_->ClaimMediaSession(Claim("c2", "n2"), T(100)).ok());
  auto ended = store_->InterruptMediaSessions(T(2'000), "n1");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].conversation_id, "c1");
  EXPECT_EQ(Interruptions("c1").size(), 1u);
  EXPECT_TRUE(Interruptions("c2").empty());
}

TEST_P(NodeStoreTest, ConcurrentRoundsOnTwoNodesInterruptEachSessionOnce) {
  Heartbeat("dead", T(0), std::chrono::seconds(1));
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back("c" + std::to_string(i));
    CreateConversation(ids.back());
    ASSERT_TRUE(store_->ClaimMediaSession(Claim(ids.back(), "dead"), T(100)).ok());
  }
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::vector<MediaSessionClaim> a, b;
  auto round = [](Store& s, std::vector<MediaSessionClaim>& out) {
    auto r = s.InterruptMediaSessions(T(5'000), "");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) out = *r;
  };
  std::thread t1([&] { round(*store_, a); });
  std::thread t2([&] { round(**other, b); });
  t1.join();
  t2.join();
  std::multiset<std::string> seen;
  for (const auto& c : a) seen.insert(c.conversation_id);
  for (const auto& c : b) seen.insert(c.conversation_id);
  EXPECT_EQ(seen.size(), ids.size());
  for (const auto& id : ids) {
    EXPECT_EQ(seen.count(id), 1u) << id;
    EXPECT_EQ(Interruptions(id).size(), 1u) << id;
  }
}

VERBATIM_STORE_CONFORMANCE(NodeStoreTest);

}  // namespace
}  // namespace verbatim::store
