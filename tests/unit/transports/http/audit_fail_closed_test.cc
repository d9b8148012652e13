// The audit trail fails closed (docs/decisions.md "Audit fails closed"):
// while the writer cannot commit, or too many events wait, every protected
// request is refused with 503 audit.unavailable before anything is done,
// /readyz says so, the metrics show it, and once the store heals every event
// of every request that was answered is in the store. State transitions
// commit their event in their own transaction, so they fail closed by
// construction: pinned against a real SQLite failure.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "oauth/form.h"
#include "oauth/pkce.h"
#include "unit/transports/http/faulty_store.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::FaultyStore;
using testing_util::TestApp;

// Polls `done` until it holds or `deadline` passes.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The value of an unlabelled series in the Prometheus text, or -1 if absent.
double MetricValue(const std::string& text, const std::string& name) {
  size_t pos = 0;
  while ((pos = text.find(name + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::stod(text.substr(pos + name.size() + 1));
    pos += name.size();
  }
  return -1;
}

std::string ContextId(const HttpResponse& res) { return std::string(res["X-Context-Id"]); }

// A TestApp whose store is wrapped in a FaultyStore.
struct FaultyApp {
  explicit FaultyApp(const std::function<void(AppConfig&)>& configure = nullptr)
      : t(SystemClock::Instance(), configure, [this](std::unique_ptr<store::Store> inner) {
          auto wrapped = std::make_unique<FaultyStore>(std::move(inner));
          faulty = wrapped.get();
          return wrapped;
        }) {
    t.app().SetReady(true);
  }
  FaultyStore* faulty = nullptr;
  TestApp t;
};

// Registers a public client and a user, then posts the sign-in form with the
// right password and the form's own CSRF cookie (docs/users.md "Sign-in").
HttpResponse SignInWithTheRightPassword(TestApp& t) {
  store::OAuthClient c;
  c.id = NewUuid();
  c.name = "console";
  c.client_type = "public";
  c.allowed_scopes = {"recording:read"};
  c.allowed_grant_types = {"authorization_code"};
  c.redirect_uris = {"http://127.0.0.1:3000/cb"};
  EXPECT_TRUE(t.app().directory().CreateClient(c).ok());
  t.CreateUser("alice", {}, "correct horse battery");
  const std::string q = "response_type=code&client_id=" + c.id + "&redirect_uri=" +
                        oauth::PercentEncode(c.redirect_uris[0]) + "&code_challenge=" +
                        oauth::S256Challenge(std::string(43, 'v')) + "&code_challenge_method=S256";
  return t.Call("POST", "/oauth/authorize", "", q + "&csrf=c1&username=alice&password=correct+horse+battery",
                {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", "verbatim_signin_csrf=c1"}});
}

void ExpectAuditUnavailable(const HttpResponse& res, const std::string& reason, const std::string& where) {
  ASSERT_EQ(res.result_int(), 503) << where << ": " << res.body();
  const std::string retry_after(res[http::field::retry_after]);
  EXPECT_FALSE(retry_after.empty()) << where;
  auto body = TestApp::Body(res);
  ASSERT_TRUE(body.is_object()) << where;
  const auto& o = body.as_object();
  EXPECT_EQ(o.at("code").as_string(), "audit.unavailable") << where;
  EXPECT_EQ(o.at("status").as_int64(), 503) << where;
  EXPECT_EQ(o.at("contextId").as_string(), ContextId(res)) << where;
  EXPECT_EQ(o.at("messageParams").as_object().at("retryAfterSeconds").as_string(), retry_after) << where;
  const auto& expl = o.at("explanation").as_object();
  EXPECT_EQ(expl.at("decision").as_string(), "unavailable") << where;
  EXPECT_EQ(expl.at("reason").as_string(), reason) << where;
  ASSERT_EQ(expl.at("layers").as_array().size(), 4u) << where;
  for (const auto& l : expl.at("layers").as_array())
    EXPECT_EQ(l.as_object().at("result").as_string(), "not-evaluated") << where << ": nothing was evaluated";
  EXPECT_FALSE(expl.at("fix").as_array().empty()) << where;
}

TEST(AuditFailClosed, StoreFailureRefusesProtectedRequestsAndLosesNothingAnswered) {
  FaultyApp f;
  ASSERT_TRUE(f.t.ok()) << f.t.status().ToString();
  TestApp& t = f.t;
  auto admin = t.CreateAdmin();
  const std::string token = t.Token(admin.id, {"admin", "audit:read", "conversation:read", "conversation:write"});

  std::vector<std::string> answered;  // context ids of requests answered 2xx
  for (int i = 0; i < 5; ++i) {
    auto res = t.Call("GET", "/api/v2/tokens/me", token);
    ASSERT_EQ(res.result_int(), 200);
    answered.push_back(ContextId(res));
  }
  const size_t conversations_before = t.store().ListConversations({}).value().size();
  ASSERT_TRUE(t.app().audit().Flush());  // the writer is idle and has seen no failure

  // The disk fills. Reads are answered before their event commits, so some
  // are answered until the writer's next batch fails; from then on, refusals.
  f.faulty->FailAudit(true);
  HttpResponse refused;
  ASSERT_TRUE(WaitUntil([&] {
    auto res = t.Call("GET", "/api/v2/tokens/me", token);
    if (res.result_int() == 200) answered.push_back(ContextId(res));
    if (res.result_int() != 503) return false;
    refused = std::move(res);
    return true;
  })) << "protected requests were never refused while the audit store failed";
  ExpectAuditUnavailable(refused, "audit-write-failing", "GET /api/v2/tokens/me");

  // Refused before the action: nothing is created.
  auto create = t.Call("POST", "/api/v2/conversations", token, "{}");
  ExpectAuditUnavailable(create, "audit-write-failing", "POST /api/v2/conversations");
  // Every protected request, authenticated or not; public ones still answer.
  ExpectAuditUnavailable(t.Call("GET", "/api/v2/conversations"), "audit-write-failing", "no token");
  EXPECT_EQ(t.Call("GET", "/healthz").result_int(), 200);
  ExpectAuditUnavailable(t.Call("GET", "/readyz"), "audit-write-failing", "GET /readyz");
  // A sign-in is public, but what it grants must be recorded: no code is issued.
  auto sign_in = SignInWithTheRightPassword(t);
  EXPECT_EQ(sign_in.result_int(), 503) << sign_in.body();
  EXPECT_NE(sign_in.body().find("audit log cannot record"), std::string::npos) << sign_in.body();
  EXPECT_TRUE(sign_in[http::field::location].empty()) << "a code was issued without an audit event";

  const std::string metrics = t.app().metrics().Render();  // the metrics listener's text: on the API port /metrics is audited too
  EXPECT_EQ(MetricValue(metrics, "verbatim_audit_available"), 0) << metrics;
  EXPECT_GE(MetricValue(metrics, "verbatim_audit_write_errors_total"), 1) << metrics;
  EXPECT_GE(MetricValue(metrics, "verbatim_audit_queued_events"), 1) << metrics;
  EXPECT_GE(f.faulty->failed_appends(), 1u);

  // The store heals: the kept batch is retried, and the server is ready again.
  f.faulty->FailAudit(false);
  ASSERT_TRUE(WaitUntil([&] { return t.Call("GET", "/readyz").result_int() == 200; }))
      << "the audit log did not recover after the store healed";
  ASSERT_TRUE(t.app().audit().Flush());
  for (const auto& id : answered) EXPECT_TRUE(t.store().GetAudit(id).ok()) << "answered request " << id << " lost";
  EXPECT_GT(answered.size(), 5u) << "the request that met the failure (the writer was idle) was answered";
  EXPECT_FALSE(t.store().GetAudit(ContextId(refused)).ok()) << "a refused request did nothing and records nothing";
  EXPECT_EQ(t.store().ListConversations({}).value().size(), conversations_before) << "the refused POST created nothing";
  const std::string after = t.app().metrics().Render();
  EXPECT_EQ(MetricValue(after, "verbatim_audit_available"), 1) << after;
  EXPECT_EQ(MetricValue(after, "verbatim_audit_queued_events"), 0) << after;
  EXPECT_EQ(t.Call("GET", "/api/v2/tokens/me", token).result_int(), 200);
}

TEST(AuditFailClosed, AFullQueueRefusesUntilTheWriterCatchesUp) {
  FaultyApp f([](AppConfig& cfg) { cfg.audit_max_queued = 4; });
  ASSERT_TRUE(f.t.ok()) << f.t.status().ToString();
  TestApp& t = f.t;
  auto admin = t.CreateAdmin();
  const std::string token = t.Token(admin.id, {"audit:read"});

  f.faulty->CloseGate();  // a slow disk: the writer's commit does not return
  std::vector<std::string> answered;
  for (int i = 0; i < 4; ++i) {
    auto res = t.Call("GET", "/api/v2/tokens/me", token);
    ASSERT_EQ(res.result_int(), 200) << "request " << i << " fits in the queue";
    answered.push_back(ContextId(res));
  }
  ExpectAuditUnavailable(t.Call("GET", "/api/v2/tokens/me", token), "audit-queue-full", "fifth request");
  ExpectAuditUnavailable(t.Call("GET", "/readyz"), "audit-queue-full", "GET /readyz");
  EXPECT_EQ(t.app().audit().queued(), 4u) << "refused requests add nothing to the queue";

  f.faulty->OpenGate();
  ASSERT_TRUE(WaitUntil([&] { return t.Call("GET", "/readyz").result_int() == 200; }));
  ASSERT_TRUE(t.app().audit().Flush());
  for (const auto& id : answered) EXPECT_TRUE(t.store().GetAudit(id).ok()) << id;
  EXPECT_EQ(t.Call("GET", "/api/v2/tokens/me", token).result_int(), 200);
}

// Runs `sql` on the database file through a connection of its own.
void ExecSql(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// A transition commits its audit event in its own transaction: when that
// insert fails, the transition does not happen and is not acknowledged.
TEST(AuditFailClosed, ATransitionWhoseAuditEventCannotBeWrittenDoesNotHappen) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  t.app().SetReady(true);
  auto admin = t.CreateAdmin();
  const std::string token = t.Token(admin.id, {"conversation:write", "recording:control", "recording:read"});
  auto created = t.Call("POST", "/api/v2/conversations", token, "{}");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  const std::string id(TestApp::Body(created).as_object().at("id").as_string());
  ASSERT_TRUE(t.app().audit().Flush());  // the writer is idle: it has not seen any failure

  // A real SQLite failure on every audit insert (as a full disk would fail them).
  const auto db = t.dir() / "verbatim.db";
  ExecSql(db, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
              "BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END;");
  auto start = t.Call("POST", "/api/v2/recordings/conversations/" + id + "/actions/start", token);
  EXPECT_EQ(start.result_int(), 500) << start.body();
  auto rec = t.store().GetRecording(id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state, RecordingState::kNone) << "the transition rolled back with its audit event";
  EXPECT_TRUE(rec->segments.empty());

  // The failed request's own event (a 500) is queued; the writer now fails
  // too, so the next protected request is refused.
  ASSERT_TRUE(WaitUntil([&] { return t.Call("GET", "/readyz").result_int() == 503; }));
  ExpectAuditUnavailable(t.Call("POST", "/api/v2/recordings/conversations/" + id + "/actions/start", token),
                         "audit-write-failing", "start while the audit store fails");

  ExecSql(db, "DROP TRIGGER refuse_audit;");
  ASSERT_TRUE(WaitUntil([&] { return t.Call("GET", "/readyz").result_int() == 200; }));
  ASSERT_TRUE(t.app().audit().Flush());
  auto event = t.store().GetAudit(ContextId(start));
  ASSERT_TRUE(event.ok()) << "the 500 is audited once the store heals";
  EXPECT_EQ(event->status, 500);
  auto again = t.Call("POST", "/api/v2/recordings/conversations/" + id + "/actions/start", token);
  EXPECT_EQ(again.result_int(), 200) << again.body();
  EXPECT_TRUE(t.store().GetAudit(ContextId(again)).ok()) << "committed with the transition";
}

// Stop() with a store that keeps failing gives up after its grace period
// instead of hanging the shutdown (and logs how many events it lost).
TEST(AuditFailClosed, StopGivesUpOnAStoreThatNeverHeals) {
  FaultyStore store(nullptr);  // AppendAudit fails before it would reach the inner store
  store.FailAudit(true);
  service::AuditLogOptions opts;
  opts.retry_first = std::chrono::milliseconds(1);
  opts.retry_max = std::chrono::milliseconds(5);
  opts.stop_grace = std::chrono::seconds(0);
  service::AuditLog log(store, SystemClock::Instance(), opts);
  store::AuditEvent e;
  e.context_id = NewContextId();
  log.Record(e);
  ASSERT_TRUE(WaitUntil([&] { return !log.available(); }));
  EXPECT_FALSE(log.Flush(std::chrono::milliseconds(50))) << "nothing was committed";
  EXPECT_TRUE(log.health().writer_failing);
  EXPECT_GE(log.health().retry_after.count(), 1);
  log.Stop();
  EXPECT_GE(log.write_errors(), 1u);
  EXPECT_GE(store.failed_appends(), 1u);
}

}  // namespace
}  // namespace verbatim::api
