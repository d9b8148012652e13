// Unauthenticated denials cannot flood the audit log (docs/decisions.md
// "Unauthenticated denials are aggregated"), and no audit event keeps an
// unbounded path.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <string>
#include <vector>

#include "transports/http/views.h"
#include "core/ids.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

int64_t CountRows(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t out = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

std::string ContextId(const HttpResponse& res) { return std::string(res["X-Context-Id"]); }

// The App's defaults (api/denial_aggregator.h).
const int kOwn = service::DenialAggregatorOptions{}.individual_per_key;
const int kMaxKeys = static_cast<int>(service::DenialAggregatorOptions{}.max_keys);

TEST(AuditAggregation, AnUnauthenticatedFloodCostsAFewRowsPerAddressAndCode) {
  TestApp t(SystemClock::Instance(), [](AppConfig& cfg) { cfg.limits.auth_failures_per_ip = 0; });  // no 429s here
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  struct Flood {
    std::string address, token, code;
    int requests;
  };
  const std::vector<Flood> floods = {
      {"198.51.100.7", "", "token.missing", 500},
      {"198.51.100.7", "garbage", "token.malformed", 200},
      {"2001:db8:1:2::1", "", "token.missing", 50},
      {"2001:db8:1:2::99", "", "token.missing", 50},  // the same /64
      {"203.0.113.9", "", "token.missing", kOwn - 1},  // below the individual allowance
  };
  std::map<std::string, std::vector<std::string>> ids;  // key → context ids in order
  for (const auto& f : floods) {
    for (int i = 0; i < f.requests; ++i) {
      auto res = t.CallFrom(f.address, "GET", "/api/v2/conversations", f.token);
      ASSERT_EQ(res.result_int(), 401) << res.body();
      ids[f.address.substr(0, 11) + f.code].push_back(ContextId(res));
    }
  }
  ASSERT_TRUE(t.app().audit().Flush());

  // Per key: the first kOwn as they are, the rest as one event.
  const int64_t rows = CountRows(t.dir() / "verbatim.db", "SELECT count(*) FROM audit_events");
  EXPECT_EQ(rows, 3 * (kOwn + 1) + (kOwn - 1)) << "four keys, one below the allowance";

  auto admin = t.CreateAdmin();
  const std::string token = t.Token(admin.id, {"audit:read"});
  auto check = [&](const std::string& key, int64_t count, const std::string& address, const std::string& code) {
    const auto& seen = ids[key];
    // The first kOwn are findable by their own contextId, with no aggregate.
    for (int i = 0; i < kOwn; ++i) {
      auto own = t.Call("GET", "/api/v2/audit/events/" + seen[i], token);
      ASSERT_EQ(own.result_int(), 200) << key << " " << i << ": " << own.body();
      EXPECT_TRUE(TestApp::Body(own).at("aggregate").is_null());
    }
    // The next is the sample of the aggregate: the rest have no row.
    auto res = t.Call("GET", "/api/v2/audit/events/" + seen[kOwn], token);
    ASSERT_EQ(res.result_int(), 200) << key << ": " << res.body();
    const json::object ev = TestApp::Body(res).as_object();
    EXPECT_EQ(ev.at("code").as_string(), code);
    EXPECT_EQ(ev.at("decision").as_string(), "deny");
    EXPECT_EQ(ev.at("layer").as_string(), "token");
    EXPECT_EQ(ev.at("path").as_string(), "/api/v2/conversations");
    EXPECT_FALSE(ev.at("explanation").as_object().contains("aggregate")) << "shown beside the explanation, not in it";
    const auto& agg = ev.at("aggregate").as_object();
    EXPECT_EQ(agg.at("count").as_int64(), count) << key;
    EXPECT_EQ(agg.at("address").as_string(), address);
    EXPECT_EQ(agg.at("codes").as_object().at(code).as_int64(), count);
    EXPECT_LE(agg.at("firstAt").as_string(), agg.at("lastAt").as_string());
    EXPECT_EQ(agg.at("firstAt").as_string(), ev.at("at").as_string());
    EXPECT_EQ(agg.at("intervalSeconds").as_int64(), 60);
    for (size_t i = kOwn + 1; i < seen.size(); i += 37)
      EXPECT_EQ(t.Call("GET", "/api/v2/audit/events/" + seen[i], token).result_int(), 404) << "folded: no row";
  };
  check("198.51.100.token.missing", 500 - kOwn, "198.51.100.7", "token.missing");
  check("198.51.100.token.malformed", 200 - kOwn, "198.51.100.7", "token.malformed");
  // Both IPv6 addresses share their /64's aggregate.
  const auto& v6a = ids["2001:db8:1:token.missing"];
  ASSERT_EQ(v6a.size(), 100u);
  check("2001:db8:1:token.missing", 100 - kOwn, "2001:db8:1:2::/64", "token.missing");

  // The list shows aggregates like any event; a filter on denials finds them.
  auto list = t.Call("GET", "/api/v2/audit/events?decision=deny&pageSize=200", token);
  ASSERT_EQ(list.result_int(), 200);
  int aggregates = 0;
  const json::value listed = TestApp::Body(list);
  for (const auto& e : listed.at("entities").as_array())
    if (!e.as_object().at("aggregate").is_null()) ++aggregates;
  EXPECT_EQ(aggregates, 3);
}

TEST(AuditAggregation, DistinctKeysPerIntervalAreCappedByAnOverflowEvent) {
  TestApp t(SystemClock::Instance(), [](AppConfig& cfg) { cfg.limits.auth_failures_per_ip = 0; });
  ASSERT_TRUE(t.ok());
  // kMaxKeys keys per interval, then one overflow event.
  const int requests = kMaxKeys + 76;
  for (int i = 0; i < requests; ++i) {
    const std::string address = "10.9." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    ASSERT_EQ(t.CallFrom(address, "GET", "/api/v2/conversations").result_int(), 401);
  }
  ASSERT_TRUE(t.app().audit().Flush());
  EXPECT_EQ(CountRows(t.dir() / "verbatim.db", "SELECT count(*) FROM audit_events"), kMaxKeys + 1);
  auto admin = t.CreateAdmin();
  auto page = t.Call("GET", "/api/v2/audit/events?decision=deny&pageSize=200", t.Token(admin.id, {"audit:read"}));
  ASSERT_EQ(page.result_int(), 200);
  bool found = false;
  const json::value listed = TestApp::Body(page);
  for (const auto& e : listed.at("entities").as_array()) {
    const auto& agg = e.as_object().at("aggregate");
    if (agg.is_null()) continue;
    found = true;
    EXPECT_TRUE(agg.as_object().at("address").is_null()) << "the overflow bucket has no single address";
    EXPECT_EQ(agg.as_object().at("count").as_int64(), requests - kMaxKeys);
  }
  EXPECT_TRUE(found) << page.body();
}

TEST(AuditAggregation, AnEightKilobytePathIsStoredTruncated) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  auto admin = t.CreateAdmin();
  const std::string token = t.Token(admin.id, {"conversation:read", "audit:read"});
  const std::string prefix = "/api/v2/conversations/";
  const std::string path = prefix + std::string(8192 - prefix.size(), 'x');
  auto authed = t.Call("GET", path, token);
  ASSERT_EQ(authed.result_int(), 400) << "not a UUID";
  auto anonymous = t.Call("GET", path);
  ASSERT_EQ(anonymous.result_int(), 401);
  ASSERT_TRUE(t.app().audit().Flush());
  for (const auto& res : {authed, anonymous}) {
    auto e = t.store().GetAudit(ContextId(res));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_LE(e->path.size(), service::kAuditPathMaxBytes + 32) << "stored path of " << e->path.size() << " bytes";
    EXPECT_EQ(e->path.rfind(prefix, 0), 0u) << "the start is kept";
    const std::string marker = "\u2026[truncated, 8192 bytes]";
    ASSERT_GE(e->path.size(), marker.size());
    EXPECT_EQ(e->path.substr(e->path.size() - marker.size()), marker) << e->path.substr(0, 80);
  }
}

TEST(AuditAggregation, TruncationKeepsWholeUtf8Characters) {
  const std::string s = "ab\xC3\xA9" "cd";  // "abécd"; é is two bytes
  EXPECT_EQ(service::TruncateForAudit(s, 16), s);
  EXPECT_EQ(service::TruncateForAudit(s, 3), "ab\u2026[truncated, 6 bytes]") << "é is not cut in half";
  EXPECT_EQ(service::TruncateForAudit(s, 4), "ab\xC3\xA9\u2026[truncated, 6 bytes]");
}

// A sample refused before authorization (an AudioHook upgrade over capacity)
// has no explanation of its own: the aggregate is shown, the explanation is null.
TEST(AuditAggregation, AnAggregateWithoutAnExplanationShowsNull) {
  service::DenialAggregator agg({std::chrono::seconds(60), 0, 8});
  store::AuditEvent e;
  e.context_id = NewContextId();
  e.decision = "deny";
  e.code = "media.capacity";
  ASSERT_FALSE(agg.Offer(e, "192.0.2.1").has_value());
  auto out = agg.Close(SystemClock::Instance().Now(), true);
  ASSERT_EQ(out.size(), 1u);
  json::object view = AuditEventJson(out[0]);
  EXPECT_TRUE(view.at("explanation").is_null());
  EXPECT_EQ(view.at("aggregate").as_object().at("count").as_int64(), 1);
}

}  // namespace
}  // namespace verbatim::api
