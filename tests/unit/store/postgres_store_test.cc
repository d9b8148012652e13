// What only the PostgreSQL store does: its schema_version migrations, daily
// audit partitions and their retention, the locks that stand in for SQLite's
// single writer, URL handling, and its behaviour when the database goes away.
// The behaviour both stores share is the conformance suite's (conformance/).
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <future>
#include <thread>

#include "store/postgres/pg_audit.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_watch.h"
#include "support/pg_cluster.h"
#include "unit/store/store_test_util.h"

namespace verbatim::store {
namespace {

using testing_util::MakeConversation;
using testing_util::T;
using testing_util::TestActor;

// A raw libpq connection for the test to look at or hold things in the database.
class RawConn {
 public:
  explicit RawConn(const std::string& url) : c_(PQconnectdb(url.c_str())) {
    PQsetNoticeProcessor(
        c_, [](void*, const char*) {}, nullptr);
  }
  ~RawConn() { PQfinish(c_); }
  bool ok() const { return PQstatus(c_) == CONNECTION_OK; }
  // First column of the first row; "" when none; "ERROR: …" on failure.
  std::string Query(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    std::string v;
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
      v = std::string("ERROR: ") + PQresultErrorMessage(r);
    } else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
      v = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
    return v;
  }
  int64_t Int(const std::string& sql) {
    const std::string v = Query(sql);
    return v.empty() || v.rfind("ERROR", 0) == 0 ? -1 : std::stoll(v);
  }

 private:
  PGconn* c_;
};

AuditEvent Event(const std::string& ctx, TimePoint at, std::string explanation = R"({"decision":"allow"})") {
  AuditEvent e;
  e.context_id = ctx;
  e.at = at;
  e.actor = TestActor();
  e.decision = "allow";
  e.explanation_json = std::move(explanation);
  return e;
}

TimePoint Day(int64_t day, int64_t ms_into_day = 0) { return FromUnixMillis(day * pg::kDayMs + ms_into_day); }

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VERBATIM_REQUIRE_PG(cluster);
    cluster_ = cluster;
    auto schema = cluster_->CreateSchema("pgs");
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = *schema;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) (void)cluster_->DropSchema(schema_);
  }
  std::string Url() const { return cluster_->SchemaUrl(schema_); }
  PostgresOptions Options() const {
    PostgresOptions o;
    o.url = Url();
    return o;
  }
  std::unique_ptr<PostgresStore> OpenStore(PostgresOptions o) {
    auto s = PostgresStore::Open(o, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::unique_ptr<PostgresStore> OpenStore() { return OpenStore(Options()); }
  std::vector<int64_t> Partitions(PostgresStore& s) {
    auto days = s.AuditPartitionDays();
    EXPECT_TRUE(s.AuditPartitionDays().ok());
    return days.ok() ? *days : std::vector<int64_t>{};
  }

  FakeClock clock_{T(0)};
  testing::PgCluster* cluster_ = nullptr;
  std::string schema_;
  std::unique_ptr<PostgresStore> store_;
};

// ---------------------------------------------------------------- migrations

TEST_F(PostgresStoreTest, RecordsTheSchemaVersionAndRefusesADatabaseFromANewerVersion) {
  RawConn raw(Url());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.Int("SELECT max(version) FROM schema_version"), pg::LatestSchemaVersion());
  store_ = OpenStore();  // reopening at the current version changes nothing
  EXPECT_EQ(raw.Int("SELECT count(*) FROM schema_version"), 1);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM organizations"), 1);

  store_.reset();
  raw.Query("UPDATE schema_version SET version = 999");
  auto s = PostgresStore::Open(Options(), clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ(s.status().code(), "store.version.unsupported");
  EXPECT_EQ(raw.Int("SELECT max(version) FROM schema_version"), 999);  // untouched
}

// A database the previous release left (step 2: no users, no grants) gains
// the users and grants tables on open and keeps what it had.
TEST_F(PostgresStoreTest, UpgradesAStep2DatabaseWithTheUsersTables) {
  ASSERT_TRUE(store_->CreateRole(Role{"r1", "Custom", "", {}, T(1), T(1)}).ok());
  store_.reset();
  RawConn raw(Url());
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw.Query("DROP TABLE media_sessions, nodes"), "");  // step 9
  ASSERT_EQ(raw.Query("ALTER TABLE media_files DROP COLUMN node_id, DROP COLUMN interrupted_at"), "");
  ASSERT_EQ(raw.Query("DROP TABLE webhook_deliveries, webhooks"), "");  // step 8
  ASSERT_EQ(raw.Query("DROP TABLE changes"), "");  // step 7
  ASSERT_EQ(raw.Query("DROP TABLE refresh_tokens, auth_codes"), "");  // step 5
  ASSERT_EQ(raw.Query("DROP TABLE user_roles"), "");
  ASSERT_EQ(raw.Query("DROP TABLE users"), "");
  ASSERT_EQ(raw.Query("ALTER TABLE oauth_clients DROP COLUMN redirect_uris, DROP COLUMN client_type"), "");  // step 4
  ASSERT_EQ(raw.Query("UPDATE schema_version SET version = 2"), "");

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(raw.Int("SELECT max(version) FROM schema_version"), pg::LatestSchemaVersion());
  EXPECT_EQ(raw.Int("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN "
                    "('auth_codes', 'refresh_tokens')"),
            2);
  EXPECT_EQ(store_->GetRole("r1")->name, "Custom");
  User u;
  u.id = "u1";
  u.username = "ada";
  u.role_ids = {"r1"};
  ASSERT_TRUE(store_->CreateUser(u).ok());
  EXPECT_EQ(store_->GetUser("u1")->role_ids, std::vector<std::string>{"r1"});
  EXPECT_EQ(store_->CreateUser(User{.id = "u2", .username = "ADA"}).code(), "user.name.taken");
}

// ---------------------------------------------------------------- audit partitions

TEST_F(PostgresStoreTest, AuditPartitionsExistForTodayAndTwoDaysAhead) {
  const int64_t today = pg::AuditDayOf(clock_.Now());
  EXPECT_EQ(Partitions(*store_), (std::vector<int64_t>{today, today + 1, today + 2}));
  EXPECT_EQ(pg::AuditPartitionName(today), "audit_events_20231114");
  EXPECT_EQ(pg::AuditPartitionDay("audit_events_20231114"), today);
  EXPECT_EQ(pg::AuditPartitionDay("audit_events_2023111"), std::nullopt);
  EXPECT_EQ(pg::AuditPartitionDay("audit_events_20231399"), std::nullopt);

  // The clock moves on: the next write adds the new days ahead.
  clock_.Set(T(3 * pg::kDayMs));
  ASSERT_TRUE(store_->AppendAudit({Event("c1", clock_.Now())}).ok());
  EXPECT_EQ(Partitions(*store_).back(), today + 5);
}

TEST_F(PostgresStoreTest, AnEventOfAnyDayGetsItsPartition) {
  const int64_t today = pg::AuditDayOf(clock_.Now());
  ASSERT_TRUE(store_->AppendAudit({Event("old", Day(today - 10, 5)), Event("new", Day(today, 5))}).ok());
  auto days = Partitions(*store_);
  EXPECT_NE(std::find(days.begin(), days.end(), today - 10), days.end());
  RawConn raw(Url());
  EXPECT_EQ(raw.Int("SELECT count(*) FROM " + pg::AuditPartitionName(today - 10)), 1) << "the row is in its day";
  EXPECT_EQ(store_->GetAudit("old")->at, Day(today - 10, 5));
}

TEST_F(PostgresStoreTest, RetentionDropsWholeDaysAndDeletesRowsOnlyInTheDayItCuts) {
  const int64_t today = pg::AuditDayOf(clock_.Now());
  std::vector<AuditEvent> events;
  for (int d = 5; d >= 3; --d)
    for (int i = 0; i < 4; ++i)
      events.push_back(Event("d" + std::to_string(d) + "-" + std::to_string(i), Day(today - d, i)));
  // Day today-2: two events before noon, two after.
  for (int i = 0; i < 4; ++i)
    events.push_back(Event("cut-" + std::to_string(i), Day(today - 2, i < 2 ? 1000 + i : pg::kDayMs / 2 + i)));
  ASSERT_TRUE(store_->AppendAudit(events).ok());

  auto purged = store_->PurgeAuditBefore(Day(today - 2, pg::kDayMs / 2), 1000);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 3 * 4 + 2);
  auto days = Partitions(*store_);
  EXPECT_EQ(days.front(), today - 2) << "three whole days dropped, the cut one kept";
  RawConn raw(Url());
  EXPECT_EQ(raw.Int("SELECT count(*) FROM pg_class WHERE relname = '" + pg::AuditPartitionName(today - 4) + "'"), 0);
  EXPECT_FALSE(store_->GetAudit("cut-1").ok());
  EXPECT_TRUE(store_->GetAudit("cut-2").ok());
  EXPECT_EQ(*store_->PurgeAuditBefore(Day(today - 2, pg::kDayMs / 2), 1000), 0);
}

// Node A knows a day's partition; node B's retention drops it; A's next
// event of that day still lands (the partition is made again).
TEST_F(PostgresStoreTest, AnotherNodesRetentionDoesNotBreakAppends) {
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  const int64_t old_day = pg::AuditDayOf(clock_.Now()) - 30;
  ASSERT_TRUE(store_->AppendAudit({Event("a1", Day(old_day, 1))}).ok());
  ASSERT_EQ(*other->PurgeAuditBefore(Day(old_day + 1), 1000), 1);
  ASSERT_TRUE(store_->AppendAudit({Event("a2", Day(old_day, 2))}).ok());
  EXPECT_TRUE(store_->GetAudit("a2").ok());
}

// Interning a shared explanation and sweeping the orphans exclude each other
// (kExplanationLock): a sweep waits for a writer that may be about to point
// to an explanation, and a writer waits for a running sweep.
TEST_F(PostgresStoreTest, TheExplanationSweepAndWritersOfLongExplanationsExcludeEachOther) {
  const std::string lock = std::to_string(pg::kExplanationLock);
  const std::string waiting =
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND "
      "((classid::bigint << 32) | objid::bigint) = " +
      lock;
  RawConn holder(Url()), observer(Url());
  ASSERT_TRUE(holder.ok() && observer.ok());
  auto wait_for_waiter = [&] {
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         std::chrono::steady_clock::now() < until;) {
      if (observer.Int(waiting) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
    }
    return false;
  };

  // A "writer" mid-transaction holds the lock shared: the sweep waits for it.
  holder.Query("BEGIN");
  holder.Query("SELECT pg_advisory_xact_lock_shared(" + lock + ")");
  auto sweep = std::async(std::launch::async, [&] { return store_->PurgeAuditBefore(T(-1), 100); });
  EXPECT_TRUE(wait_for_waiter()) << "the sweep did not wait for the writer";
  EXPECT_EQ(sweep.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  holder.Query("COMMIT");
  ASSERT_TRUE(sweep.get().ok());

  // A "sweep" holds it exclusively: a long explanation waits for it.
  holder.Query("BEGIN");
  holder.Query("SELECT pg_advisory_xact_lock(" + lock + ")");
  const std::string text = R"({"fix":[")" + std::string(2000, 'x') + R"("]})";
  auto append = std::async(std::launch::async, [&] { return store_->AppendAudit({Event("long", T(1), text)}); });
  EXPECT_TRUE(wait_for_waiter()) << "the writer did not wait for the sweep";
  holder.Query("COMMIT");
  ASSERT_TRUE(append.get().ok());
  EXPECT_EQ(store_->GetAudit("long")->explanation_json, text);
}

// ---------------------------------------------------------------- values PostgreSQL cannot keep

TEST_F(PostgresStoreTest, TextWithANulIsABadRequestAndAuditReplacesWhatItCannotKeep) {
  OAuthClient c;
  c.id = "c1";
  c.name = std::string("evil\0name", 9);
  c.allowed_grant_types = {"client_credentials"};
  Status s = store_->CreateClient(c);
  EXPECT_EQ(s.code(), "bad.request") << s.ToString();
  EXPECT_EQ(store_->GetClient("c1").status().code(), "client.not.found");

  AuditEvent e = Event("weird", T(1));
  e.path = std::string("/a\0b\xff", 5);
  ASSERT_TRUE(store_->AppendAudit({e}).ok()) << "an audit event is never refused for its content";
  EXPECT_EQ(store_->GetAudit("weird")->path,
            "/a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
}

// ---------------------------------------------------------------- URLs

TEST(PostgresUrl, RedactionHidesEveryPasswordAndKeepsTheRest) {
  EXPECT_EQ(pg::RedactDatabaseUrl("postgresql://vb:s3cret@db.example:5432/verbatim"),
            "postgresql://vb:***@db.example:5432/verbatim");
  EXPECT_EQ(pg::RedactDatabaseUrl("postgresql://vb:p@ss@db/verbatim?sslmode=require&password=two&sslpassword=3"),
            "postgresql://vb:***@db/verbatim?sslmode=require&password=***&sslpassword=***");
  EXPECT_EQ(pg::RedactDatabaseUrl("postgresql://vb@db/verbatim"), "postgresql://vb@db/verbatim");
  EXPECT_EQ(pg::RedactDatabaseUrl("host=db password=x"), "(not a postgresql:// URL)");
}

TEST(PostgresUrl, ABadUrlIsRefusedWithoutRepeatingIt) {
  for (const std::string& url :
       {std::string("mysql://u:topsecret@db/x"), std::string("postgresql://u:top%zzsecret@db/x"),
        std::string("postgresql://db/x?nonsense=topsecret")}) {
    Status s = pg::CheckDatabaseUrl(url);
    EXPECT_EQ(s.code(), "bad.request") << url;
    EXPECT_EQ(s.message().find("topsecret"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("docs/deployment.md"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(pg::CheckDatabaseUrl("postgres://u:pw@127.0.0.1:5432/verbatim?sslmode=disable").ok());
}

// ---------------------------------------------------------------- the database going away

// Every connection of the store killed underneath it (a failover, an
// administrator, a restart between two calls): the next calls succeed on new
// connections; none fails for having had a dead one.
TEST_F(PostgresStoreTest, ConnectionsKilledUnderneathAreReplacedWithoutFailingACall) {
  // Its own application_name (the URL's wins over the store's default), so
  // that only this store's connections are killed, not other tests'.
  PostgresOptions o = Options();
  const std::string app = "verbatim-" + schema_;
  o.url += "&application_name=" + app;
  store_ = OpenStore(o);
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->CreateConversation(MakeConversation("conv")).ok());
  RawConn raw(Url());
  const std::string kill =
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" + app + "'";
  for (int round = 0; round < 3; ++round) {
    ASSERT_GT(raw.Int(kill), 0);
    auto r = store_->GetRecording("conv");  // a read
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GT(raw.Int(kill), 0);
    auto a = store_->ApplyRecordingAction("conv", round % 2 ? RecordingAction::kStop : RecordingAction::kStart,
                                          T(round), TestActor(), "", "ctx");  // a write
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_TRUE(a->changed);
  }
  EXPECT_GE(store_->pool_stats().broken, 6u);
  EXPECT_EQ(store_->GetRecording("conv")->timeline.size(), 3u);
}

// A statement that waits for a row lock longer than statement_timeout is
// refused as store.unavailable: a request thread is never held for long.
TEST_F(PostgresStoreTest, AnActionWaitingTooLongForTheConversationLockIsUnavailableNotAHang) {
  ASSERT_TRUE(store_->CreateConversation(MakeConversation("locked")).ok());
  PostgresOptions o = Options();
  o.statement_timeout = std::chrono::milliseconds(300);
  auto impatient = OpenStore(o);
  ASSERT_NE(impatient, nullptr);
  RawConn holder(Url());
  holder.Query("BEGIN");
  ASSERT_EQ(holder.Query("SELECT id FROM conversations WHERE id = 'locked' FOR UPDATE"), "locked");
  auto r = impatient->ApplyRecordingAction("locked", RecordingAction::kStart, T(1), TestActor(), "", "ctx");
  EXPECT_EQ(r.status().kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(r.status().code(), "store.unavailable");
  EXPECT_NE(r.status().message().find("did not answer in time"), std::string::npos) << r.status().message();
  holder.Query("COMMIT");
  auto again = impatient->ApplyRecordingAction("locked", RecordingAction::kStart, T(2), TestActor(), "", "ctx");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->changed) << "the refused action wrote nothing";
}

// The whole server stopped and started again (its own cluster: the shared
// one serves other tests). While it is down every call fails fast with
// store.unavailable; when it is back the store reconnects by itself and
// every acknowledged write is there.
TEST(PostgresOutage, CallsFailFastWhileTheDatabaseIsDownAndTheStoreRecoversByItself) {
  auto bin = testing::PgCluster::FindBinDir();
  if (!bin) {
    if (testing::PgRequired()) FAIL() << "PostgreSQL is not installed";
    GTEST_SKIP() << "PostgreSQL is not installed";
  }
  auto cluster = testing::PgCluster::Start(*bin);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  auto db = (*cluster)->CreateDatabase("outage");
  ASSERT_TRUE(db.ok());
  FakeClock clock{T(0)};
  PostgresOptions o;
  o.url = (*cluster)->Url(*db);
  o.backoff_first = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(200);
  auto opened = PostgresStore::Open(o, clock);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = *opened;
  ASSERT_TRUE(store->CreateConversation(MakeConversation("c")).ok());
  ASSERT_TRUE(store->ApplyRecordingAction("c", RecordingAction::kStart, T(1), TestActor(), "", "x").ok());

  ASSERT_TRUE((*cluster)->StopServer("immediate").ok());
  const auto down_since = std::chrono::steady_clock::now();
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    Status s = i % 2 ? store->GetRecording("c").status()
                     : store->ApplyRecordingAction("c", RecordingAction::kPause, T(2), TestActor(), "", "y").status();
    EXPECT_EQ(s.code(), "store.unavailable") << s.ToString();
    EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
    refused += s.code() == "store.unavailable";
  }
  EXPECT_EQ(refused, 20);
  // Fast: twenty refusals take far less than one statement timeout (10 s).
  EXPECT_LT(std::chrono::steady_clock::now() - down_since, std::chrono::seconds(5));
  EXPECT_FALSE(store->pool_stats().reachable);

  ASSERT_TRUE((*cluster)->StartServer().ok());
  bool recovered = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
       !recovered && std::chrono::steady_clock::now() < until;) {
    recovered = store->GetRecording("c").ok();
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval
  }
  ASSERT_TRUE(recovered) << "the store did not reconnect";
  EXPECT_TRUE(store->pool_stats().reachable);
  auto r = store->GetRecording("c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, RecordingState::kActive) << "the acknowledged start survived; no refused pause slipped in";
  EXPECT_EQ(r->timeline.size(), 1u);
  ASSERT_TRUE(store->ApplyRecordingAction("c", RecordingAction::kPause, T(3), TestActor(), "", "z").ok());
  store.reset();
}

}  // namespace
}  // namespace verbatim::store

namespace verbatim::store {
namespace {

// What one store's watch heard (pg_watch.h), for the test thread to wait on.
class Heard {
 public:
  ChangeHandler Handler() {
    return [this](const std::vector<Change>& changes) {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& c : changes) changes_.push_back(c);
      cv_.notify_all();
    };
  }
  // Waits (up to 10 s) until a change matching `want` arrived after the first
  // `after` ones; returns its index, or -1.
  int WaitFor(const std::function<bool(const Change&)>& want, size_t after = 0) {
    std::unique_lock<std::mutex> l(mu_);
    int found = -1;
    cv_.wait_for(l, std::chrono::seconds(10), [&] {
      for (size_t i = after; i < changes_.size(); ++i)
        if (want(changes_[i])) return (found = static_cast<int>(i)) >= 0;
      return false;
    });
    return found;
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu_);
    return changes_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Change> changes_;
};

bool Is(const Change& c, ChangeTopic t, const std::string& id = "") { return c.topic == t && c.id == id; }

// Two nodes on one database: what one commits, the other's watch hears,
// after a first resync; a broken listening connection comes back with a resync.
TEST_F(PostgresStoreTest, AnotherNodesCommitsReachTheWatch) {
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  Heard heard;
  auto watch = store_->WatchChanges(heard.Handler());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  ASSERT_NE(*watch, nullptr);
  ASSERT_EQ(heard.WaitFor([](const Change& c) { return Is(c, ChangeTopic::kResync); }), 0) << "a resync first";

  ASSERT_TRUE(other->CreateConversation(MakeConversation("conv-heard")).ok());
  EXPECT_GE(heard.WaitFor([](const Change& c) { return Is(c, ChangeTopic::kConversation, "conv-heard"); }), 1);
  ASSERT_TRUE(other->CreateRole(Role{"r-heard", "Heard", "", {}, T(1), T(1)}).ok());
  EXPECT_GE(heard.WaitFor([](const Change& c) { return Is(c, ChangeTopic::kDirectory); }), 1);
  ASSERT_TRUE(other->RevokeToken({"jti-heard", T(1'000'000'000)}).ok());
  EXPECT_GE(heard.WaitFor([](const Change& c) { return Is(c, ChangeTopic::kRevocations); }), 1);

  // The database drops the listening connection (a failover, an admin's kill):
  // the watch reconnects, says resync, and hears commits again.
  RawConn raw(Url());
  ASSERT_TRUE(raw.ok());
  const size_t before = heard.size();
  ASSERT_EQ(raw.Query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %" +
                      std::string("verbatim_changes.") + schema_ + "%'"),
            "1");
  ASSERT_GE(heard.WaitFor([](const Change& c) { return Is(c, ChangeTopic::kResync); }, before), 0);
  ASSERT_TRUE(other->CreateConversation(MakeConversation("conv-after")).ok());
  EXPECT_GE(heard.WaitFor([](const Change& c) { return Is(c, ChangeTopic::kConversation, "conv-after"); }, before), 0);
}

TEST(PgChangePayload, NamesATopicOrAConversation) {
  EXPECT_TRUE(Is(*pg::ParseChangePayload("directory"), ChangeTopic::kDirectory));
  EXPECT_TRUE(Is(*pg::ParseChangePayload("keys"), ChangeTopic::kKeys));
  EXPECT_TRUE(Is(*pg::ParseChangePayload("conversation:abc"), ChangeTopic::kConversation, "abc"));
  EXPECT_FALSE(pg::ParseChangePayload("conversation:").has_value());
  EXPECT_FALSE(pg::ParseChangePayload("Directory").has_value());
  EXPECT_FALSE(pg::ParseChangePayload("").has_value());
}

}  // namespace
}  // namespace verbatim::store
