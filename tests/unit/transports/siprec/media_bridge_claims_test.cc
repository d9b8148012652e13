// MediaBridge claims and NodePresence, over a real SQLite store: one live
// media session per conversation whichever node asks; a node that stops
// renewing its lease has its sessions interrupted by another, audited and
// logged; a node that starts again ends what its previous run held
// (docs/deployment.md, "Media sessions and node failure").
#include <gtest/gtest.h>

#include "core/ids.h"
#include "service/node_presence.h"
#include "transports/siprec/media_bridge.h"
#include "unit/transports/http/faulty_store.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using namespace std::chrono_literals;
using testing_util::FaultyStore;
using testing_util::TestApp;

constexpr char kOwner[] = "trunk:aaaaaaaa-0000-4000-8000-000000000001";

media::capture::SessionSpec Spec(std::optional<std::string> conversation = std::nullopt) {
  media::capture::SessionSpec s;
  s.source = "siprec";
  s.owner = kOwner;
  s.conversation_id = std::move(conversation);
  s.participants = {{"", "Alice", "external"}};
  return s;
}

media::capture::MediaFileInfo Growing(const std::string& conversation, int segment) {
  media::capture::MediaFileInfo f;
  f.segment = segment;
  f.relative_path = conversation + "/segment-" + std::to_string(segment) + ".wav";
  f.channels = 1;
  f.sample_rate = 8000;
  f.frames = 8000;
  f.bytes = 44 + 16000;
  f.complete = false;
  return f;
}

// The media:session:interrupt events the audit log holds for `conversation`, in its order.
std::vector<store::AuditEvent> InterruptEvents(TestApp& t, const std::string& conversation) {
  EXPECT_TRUE(t.app().audit().Flush());
  store::AuditFilter f;
  f.conversation_id = conversation;
  auto page = t.store().ListAudit(f);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  std::vector<store::AuditEvent> out;
  if (page.ok())
    for (const auto& e : page->events)
      if (e.action == "media:session:interrupt") out.push_back(e);
  return out;
}

// One node: its bridge and its presence (no thread: rounds run here).
struct Node {
  Node(TestApp& t, const std::string& id)
      : bridge(t.app(), id),
        presence(t.store(), t.app().clock(), Options(id, bridge), [this] { return bridge.Claims(); },
                 [this](const std::vector<store::MediaSessionClaim>& ended, TimePoint at,
                        service::InterruptCause why) { bridge.RecordInterrupted(ended, at, why); }) {}
  static service::NodePresence::Options Options(const std::string& id, MediaBridge& bridge) {
    service::NodePresence::Options o;
    o.node_id = id;
    o.lease = 3s;
    o.threads = false;
    o.each_round = [&bridge] { bridge.RetryReleases(); };
    return o;
  }
  MediaBridge bridge;
  service::NodePresence presence;
};

class MediaBridgeClaims : public ::testing::Test {
 protected:
  FakeClock clock_;
  TestApp t_{clock_};
};

TEST_F(MediaBridgeClaims, OneLiveSessionPerConversationOnWhicheverNode) {
  ASSERT_TRUE(t_.ok());
  Node a(t_, "node-a"), b(t_, "node-b");
  ASSERT_TRUE(a.presence.Start().ok());
  ASSERT_TRUE(b.presence.Start().ok());
  auto first = a.bridge.Attach(Spec());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string id = first->conversation_id;
  ASSERT_EQ(a.bridge.Claims().size(), 1u);

  for (MediaBridge* bridge : {&a.bridge, &b.bridge}) {
    auto busy = bridge->Attach(Spec(id));
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.status().code(), "media.busy");
    EXPECT_NE(busy.status().message().find("node-a"), std::string::npos) << busy.status().message();
  }
  // The session ends on A: B may take the conversation.
  a.bridge.Detach(id, false, "bye");
  EXPECT_TRUE(a.bridge.Claims().empty());
  auto joined = b.bridge.Attach(Spec(id));
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_FALSE(joined->created);
}

TEST_F(MediaBridgeClaims, ASilentNodesSessionIsInterruptedByAnotherAuditedAndRecoveredLater) {
  ASSERT_TRUE(t_.ok());
  Node a(t_, "node-a"), b(t_, "node-b");
  ASSERT_TRUE(a.presence.Start().ok());
  ASSERT_TRUE(b.presence.Start().ok());
  auto attached = a.bridge.Attach(Spec());
  ASSERT_TRUE(attached.ok()) << attached.status().ToString();
  const std::string id = attached->conversation_id;
  a.bridge.MediaFileUpdated(id, Growing(id, 1));

  // A keeps renewing: B's rounds leave the session alone.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(1s);
    a.presence.RunOnce();
    b.presence.RunOnce();
  }
  EXPECT_EQ(t_.store().GetRecording(id)->media[0].status, "recording");

  // A falls silent (kill -9): after its lease, B's round interrupts its session.
  clock_.Advance(2s);
  b.presence.RunOnce();
  EXPECT_EQ(t_.store().GetRecording(id)->media[0].status, "recording") << "the lease has not run out yet";
  clock_.Advance(2s);
  b.presence.RunOnce();
  auto rec = t_.store().GetRecording(id);
  ASSERT_TRUE(rec.ok());
  ASSERT_EQ(rec->media.size(), 1u);
  EXPECT_EQ(rec->media[0].status, "interrupted");
  EXPECT_EQ(rec->media[0].node_id, "node-a");
  ASSERT_TRUE(rec->media[0].interrupted_at.has_value());
  EXPECT_EQ(*rec->media[0].interrupted_at, clock_.Now());

  // Audited by B, as the system, naming A; counted.
  const auto events = InterruptEvents(t_, id);
  ASSERT_FALSE(events.empty());
  const store::AuditEvent* interrupt = &events.back();
  EXPECT_EQ(interrupt->actor.principal_type, "system");
  EXPECT_EQ(interrupt->actor.principal_id, "node:node-b");
  EXPECT_NE(interrupt->explanation_json.find("Node node-a stopped renewing its lease"), std::string::npos)
      << interrupt->explanation_json;
  EXPECT_NE(t_.app().metrics().Render().find("verbatim_media_sessions_interrupted_total{transport=\"siprec\"} 1"),
            std::string::npos);

  // The call may go on through B: the conversation is free.
  EXPECT_TRUE(b.bridge.Attach(Spec(id)).ok());

  // A starts again and recovers its partial file: complete, still marked interrupted.
  Node a2(t_, "node-a");
  ASSERT_TRUE(a2.presence.Start().ok());
  auto done = Growing(id, 1);
  done.complete = true;
  a2.bridge.MediaFileUpdated(id, done);
  rec = t_.store().GetRecording(id);
  EXPECT_EQ(rec->media[0].status, "complete");
  EXPECT_TRUE(rec->media[0].interrupted_at.has_value());
}

TEST_F(MediaBridgeClaims, ANodeStartingAgainInterruptsItsPreviousRunsSessionsAtOnce) {
  ASSERT_TRUE(t_.ok());
  std::string id;
  {
    Node before(t_, "node-a");
    ASSERT_TRUE(before.presence.Start().ok());
    auto attached = before.bridge.Attach(Spec());
    ASSERT_TRUE(attached.ok());
    id = attached->conversation_id;
    before.bridge.MediaFileUpdated(id, Growing(id, 1));
  }  // killed: nothing released
  Node after(t_, "node-a");
  ASSERT_TRUE(after.presence.Start().ok()) << "well within the old lease";
  EXPECT_EQ(t_.store().GetRecording(id)->media[0].status, "interrupted");
  EXPECT_TRUE(after.bridge.Attach(Spec(id)).ok());
}

TEST_F(MediaBridgeClaims, ANodeThatStopsEndsItsSessionsAtOnceAndSaysWhy) {
  ASSERT_TRUE(t_.ok());
  Node a(t_, "node-a"), b(t_, "node-b");
  ASSERT_TRUE(a.presence.Start().ok());
  auto attached = a.bridge.Attach(Spec());
  ASSERT_TRUE(attached.ok());
  const std::string id = attached->conversation_id;
  a.presence.Leave();
  EXPECT_TRUE(b.bridge.Attach(Spec(id)).ok()) << "free at once, not after A's lease";
  const auto events = InterruptEvents(t_, id);
  EXPECT_FALSE(events.empty());
  for (const auto& e : events)
    EXPECT_NE(e.explanation_json.find("Node node-a stopped:"), std::string::npos) << e.explanation_json;
}

TEST_F(MediaBridgeClaims, ANodeWhoseLeaseLapsedClaimsItsLiveSessionsAgain) {
  ASSERT_TRUE(t_.ok());
  Node a(t_, "node-a"), b(t_, "node-b");
  ASSERT_TRUE(a.presence.Start().ok());
  ASSERT_TRUE(b.presence.Start().ok());
  auto attached = a.bridge.Attach(Spec());
  ASSERT_TRUE(attached.ok());
  const std::string id = attached->conversation_id;
  // A stalls past its lease; B interrupts; A wakes up still recording.
  clock_.Advance(4s);
  b.presence.RunOnce();
  a.presence.RunOnce();
  // A holds the conversation again: B cannot take it.
  EXPECT_EQ(b.bridge.Attach(Spec(id)).status().code(), "media.busy");
}

TEST(MediaBridgeRelease, AReleaseTheStoreRefusedIsRetriedEveryRoundUntilItHolds) {
  FakeClock clock;
  FaultyStore* faulty = nullptr;
  TestApp t(clock, nullptr, [&](std::unique_ptr<store::Store> inner) {
    auto f = std::make_unique<FaultyStore>(std::move(inner));
    faulty = f.get();
    return f;
  });
  ASSERT_TRUE(t.ok());
  Node a(t, "node-a"), b(t, "node-b");
  ASSERT_TRUE(a.presence.Start().ok());
  ASSERT_TRUE(b.presence.Start().ok());
  auto attached = a.bridge.Attach(Spec());
  ASSERT_TRUE(attached.ok());
  const std::string id = attached->conversation_id;

  faulty->FailReleases(true);
  a.bridge.Detach(id, false, "bye while the database is down");
  EXPECT_EQ(b.bridge.Attach(Spec(id)).status().code(), "media.busy") << "still held in the store";
  a.presence.RunOnce();  // still down: kept for the next round
  EXPECT_EQ(b.bridge.Attach(Spec(id)).status().code(), "media.busy");

  faulty->FailReleases(false);
  a.presence.RunOnce();
  EXPECT_TRUE(b.bridge.Attach(Spec(id)).ok()) << "released by A's next round";
}

}  // namespace
}  // namespace verbatim::api
