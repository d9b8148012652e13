// Store conformance, run on SQLite and PostgreSQL: conversations and the
// recording state machine as persisted.
#include <gtest/gtest.h>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::MakeConversation;
using testing_util::T;
using testing_util::TestActor;
using S = RecordingState;
using A = RecordingAction;

class ConversationTest : public StoreTest {};

class RecordingTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateConversation("conv-1");
  }

  ActionOutcome Act(A action, int64_t at_ms, const AuditEvent* audit = nullptr) {
    auto r = store_->ApplyRecordingAction("conv-1", action, T(at_ms), TestActor(), "why-" + std::to_string(at_ms),
                                          "ctx-" + std::to_string(at_ms), audit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ActionOutcome{};
  }
  Status ActStatus(A action, int64_t at_ms = 0) {
    return store_->ApplyRecordingAction("conv-1", action, T(at_ms), TestActor(), "", "ctx").status();
  }
  Recording Get() { return *store_->GetRecording("conv-1"); }
};

AuditEvent MakeAudit(const std::string& ctx) {
  AuditEvent e;
  e.context_id = ctx;
  e.at = T(1);
  e.actor = TestActor();
  e.action = "recording:recording:start";
  e.conversation_id = "conv-1";
  e.decision = "allow";
  e.status = 200;
  return e;
}

// ---------------------------------------------------------------- conversations

TEST_P(ConversationTest, ConversationCrudAndLookups) {
  ASSERT_TRUE(store_->CreateConversation(MakeConversation("a", T(10), "call-1@sip")).ok());
  ASSERT_TRUE(store_->CreateConversation(MakeConversation("b", T(20), "call-1@sip")).ok());
  ASSERT_TRUE(store_->CreateConversation(MakeConversation("c", T(30))).ok());
  EXPECT_EQ(store_->CreateConversation(MakeConversation("a")).code(), "conversation.exists");
  Conversation bad = MakeConversation("d");
  bad.state = "ringing";
  EXPECT_EQ(store_->CreateConversation(bad).code(), "bad.request");

  auto a = store_->GetConversation("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->state, "connected");
  EXPECT_EQ(a->started_at, T(10));
  EXPECT_FALSE(a->ended_at.has_value());
  ASSERT_EQ(a->participants.size(), 2u);
  EXPECT_EQ(a->participants[1].name, "Bob");
  EXPECT_EQ(a->participants[1].purpose, "customer");
  EXPECT_EQ(a->external_id, "call-1@sip");
  EXPECT_EQ(a->created_by, "client-1");

  Status missing = store_->GetConversation("zzz").status();
  EXPECT_EQ(missing.code(), "conversation.not.found");
  EXPECT_NE(missing.message().find("zzz"), std::string::npos);

  auto found = store_->FindConversationByExternalId("call-1@sip");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, "b");  // the newest with that external id
  EXPECT_FALSE(store_->FindConversationByExternalId("other")->has_value());
  EXPECT_FALSE(store_->FindConversationByExternalId("")->has_value());  // "c" has an empty one

  auto page = store_->ListConversations(Page{2, 0});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "c");
  EXPECT_EQ((*page)[1].id, "b");
  page = store_->ListConversations(Page{2, 2});
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "a");
  EXPECT_EQ(store_->ListConversations(Page{0, -5})->size(), 1u);  // clamped to 1, offset 0
}

TEST_P(ConversationTest, AddParticipantAppendsOrReplacesById) {
  CreateConversation("a");
  ASSERT_TRUE(store_->AddParticipant("a", Participant{"p3", "IVR", "ivr"}).ok());
  ASSERT_TRUE(store_->AddParticipant("a", Participant{"p1", "Alice Smith", "agent"}).ok());
  auto c = store_->GetConversation("a");
  ASSERT_EQ(c->participants.size(), 3u);
  EXPECT_EQ(c->participants[0].name, "Alice Smith");
  EXPECT_EQ(c->participants[2].id, "p3");
  EXPECT_EQ(store_->AddParticipant("zzz", Participant{"p", "n", "agent"}).code(), "conversation.not.found");
}

// ---------------------------------------------------------------- state machine

TEST_P(RecordingTest, AConversationWithoutActionsHasARecordingInStateNone) {
  Recording r = Get();
  EXPECT_EQ(r.conversation_id, "conv-1");
  EXPECT_EQ(r.state, S::kNone);
  EXPECT_EQ(r.version, 0);
  EXPECT_TRUE(r.segments.empty());
  EXPECT_TRUE(r.timeline.empty());
  EXPECT_EQ(store_->GetRecording("zzz").status().code(), "conversation.not.found");
}

TEST_P(RecordingTest, WalksEveryValidPathWithSegmentsAndIdempotentRepeats) {
  ActionOutcome o = Act(A::kStart, 100);  // none -> active, opens segment 1
  EXPECT_TRUE(o.changed);
  EXPECT_EQ(o.transition.seq, 1);
  EXPECT_EQ(o.transition.from, S::kNone);
  EXPECT_EQ(o.transition.to, S::kActive);
  EXPECT_EQ(o.transition.segment, 1);
  EXPECT_EQ(o.transition.reason, "why-100");
  EXPECT_EQ(o.transition.context_id, "ctx-100");
  EXPECT_EQ(o.recording.state, S::kActive);
  EXPECT_EQ(o.recording.version, 1);
  ASSERT_EQ(o.recording.segments.size(), 1u);
  EXPECT_EQ(o.recording.segments[0].index, 1);
  EXPECT_EQ(o.recording.segments[0].started_at, T(100));
  EXPECT_FALSE(o.recording.segments[0].ended_at.has_value());

  o = Act(A::kStart, 150);  // repeat while active
  EXPECT_FALSE(o.changed);
  EXPECT_EQ(o.transition.seq, 0);
  EXPECT_EQ(o.transition.from, S::kActive);
  EXPECT_EQ(o.transition.to, S::kActive);
  EXPECT_EQ(o.transition.segment, 1);
  EXPECT_EQ(o.recording.version, 1);
  EXPECT_EQ(o.recording.timeline.size(), 1u);

  EXPECT_FALSE(Act(A::kResume, 160).changed);  // resume while active is a repeat too

  o = Act(A::kPause, 200);  // active -> paused, same segment
  EXPECT_TRUE(o.changed);
  EXPECT_EQ(o.transition.seq, 2);
  EXPECT_EQ(o.transition.segment, 1);
  EXPECT_EQ(o.recording.segments.size(), 1u);

  o = Act(A::kPause, 250);  // repeat while paused
  EXPECT_FALSE(o.changed);
  EXPECT_EQ(o.transition.from, S::kPaused);
  EXPECT_EQ(o.transition.to, S::kPaused);

  o = Act(A::kResume, 300);  // paused -> active
  EXPECT_EQ(o.transition.seq, 3);
  EXPECT_EQ(o.recording.state, S::kActive);

  o = Act(A::kStop, 400);  // active -> stopped, closes segment 1
  EXPECT_EQ(o.transition.seq, 4);
  EXPECT_EQ(o.transition.segment, 1);
  EXPECT_EQ(o.recording.segments[0].ended_at, T(400));

  o = Act(A::kStop, 450);  // repeat while stopped
  EXPECT_FALSE(o.changed);
  EXPECT_EQ(o.transition.segment, 1);

  o = Act(A::kStart, 500);  // stopped -> active, opens segment 2
  EXPECT_EQ(o.transition.seq, 5);
  EXPECT_EQ(o.transition.segment, 2);
  ASSERT_EQ(o.recording.segments.size(), 2u);
  EXPECT_EQ(o.recording.segments[1].index, 2);
  EXPECT_EQ(o.recording.segments[1].started_at, T(500));

  Act(A::kPause, 600);
  o = Act(A::kStop, 700);  // paused -> stopped, closes segment 2
  EXPECT_EQ(o.transition.from, S::kPaused);
  EXPECT_EQ(o.recording.segments[1].ended_at, T(700));
  EXPECT_EQ(o.recording.segments[0].ended_at, T(400));  // untouched

  Recording r = Get();
  EXPECT_EQ(r.state, S::kStopped);
  EXPECT_EQ(r.version, 7);
  EXPECT_EQ(r.updated_at, T(700));
  ASSERT_EQ(r.timeline.size(), 7u);  // repeats wrote no transition
  const std::vector<std::string> actions = {"start", "pause", "resume", "stop", "start", "pause", "stop"};
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    EXPECT_EQ(r.timeline[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(r.timeline[i].action, actions[i]);
    if (i > 0) {
      EXPECT_EQ(r.timeline[i].from, r.timeline[i - 1].to);
    }
    EXPECT_EQ(r.timeline[i].actor.principal_name, "crm-integration");
  }
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM recording_transitions"), 7);
}

TEST_P(RecordingTest, InvalidTransitionsNameStateActionAndAllowedActionsAndWriteNothing) {
  struct Case {
    std::vector<A> setup;
    A action;
    std::string state, allowed;
  };
  const Case cases[] = {
      {{}, A::kStop, "none", "start"},
      {{}, A::kPause, "none", "start"},
      {{}, A::kResume, "none", "start"},
      {{A::kStart, A::kPause}, A::kStart, "paused", "stop, resume"},
      {{A::kStart, A::kStop}, A::kPause, "stopped", "start"},
      {{A::kStart, A::kStop}, A::kResume, "stopped", "start"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = "conv-case-" + std::to_string(n++);
    CreateConversation(id);
    for (A a : c.setup) ASSERT_TRUE(store_->ApplyRecordingAction(id, a, T(1), TestActor(), "", "x").ok());
    const int64_t version = store_->GetRecording(id)->version;
    Status s = store_->ApplyRecordingAction(id, c.action, T(2), TestActor(), "", "x").status();
    EXPECT_EQ(s.kind(), Status::Kind::kFailedPrecondition) << id;
    EXPECT_EQ(s.code(), "recording.invalid.transition");
    EXPECT_NE(s.message().find(std::string("Cannot ") + ToString(c.action)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("it is " + c.state), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("Allowed actions: " + c.allowed + "."), std::string::npos) << s.message();
    EXPECT_EQ(store_->GetRecording(id)->version, version);
    EXPECT_EQ(store_->GetRecording(id)->timeline.size(), c.setup.size());
  }
}

TEST_P(RecordingTest, ActionsOnAMissingConversationAreNotFound) {
  Status s = store_->ApplyRecordingAction("nope-42", A::kStart, T(1), TestActor(), "", "x").status();
  EXPECT_EQ(s.kind(), Status::Kind::kNotFound);
  EXPECT_EQ(s.code(), "conversation.not.found");
  EXPECT_NE(s.message().find("nope-42"), std::string::npos);
}

TEST_P(RecordingTest, AuditCommitsWithTheActionAndAlsoOnARepeatButNotOnFailure) {
  AuditEvent e1 = MakeAudit("audit-start");
  Act(A::kStart, 10, &e1);
  EXPECT_EQ(store_->GetAudit("audit-start")->decision, "allow");

  AuditEvent e2 = MakeAudit("audit-repeat");
  EXPECT_FALSE(Act(A::kStart, 20, &e2).changed);
  EXPECT_TRUE(store_->GetAudit("audit-repeat").ok());
  EXPECT_EQ(Get().timeline.size(), 1u);

  AuditEvent e3 = MakeAudit("audit-invalid");
  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", A::kStop, T(30), TestActor(), "", "x").ok());
  EXPECT_FALSE(store_->ApplyRecordingAction("conv-1", A::kPause, T(40), TestActor(), "", "x", &e3).ok());
  EXPECT_EQ(store_->GetAudit("audit-invalid").status().code(), "audit.not.found");
}

TEST_P(RecordingTest, ARefusalComesWithItsFactsAndSuccessLeavesThemEmpty) {
  using Reason = ChangeRefused::Reason;
  ChangeRefused refused;
  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", A::kStart, T(10), TestActor(), "", "x", nullptr, &refused).ok());
  EXPECT_EQ(refused.reason, Reason::kNone);

  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", A::kPause, T(15), TestActor(), "", "x", nullptr, &refused).ok());
  EXPECT_FALSE(store_->ApplyRecordingAction("conv-1", A::kStart, T(20), TestActor(), "", "x", nullptr, &refused).ok());
  EXPECT_EQ(refused.reason, Reason::kInvalidTransition);
  EXPECT_EQ(refused.state, RecordingState::kPaused) << "the state the refusing transaction saw";

  refused = {};
  EXPECT_FALSE(store_->ApplyRecordingAction("nope-42", A::kStart, T(30), TestActor(), "", "x", nullptr, &refused).ok());
  EXPECT_EQ(refused.reason, Reason::kConversationNotFound);
  refused = {};
  EXPECT_FALSE(store_->DisconnectConversation("nope-42", T(30), TestActor(), "x", &refused).ok());
  EXPECT_EQ(refused.reason, Reason::kConversationNotFound);

  ASSERT_TRUE(store_->DisconnectConversation("conv-1", T(900), TestActor(), "x", &refused).ok());
  refused = {};
  EXPECT_FALSE(store_->ApplyRecordingAction("conv-1", A::kStart, T(950), TestActor(), "", "x", nullptr, &refused).ok());
  EXPECT_EQ(refused.reason, Reason::kConversationEnded);
  EXPECT_EQ(refused.ended_at, T(900));
  refused = {};
  EXPECT_FALSE(store_->DisconnectConversation("conv-1", T(960), TestActor(), "x", &refused).ok());
  EXPECT_EQ(refused.reason, Reason::kConversationEnded);
  EXPECT_EQ(refused.ended_at, T(900));
}

// ---------------------------------------------------------------- disconnect

TEST_P(RecordingTest, DisconnectFinalizesAnActiveRecordingAndEndsTheConversation) {
  Act(A::kStart, 100);
  auto c = store_->DisconnectConversation("conv-1", T(900), TestActor("ingest"), "ctx-bye");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state, "disconnected");
  EXPECT_EQ(c->ended_at, T(900));
  EXPECT_EQ(store_->GetConversation("conv-1")->ended_at, T(900));

  Recording r = Get();
  EXPECT_EQ(r.state, S::kStopped);
  ASSERT_EQ(r.timeline.size(), 2u);
  const Transition& t = r.timeline[1];
  EXPECT_EQ(t.seq, 2);
  EXPECT_EQ(t.action, "disconnect");
  EXPECT_EQ(t.from, S::kActive);
  EXPECT_EQ(t.to, S::kStopped);
  EXPECT_EQ(t.segment, 1);
  EXPECT_EQ(t.at, T(900));
  EXPECT_EQ(t.actor.principal_id, "ingest");
  EXPECT_EQ(t.context_id, "ctx-bye");
  EXPECT_EQ(r.segments[0].ended_at, T(900));

  // Every later action: conversation.ended naming when, even a would-be repeat.
  for (A a : {A::kStart, A::kStop, A::kPause, A::kResume}) {
    Status s = ActStatus(a);
    EXPECT_EQ(s.kind(), Status::Kind::kFailedPrecondition);
    EXPECT_EQ(s.code(), "conversation.ended");
    EXPECT_NE(s.message().find(FormatRfc3339(T(900))), std::string::npos) << s.message();
  }
  Status again = store_->DisconnectConversation("conv-1", T(950), TestActor(), "x").status();
  EXPECT_EQ(again.code(), "conversation.ended");
  EXPECT_EQ(store_->GetConversation("conv-1")->ended_at, T(900));
  EXPECT_EQ(store_->DisconnectConversation("zzz", T(1), TestActor(), "x").status().code(), "conversation.not.found");
}

TEST_P(RecordingTest, DisconnectStopsAPausedRecordingButLeavesNoneAndStoppedAlone) {
  Act(A::kStart, 100);
  Act(A::kPause, 200);
  ASSERT_TRUE(store_->DisconnectConversation("conv-1", T(300), TestActor(), "x").ok());
  Recording r = Get();
  EXPECT_EQ(r.state, S::kStopped);
  EXPECT_EQ(r.timeline.back().from, S::kPaused);
  EXPECT_EQ(r.segments[0].ended_at, T(300));

  CreateConversation("never-recorded");
  ASSERT_TRUE(store_->DisconnectConversation("never-recorded", T(300), TestActor(), "x").ok());
  EXPECT_EQ(store_->GetRecording("never-recorded")->state, S::kNone);
  EXPECT_TRUE(store_->GetRecording("never-recorded")->timeline.empty());

  CreateConversation("stopped");
  ASSERT_TRUE(store_->ApplyRecordingAction("stopped", A::kStart, T(1), TestActor(), "", "x").ok());
  ASSERT_TRUE(store_->ApplyRecordingAction("stopped", A::kStop, T(2), TestActor(), "", "x").ok());
  ASSERT_TRUE(store_->DisconnectConversation("stopped", T(300), TestActor(), "x").ok());
  EXPECT_EQ(store_->GetRecording("stopped")->timeline.size(), 2u);
  EXPECT_EQ(store_->GetRecording("stopped")->segments[0].ended_at, T(2));
}

// ---------------------------------------------------------------- metadata & media

TEST_P(RecordingTest, MetadataUpdatesBumpTheVersionAndKeepTheState) {
  clock_.Set(T(42));
  auto r = store_->UpdateRecordingMetadata("conv-1", RecordingMetadata{{"vip", "pci"}, 30, "call back"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, S::kNone);
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->updated_at, T(42));
  EXPECT_EQ(r->metadata.labels, (std::vector<std::string>{"vip", "pci"}));
  EXPECT_EQ(r->metadata.retention_days, 30);

  Act(A::kStart, 100);  // the row made by the metadata update takes the first action
  r = store_->UpdateRecordingMetadata("conv-1", RecordingMetadata{{}, std::nullopt, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, S::kActive);
  EXPECT_EQ(r->version, 3);
  EXPECT_TRUE(r->metadata.labels.empty());
  EXPECT_FALSE(r->metadata.retention_days.has_value());
  EXPECT_EQ(r->timeline.size(), 1u);
  EXPECT_EQ(store_->UpdateRecordingMetadata("zzz", {}).status().code(), "conversation.not.found");
}

TEST_P(RecordingTest, MediaFilesUpsertPerSegment) {
  Act(A::kStart, 100);
  MediaFile f{1, "conv-1/1.wav.part", "audio/wav", 2, 8000, 44, 0, "recording", {"p1", "p2"}, T(101)};
  ASSERT_TRUE(store_->UpsertMediaFile("conv-1", f).ok());
  f.path = "conv-1/1.wav";
  f.bytes = 160044;
  f.duration_ms = 10000;
  f.status = "complete";
  f.updated_at = T(200);
  ASSERT_TRUE(store_->UpsertMediaFile("conv-1", f).ok());
  Recording r = Get();
  ASSERT_EQ(r.media.size(), 1u);
  EXPECT_EQ(r.media[0].path, "conv-1/1.wav");
  EXPECT_EQ(r.media[0].bytes, 160044);
  EXPECT_EQ(r.media[0].duration_ms, 10000);
  EXPECT_EQ(r.media[0].status, "complete");
  EXPECT_EQ(r.media[0].channel_labels, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(r.media[0].channels, 2);
  EXPECT_EQ(r.version, 3);
  EXPECT_EQ(store_->UpsertMediaFile("zzz", f).code(), "conversation.not.found");
}

// ---------------------------------------------------------------- durability

TEST_P(RecordingTest, ConversationsRecordingsAndTimelinesSurviveReopen) {
  Act(A::kStart, 100);
  Act(A::kPause, 200);
  Act(A::kStop, 300);
  Act(A::kStart, 400);
  ASSERT_TRUE(store_->UpdateRecordingMetadata("conv-1", RecordingMetadata{{"keep"}, 7, "n"}).ok());
  const Recording before = Get();
  Reopen();
  const Recording after = Get();
  EXPECT_EQ(after.state, S::kActive);
  EXPECT_EQ(after.version, before.version);
  ASSERT_EQ(after.timeline.size(), 4u);
  for (size_t i = 0; i < after.timeline.size(); ++i) {
    EXPECT_EQ(after.timeline[i].seq, before.timeline[i].seq);
    EXPECT_EQ(after.timeline[i].action, before.timeline[i].action);
    EXPECT_EQ(after.timeline[i].at, before.timeline[i].at);
    EXPECT_EQ(after.timeline[i].reason, before.timeline[i].reason);
  }
  ASSERT_EQ(after.segments.size(), 2u);
  EXPECT_EQ(after.segments[0].ended_at, T(300));
  EXPECT_FALSE(after.segments[1].ended_at.has_value());
  EXPECT_EQ(after.metadata.labels, std::vector<std::string>{"keep"});
  EXPECT_EQ(store_->GetConversation("conv-1")->participants.size(), 2u);
  // The next action continues the sequence after a reopen.
  EXPECT_EQ(Act(A::kStop, 500).transition.seq, 5);
}

VERBATIM_STORE_CONFORMANCE(ConversationTest);
VERBATIM_STORE_CONFORMANCE(RecordingTest);

}  // namespace
}  // namespace verbatim::store
