// WebhookDispatcher over a real SQLite outbox with a fake sender and a fake
// clock: what is queued, retried with the same id, failed after the window,
// and when a webhook is disabled (service/webhook_dispatcher.h).
#include "service/webhook_dispatcher.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>

#include "core/ids.h"
#include "store/change_diff.h"
#include "store/sqlite/sqlite_store.h"

namespace verbatim::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WebhookRetryDelayTest, DoublesFromTheBaseUpToTheCapWithAtMostTwentyPercentJitter) {
  const milliseconds base(5000), cap(std::chrono::hours(1));
  EXPECT_EQ(WebhookRetryDelay(1, base, cap, 1.0), milliseconds(5000));
  EXPECT_EQ(WebhookRetryDelay(2, base, cap, 1.0), milliseconds(10000));
  EXPECT_EQ(WebhookRetryDelay(5, base, cap, 1.0), milliseconds(80000));
  EXPECT_EQ(WebhookRetryDelay(30, base, cap, 1.0), cap);
  EXPECT_EQ(WebhookRetryDelay(1000, base, cap, 1.0), cap) << "no overflow";
  EXPECT_EQ(WebhookRetryDelay(1, base, cap, 0.8), milliseconds(4000));
  EXPECT_EQ(WebhookRetryDelay(1, base, cap, 0.1), milliseconds(4000)) << "jitter is clamped to [0.8, 1]";
}

TEST(WebhookDeliveryIdTest, IsStablePerWebhookAndEntry) {
  EXPECT_EQ(WebhookDeliveryId("w1", 7), WebhookDeliveryId("w1", 7));
  EXPECT_NE(WebhookDeliveryId("w1", 7), WebhookDeliveryId("w1", 8));
  EXPECT_NE(WebhookDeliveryId("w1", 7), WebhookDeliveryId("w2", 7));
  EXPECT_EQ(WebhookDeliveryId("w1", 7).rfind("msg_", 0), 0u);
}

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-wh-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store::SqliteOptions o;
    o.path = (dir_ / "v.db").string();
    auto s = store::OpenSqliteStore(o, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    WebhookDispatcher::Options opts;
    opts.threads = false;  // each round is an explicit RunOnce
    opts.retry_base = seconds(5);
    opts.retry_window = std::chrono::hours(24);
    opts.senders = 8;
    dispatcher_ = std::make_unique<WebhookDispatcher>(
        *store_, clock_, [](const store::ChangeEntry& e) { return "{\"type\":\"" + e.kind + "\"}"; },
        [this](const store::Webhook& w, const store::WebhookDelivery& d) {
          sent_.push_back({w.id, d.id, d.kind, d.payload});
          if (replies_.empty()) return WebhookAttemptResult{204, ""};
          WebhookAttemptResult r = replies_.front();
          replies_.pop_front();
          return r;
        },
        opts, &metrics_);
  }
  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string AddWebhook(std::vector<std::string> kinds) {
    store::Webhook w;
    w.id = NewUuid();
    w.url = "https://hooks.example.com/" + w.id;
    w.kinds = std::move(kinds);
    w.secret_encrypted = "sealed";
    auto last = store_->LastChangeId();
    EXPECT_TRUE(last.ok());
    w.cursor = last.value();  // only what happens from now on
    w.created_at = clock_.Now();
    EXPECT_TRUE(store_->CreateWebhook(w).ok());
    return w.id;
  }
  void Client(const std::string& name) {
    store::OAuthClient c;
    c.id = NewUuid();
    c.name = name;
    const auto by = store::OfflineAuthor("test", clock_.Now());
    ASSERT_TRUE(store_->CreateClient(c, &by).ok());
  }
  void Record(const std::string& conv, RecordingAction action) {
    if (action == RecordingAction::kStart) {
      store::Conversation c;
      c.id = conv;
      c.started_at = clock_.Now();
      ASSERT_TRUE(store_->CreateConversation(c).ok());
    }
    ASSERT_TRUE(store_->ApplyRecordingAction(conv, action, clock_.Now(), {"client", "x", "x", "x"}, "", "c").ok());
  }
  std::vector<store::WebhookDelivery> Deliveries(const std::string& webhook) {
    store::DeliveryFilter f;
    f.webhook_id = webhook;
    f.limit = 100;
    auto got = store_->ListDeliveries(f);
    EXPECT_TRUE(got.ok());
    return got.ok() ? *got : std::vector<store::WebhookDelivery>{};
  }

  struct Sent {
    std::string webhook, id, kind, payload;
  };
  FakeClock clock_;
  Metrics metrics_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::vector<Sent> sent_;
  std::deque<WebhookAttemptResult> replies_;
};

TEST_F(WebhookDispatcherTest, SendsEachMatchingEntryOnceInLogOrderToEachWebhook) {
  Client("before-the-webhook");
  const std::string recordings = AddWebhook({"recording."});
  const std::string clients = AddWebhook({"client.created"});
  const std::string conv = NewUuid();
  Record(conv, RecordingAction::kStart);
  Client("crm");
  Record(conv, RecordingAction::kPause);
  EXPECT_EQ(dispatcher_->RunOnce(), 3);
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[0].kind, "recording.started");
  EXPECT_EQ(sent_[0].webhook, recordings);
  EXPECT_EQ(sent_[0].payload, R"({"type":"recording.started"})");
  EXPECT_EQ(sent_[1].kind, "client.created");
  EXPECT_EQ(sent_[1].webhook, clients);
  EXPECT_EQ(sent_[2].kind, "recording.paused");
  EXPECT_EQ(dispatcher_->RunOnce(), 0) << "nothing is sent twice";
  for (const auto& d : Deliveries(recordings)) EXPECT_EQ(d.status, store::DeliveryStatus::kDelivered);
  EXPECT_TRUE(store_->GetWebhook(recordings)->last_delivered_at.has_value());
}

TEST_F(WebhookDispatcherTest, AFailingReceiverGetsTheSameDeliveryAgainAfterABackoffUntilItSucceeds) {
  const std::string w = AddWebhook({"recording."});
  Record(NewUuid(), RecordingAction::kStart);
  replies_ = {{500, ""}, {0, "connection refused"}, {503, ""}};
  EXPECT_EQ(dispatcher_->RunOnce(), 1);
  EXPECT_EQ(dispatcher_->RunOnce(), 0) << "not before its backoff";
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::minutes(2));
    EXPECT_EQ(dispatcher_->RunOnce(), 1);
  }
  ASSERT_EQ(sent_.size(), 4u);
  for (const auto& s : sent_) EXPECT_EQ(s.id, sent_[0].id) << "every attempt carries the same id";
  auto d = Deliveries(w);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].status, store::DeliveryStatus::kDelivered);
  EXPECT_EQ(d[0].attempts, 4);
  EXPECT_TRUE(store_->GetWebhook(w)->enabled);
  EXPECT_EQ(metrics_.CounterValue("verbatim_webhook_attempts_total", {{"outcome", "retry"}}), 3u);
  EXPECT_EQ(metrics_.CounterValue("verbatim_webhook_attempts_total", {{"outcome", "delivered"}}), 1u);
}

TEST_F(WebhookDispatcherTest, RecordsWhyAnAttemptFailed) {
  const std::string w = AddWebhook({"recording."});
  Record(NewUuid(), RecordingAction::kStart);
  replies_ = {{500, ""}};
  dispatcher_->RunOnce();
  auto d = Deliveries(w);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].status, store::DeliveryStatus::kPending);
  EXPECT_EQ(d[0].last_status, 500);
  EXPECT_EQ(d[0].last_error, "HTTP 500");
  EXPECT_GE(d[0].next_attempt_at, clock_.Now() + seconds(4));
  EXPECT_LE(d[0].next_attempt_at, clock_.Now() + seconds(5));
}

TEST_F(WebhookDispatcherTest, AReceiverThatFailsForTheWholeWindowIsDisabledWithTheReason) {
  const std::string w = AddWebhook({"recording."});
  Record(NewUuid(), RecordingAction::kStart);
  for (int i = 0; i < 100; ++i) replies_.push_back({0, "connection refused"});
  for (int i = 0; i < 60 && store_->GetWebhook(w)->enabled; ++i) {
    dispatcher_->RunOnce();
    clock_.Advance(std::chrono::hours(1));
  }
  auto hook = store_->GetWebhook(w);
  ASSERT_TRUE(hook.ok());
  EXPECT_FALSE(hook->enabled);
  EXPECT_NE(hook->disabled_reason.find("failed for 24 h"), std::string::npos) << hook->disabled_reason;
  EXPECT_NE(hook->disabled_reason.find("connection refused"), std::string::npos) << hook->disabled_reason;
  auto d = Deliveries(w);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].status, store::DeliveryStatus::kFailed);
  EXPECT_GT(d[0].attempts, 5);
  EXPECT_LE(*d[0].last_attempt_at, d[0].created_at + std::chrono::hours(24)) << "no attempt after the window";
  EXPECT_EQ(metrics_.CounterValue("verbatim_webhook_attempts_total", {{"outcome", "failed"}}), 1u);
  EXPECT_EQ(metrics_.CounterValue("verbatim_webhooks_disabled_total", {}), 1u);
  // While disabled, new entries are passed over, not queued.
  const size_t attempts = sent_.size();
  Record(NewUuid(), RecordingAction::kStart);
  dispatcher_->RunOnce();
  EXPECT_EQ(sent_.size(), attempts);
  EXPECT_EQ(Deliveries(w).size(), 1u);
}

TEST_F(WebhookDispatcherTest, AReceiverThatRefusesOneEventButTakesOthersStaysEnabled) {
  const std::string w = AddWebhook({"recording."});
  const std::string conv = NewUuid();
  Record(conv, RecordingAction::kStart);
  replies_ = {{400, ""}};
  dispatcher_->RunOnce();  // the first fails
  Record(conv, RecordingAction::kPause);
  clock_.Advance(seconds(1));
  replies_.clear();
  for (int i = 0; i < 100; ++i) replies_.push_back({400, ""});
  replies_.push_front({204, ""});  // ... the pause is delivered
  dispatcher_->RunOnce();
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(std::chrono::hours(1));
    dispatcher_->RunOnce();
  }
  auto hook = store_->GetWebhook(w);
  EXPECT_TRUE(hook->enabled) << hook->disabled_reason;
  auto d = Deliveries(w);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].status, store::DeliveryStatus::kDelivered);  // newest first: the pause
  EXPECT_EQ(d[1].status, store::DeliveryStatus::kFailed);
}

}  // namespace
}  // namespace verbatim::service
