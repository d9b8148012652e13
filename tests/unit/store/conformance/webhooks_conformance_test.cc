// Store conformance, run on SQLite and PostgreSQL: webhooks and their outbox
// (docs/webhooks.md). Queuing is a compare-and-set on the cursor, claims are
// leases, and a delivery's outcome is recorded once.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::T;
using testing_util::TestActor;

class WebhookStoreTest : public StoreTest {
 protected:
  Webhook MakeWebhook(std::string url = "https://hooks.example.com/verbatim") {
    Webhook w;
    w.id = NewUuid();
    w.url = std::move(url);
    w.description = "CRM";
    w.kinds = {"recording.", "media.ready"};
    w.secret_encrypted = std::string("sealed\0bytes", 12);
    w.cursor = 7;
    w.created_by = TestActor("ops-bot-id");
    w.created_at = T(1);
    return w;
  }
  static WebhookDelivery MakeDelivery(const std::string& webhook_id, int64_t change_id, TimePoint due = T(10)) {
    WebhookDelivery d;
    d.id = "msg_" + webhook_id.substr(0, 8) + "_" + std::to_string(change_id);
    d.webhook_id = webhook_id;
    d.change_id = change_id;
    d.kind = "recording.started";
    d.payload = R"({"type":"recording.started"})";
    d.created_at = due;
    d.next_attempt_at = due;
    return d;
  }
  std::vector<WebhookDelivery> Deliveries(const std::string& webhook_id) {
    DeliveryFilter f;
    f.webhook_id = webhook_id;
    f.limit = 100;
    auto got = store_->ListDeliveries(f);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::vector<WebhookDelivery>{};
  }
  std::vector<std::string> Kinds() {
    ChangeFilter f;
    f.subject_type = "webhook";
    auto got = store_->ListChanges(f);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::string> out;
    if (got.ok())
      for (const auto& e : *got) out.push_back(e.kind);
    return out;
  }
};

TEST_P(WebhookStoreTest, WebhooksRoundTripEveryFieldAreLoggedAndDeleteTheirDeliveries) {
  Webhook w = MakeWebhook();
  const ChangeAuthor by{TestActor("ops-bot-id"), "ctx-1", T(5)};
  ASSERT_TRUE(store_->CreateWebhook(w, &by).ok());
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 7, 9, {MakeDelivery(w.id, 8)}).ok());
  Reopen();
  auto got = store_->GetWebhook(w.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->url, w.url);
  EXPECT_EQ(got->description, "CRM");
  EXPECT_EQ(got->kinds, w.kinds);
  EXPECT_EQ(got->secret_encrypted, w.secret_encrypted) << "sealed bytes kept exactly, NUL included";
  EXPECT_TRUE(got->enabled);
  EXPECT_EQ(got->cursor, 9);
  EXPECT_EQ(got->created_by.principal_id, "ops-bot-id");
  EXPECT_EQ(got->created_at, T(1));
  EXPECT_FALSE(got->disabled_at.has_value());
  auto all = store_->ListWebhooks();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);

  ASSERT_TRUE(store_->DeleteWebhook(w.id, &by).ok());
  EXPECT_EQ(store_->GetWebhook(w.id).status().code(), "webhook.not.found");
  EXPECT_EQ(store_->DeleteWebhook(w.id, &by).code(), "webhook.not.found");
  EXPECT_EQ(RawInt("SELECT count(*) FROM webhook_deliveries"), 0) << "the outbox goes with its webhook";
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"webhook.created", "webhook.deleted"}));
}

TEST_P(WebhookStoreTest, QueuingIsACompareAndSetOnTheCursor) {
  Webhook w = MakeWebhook();
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 7, 12, {MakeDelivery(w.id, 8), MakeDelivery(w.id, 11)}).ok());
  // A second dispatcher that read the same cursor queues nothing.
  Status again = store_->EnqueueDeliveries(w.id, 7, 12, {MakeDelivery(w.id, 8), MakeDelivery(w.id, 11)});
  EXPECT_EQ(again.code(), "webhook.cursor.moved");
  EXPECT_EQ(Deliveries(w.id).size(), 2u);
  EXPECT_EQ(store_->GetWebhook(w.id)->cursor, 12);
  // Moving the cursor over entries that match nothing queues nothing.
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 12, 20, {}).ok());
  EXPECT_EQ(store_->GetWebhook(w.id)->cursor, 20);
  EXPECT_EQ(store_->EnqueueDeliveries("no-such-webhook", 0, 1, {}).code(), "webhook.not.found");
}

TEST_P(WebhookStoreTest, ClaimsLeaseDueDeliveriesUntilTheLeaseLapses) {
  Webhook w = MakeWebhook();
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  ASSERT_TRUE(store_
                  ->EnqueueDeliveries(w.id, 7, 10,
                                      {MakeDelivery(w.id, 8, T(10)), MakeDelivery(w.id, 9, T(50))})
                  .ok());
  auto first = store_->ClaimDueDeliveries(T(20), T(1000), 10);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u) << "only the one due";
  EXPECT_EQ((*first)[0].change_id, 8);
  EXPECT_EQ((*first)[0].payload, R"({"type":"recording.started"})");
  EXPECT_EQ((*first)[0].next_attempt_at, T(1000));
  auto second = store_->ClaimDueDeliveries(T(60), T(1000), 10);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u) << "the leased one is left alone";
  EXPECT_EQ((*second)[0].change_id, 9);
  // The claimer died: after the lease, the same delivery (same id) is claimed again.
  auto lapsed = store_->ClaimDueDeliveries(T(1000), T(2000), 10);
  ASSERT_TRUE(lapsed.ok());
  ASSERT_EQ(lapsed->size(), 2u);
  EXPECT_EQ((*lapsed)[0].id, (*first)[0].id);
}

TEST_P(WebhookStoreTest, AttemptsAreCountedAndAFinishedDeliveryStaysFinished) {
  Webhook w = MakeWebhook();
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  const WebhookDelivery d = MakeDelivery(w.id, 8);
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 7, 8, {d}).ok());
  ASSERT_TRUE(store_->RecordDeliveryAttempt({d.id, T(20), 500, "HTTP 500", DeliveryStatus::kPending, T(40)}).ok());
  auto after_failure = Deliveries(w.id);
  ASSERT_EQ(after_failure.size(), 1u);
  EXPECT_EQ(after_failure[0].attempts, 1);
  EXPECT_EQ(after_failure[0].status, DeliveryStatus::kPending);
  EXPECT_EQ(after_failure[0].next_attempt_at, T(40));
  EXPECT_EQ(after_failure[0].last_status, 500);
  EXPECT_EQ(after_failure[0].last_error, "HTTP 500");
  EXPECT_EQ(after_failure[0].last_attempt_at, T(20));
  EXPECT_TRUE(store_->ClaimDueDeliveries(T(30), T(100), 10)->empty()) << "not due before its retry time";

  ASSERT_TRUE(store_->RecordDeliveryAttempt({d.id, T(41), 204, "", DeliveryStatus::kDelivered, T(0)}).ok());
  // A late outcome of a lapsed claim does not undo the success.
  ASSERT_TRUE(store_->RecordDeliveryAttempt({d.id, T(42), 0, "timed out", DeliveryStatus::kPending, T(90)}).ok());
  Reopen();
  auto done = Deliveries(w.id);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(done[0].attempts, 2);
  EXPECT_EQ(done[0].finished_at, T(41));
  EXPECT_EQ(store_->GetWebhook(w.id)->last_delivered_at, T(41));
  EXPECT_TRUE(store_->ClaimDueDeliveries(T(1000), T(2000), 10)->empty());
}

TEST_P(WebhookStoreTest, DisablingFailsPendingDeliveriesWithTheReasonAndStopsClaims) {
  Webhook w = MakeWebhook();
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 7, 9, {MakeDelivery(w.id, 8), MakeDelivery(w.id, 9)}).ok());
  const ChangeAuthor system{Actor{"system", "", "webhooks", ""}, "", T(30)};
  ASSERT_TRUE(store_->SetWebhookEnabled(w.id, false, "every attempt failed for 24 h", T(30), &system).ok());
  auto got = store_->GetWebhook(w.id);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->disabled_reason, "every attempt failed for 24 h");
  EXPECT_EQ(got->disabled_at, T(30));
  for (const auto& d : Deliveries(w.id)) {
    EXPECT_EQ(d.status, DeliveryStatus::kFailed);
    EXPECT_NE(d.last_error.find("every attempt failed for 24 h"), std::string::npos) << d.last_error;
  }
  EXPECT_TRUE(store_->ClaimDueDeliveries(T(1000), T(2000), 10)->empty());

  ASSERT_TRUE(store_->SetWebhookEnabled(w.id, true, "", T(40), &system).ok());
  got = store_->GetWebhook(w.id);
  EXPECT_TRUE(got->enabled);
  EXPECT_EQ(got->disabled_reason, "");
  EXPECT_FALSE(got->disabled_at.has_value());
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"webhook.updated", "webhook.updated"}));
}

TEST_P(WebhookStoreTest, DeliveriesPageNewestFirstByStatusAndFinishedOnesArePurged) {
  Webhook w = MakeWebhook();
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(MakeDelivery(w.id, 10 + i));
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 7, 20, batch).ok());
  ASSERT_TRUE(store_->RecordDeliveryAttempt({batch[1].id, T(20), 200, "", DeliveryStatus::kDelivered, T(0)}).ok());
  ASSERT_TRUE(store_->RecordDeliveryAttempt({batch[3].id, T(500), 200, "", DeliveryStatus::kDelivered, T(0)}).ok());

  DeliveryFilter f;
  f.webhook_id = w.id;
  f.limit = 2;
  auto page = store_->ListDeliveries(f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].change_id, 14);
  EXPECT_EQ((*page)[1].change_id, 13);
  f.before_seq = (*page)[1].seq;
  page = store_->ListDeliveries(f);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].change_id, 12);
  f = DeliveryFilter{w.id, DeliveryStatus::kDelivered, std::nullopt, 10};
  page = store_->ListDeliveries(f);
  ASSERT_EQ(page->size(), 2u);

  auto purged = store_->PurgeDeliveriesBefore(T(100), 10);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1) << "only the one finished before the cutoff; pending ones are never purged";
  EXPECT_EQ(Deliveries(w.id).size(), 4u);
}

TEST_P(WebhookStoreTest, TwoDispatchersClaimingAtOnceNeverClaimOneDeliveryTwice) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Webhook w = MakeWebhook();
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  constexpr int kDeliveries = 60;
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < kDeliveries; ++i) batch.push_back(MakeDelivery(w.id, 100 + i));
  ASSERT_TRUE(store_->EnqueueDeliveries(w.id, 7, 200, batch).ok());
  std::vector<std::string> claimed_a, claimed_b;
  auto claim = [](Store& s, std::vector<std::string>& out) {
    for (;;) {
      auto got = s.ClaimDueDeliveries(T(100), T(100000), 3);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      if (got->empty()) return;
      for (const auto& d : *got) out.push_back(d.id);
    }
  };
  std::thread a([&] { claim(*store_, claimed_a); });
  std::thread b([&] { claim(**other, claimed_b); });
  a.join();
  b.join();
  std::set<std::string> all(claimed_a.begin(), claimed_a.end());
  all.insert(claimed_b.begin(), claimed_b.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kDeliveries));
  EXPECT_EQ(claimed_a.size() + claimed_b.size(), static_cast<size_t>(kDeliveries)) << "none claimed twice";
}

VERBATIM_STORE_CONFORMANCE(WebhookStoreTest);

}  // namespace
}  // namespace verbatim::store
