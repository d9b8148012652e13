// EventHub over a real SQLite change log: order, filters, resuming from an
// older cursor a page at a time, visibility, and dropping subscribers that
// are gone (service/event_hub.h).
#include "service/event_hub.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "core/ids.h"
#include "store/change_diff.h"
#include "store/sqlite/sqlite_store.h"

namespace verbatim::service {
namespace {

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-hub-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store::SqliteOptions o;
    o.path = (dir_ / "v.db").string();
    auto s = store::OpenSqliteStore(o, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    // No poller: each round of the test is an explicit PollOnce.
    hub_ = std::make_unique<EventHub>(*store_, EventHub::Options{std::chrono::hours(1), 2, false});
  }
  void TearDown() override {
    hub_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Client(const std::string& name) {
    store::OAuthClient c;
    c.id = NewUuid();
    c.name = name;
    const auto by = store::OfflineAuthor("test", clock_.Now());
    ASSERT_TRUE(store_->CreateClient(c, &by).ok());
  }
  void Start(const std::string& conv) {
    store::Conversation c;
    c.id = conv;
    c.started_at = clock_.Now();
    ASSERT_TRUE(store_->CreateConversation(c).ok());
    ASSERT_TRUE(store_->ApplyRecordingAction(conv, RecordingAction::kStart, clock_.Now(), {"client", "x", "x", "x"}, "", "c")
                    .ok());
  }

  // A subscriber that records what it gets (from the poller's thread or the test's).
  struct Recorder {
    std::mutex mu;
    std::vector<std::string> got;  // "id:kind"
    bool accept = true;
    bool ended = false;
    std::vector<std::string> Got() {
      std::lock_guard lock(mu);
      return got;
    }
  };
  std::shared_ptr<EventSubscription> Subscribe(Recorder& r, int64_t cursor, std::vector<std::string> kinds = {}) {
    auto s = std::make_shared<EventSubscription>();
    s->cursor = cursor;
    s->kinds = std::move(kinds);
    s->deliver = [&r](std::vector<store::ChangeEntry> entries) {
      std::lock_guard lock(r.mu);
      for (const auto& e : entries) r.got.push_back(std::to_string(e.id) + ":" + e.kind);
      return r.accept;
    };
    s->ended = [&r] {
      std::lock_guard lock(r.mu);
      r.ended = true;
    };
    return s;
  }
  void Drain() {
    while (hub_->PollOnce()) {
    }
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<EventHub> hub_;
};

TEST_F(EventHubTest, DeliversNewEntriesInOrderAndOnlyOnce) {
  Client("before");  // id 1: before the subscription
  Recorder r;
  hub_->Subscribe(Subscribe(r, *store_->LastChangeId()));
  Client("a");
  Client("b");
  Client("c");
  Drain();
  EXPECT_EQ(r.Got(), (std::vector<std::string>{"2:client.created", "3:client.created", "4:client.created"}));
  Drain();
  EXPECT_EQ(r.Got().size(), 3u) << "nothing twice";
}

TEST_F(EventHubTest, AResumingSubscriberCatchesUpAPageAtATimeWithoutGaps) {
  for (int i = 0; i < 5; ++i) Client("c" + std::to_string(i));
  Recorder live, resuming;
  hub_->Subscribe(Subscribe(live, 5));
  hub_->Subscribe(Subscribe(resuming, 1));
  Client("new");  // id 6
  EXPECT_TRUE(hub_->PollOnce()) << "a full page (2): more is waiting";
  Drain();
  EXPECT_EQ(resuming.Got(), (std::vector<std::string>{"2:client.created", "3:client.created", "4:client.created",
                                                      "5:client.created", "6:client.created"}));
  EXPECT_EQ(live.Got(), (std::vector<std::string>{"6:client.created"}));
}

TEST_F(EventHubTest, KindAndConversationFiltersAndVisibility) {
  Recorder recordings, one, hidden;
  hub_->Subscribe(Subscribe(recordings, 0, {"recording."}));
  auto only = Subscribe(one, 0);
  only->conversation_id = "conv-2";
  hub_->Subscribe(only);
  auto invisible = Subscribe(hidden, 0);
  invisible->may_see = [](const store::ChangeEntry& e) -> std::optional<bool> { return e.subject_type != "client"; };
  hub_->Subscribe(invisible);
  Client("x");
  Start("conv-1");
  Start("conv-2");
  Drain();
  EXPECT_EQ(recordings.Got(), (std::vector<std::string>{"2:recording.started", "3:recording.started"}));
  EXPECT_EQ(one.Got(), (std::vector<std::string>{"3:recording.started"}));
  EXPECT_EQ(hidden.Got(), (std::vector<std::string>{"2:recording.started", "3:recording.started"}));
}

TEST_F(EventHubTest, ASubscriberThatMaySeeNothingMoreIsEndedAndOneThatIsGoneIsDropped) {
  Recorder lost, gone;
  auto s = Subscribe(lost, 0);
  s->may_see = [](const store::ChangeEntry&) -> std::optional<bool> { return std::nullopt; };
  hub_->Subscribe(s);
  gone.accept = false;
  hub_->Subscribe(Subscribe(gone, 0));
  EXPECT_EQ(hub_->subscribers(), 2u);
  Client("x");
  Drain();
  EXPECT_TRUE(lost.ended);
  EXPECT_TRUE(lost.Got().empty());
  EXPECT_EQ(gone.Got().size(), 1u);
  EXPECT_EQ(hub_->subscribers(), 0u);
}

TEST(EventKindsTest, FiltersAndMatching) {
  EXPECT_TRUE(IsKindFilter("recording."));
  EXPECT_TRUE(IsKindFilter("client.updated"));
  EXPECT_FALSE(IsKindFilter(""));
  EXPECT_FALSE(IsKindFilter(".x"));
  EXPECT_FALSE(IsKindFilter("Client"));
  EXPECT_FALSE(IsKindFilter("a b"));
  EXPECT_TRUE(KindMatches({}, "anything"));
  EXPECT_TRUE(KindMatches({"recording."}, "recording.paused"));
  EXPECT_FALSE(KindMatches({"recording."}, "recordings.x"));
  EXPECT_FALSE(KindMatches({"recording"}, "recording.paused"));
  EXPECT_TRUE(KindMatches({"client.created", "media.ready"}, "media.ready"));
}

}  // namespace
}  // namespace verbatim::service
