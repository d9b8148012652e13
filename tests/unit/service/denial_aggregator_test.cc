#include "service/denial_aggregator.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json.h"

namespace verbatim::service {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = FromUnixSeconds(1'800'000'000);

store::AuditEvent Denial(int n, std::string code = "token.missing", TimePoint at = kT0) {
  store::AuditEvent e;
  e.context_id = "ctx-" + std::to_string(n);
  e.at = at;
  e.path = "/p/" + std::to_string(n);
  e.decision = "deny";
  e.layer = "token";
  e.code = std::move(code);
  e.explanation_json = R"({"decision":"deny","fix":["get a token"],"status":401})";
  return e;
}

json::object AggregateOf(const store::AuditEvent& e) {
  auto expl = ParseJsonObject(e.explanation_json);
  EXPECT_TRUE(expl.ok());
  EXPECT_EQ(expl->at("fix").as_array().size(), 1u) << "the sample's explanation is kept";
  return expl->at("aggregate").as_object();
}

TEST(DenialAggregator, RecordsTheFirstDenialsOfAKeyThenFoldsTheRestIntoTheFirstFolded) {
  DenialAggregator agg({seconds(60), 2, 100});
  EXPECT_TRUE(agg.Offer(Denial(1), "a").has_value());
  EXPECT_TRUE(agg.Offer(Denial(2), "a").has_value());
  EXPECT_FALSE(agg.Offer(Denial(3), "a").has_value());
  EXPECT_FALSE(agg.Offer(Denial(4, "token.missing", kT0 + seconds(5)), "a").has_value());
  EXPECT_TRUE(agg.Offer(Denial(5, "token.malformed"), "a").has_value()) << "another code is another key";
  EXPECT_TRUE(agg.Offer(Denial(6), "b").has_value()) << "another address is another key";
  EXPECT_EQ(agg.keys(), 3u);
  EXPECT_TRUE(agg.Close(kT0 + seconds(59), false).empty()) << "the interval has not ended";

  auto out = agg.Close(kT0 + seconds(60), false);
  ASSERT_EQ(out.size(), 1u) << "only key (a, token.missing) folded anything";
  EXPECT_EQ(out[0].context_id, "ctx-3") << "the first folded denial is the sample";
  EXPECT_EQ(out[0].path, "/p/3");
  auto a = AggregateOf(out[0]);
  EXPECT_EQ(a.at("count").as_int64(), 2);
  EXPECT_EQ(a.at("address").as_string(), "a");
  EXPECT_EQ(a.at("codes").as_object().at("token.missing").as_int64(), 2);
  EXPECT_EQ(a.at("firstAt").as_string(), FormatRfc3339(kT0));
  EXPECT_EQ(a.at("lastAt").as_string(), FormatRfc3339(kT0 + seconds(5)));
  EXPECT_EQ(agg.folded_total(), 2u);

  // A new interval starts with a fresh allowance.
  EXPECT_EQ(agg.keys(), 0u);
  EXPECT_FALSE(agg.deadline().has_value());
  EXPECT_TRUE(agg.Offer(Denial(7, "token.missing", kT0 + seconds(61)), "a").has_value());
  EXPECT_EQ(agg.deadline(), kT0 + seconds(121));
}

TEST(DenialAggregator, KeysBeyondTheCapShareOneOverflowEvent) {
  DenialAggregator agg({seconds(60), 1, 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(agg.Offer(Denial(i), "addr" + std::to_string(i)).has_value());
  for (int i = 3; i < 10; ++i) {
    auto e = Denial(i, i % 2 ? "token.missing" : "token.signature");
    EXPECT_FALSE(agg.Offer(std::move(e), "addr" + std::to_string(i)).has_value()) << "no own event past the key cap";
  }
  EXPECT_EQ(agg.keys(), 3u) << "memory stays bounded";
  auto out = agg.Close(kT0, true);
  ASSERT_EQ(out.size(), 1u);
  auto a = AggregateOf(out[0]);
  EXPECT_TRUE(a.at("address").is_null());
  EXPECT_EQ(a.at("count").as_int64(), 7);
  EXPECT_EQ(a.at("codes").as_object().at("token.missing").as_int64(), 4);
  EXPECT_EQ(a.at("codes").as_object().at("token.signature").as_int64(), 3);
}

TEST(DenialAggregator, ForcedCloseEmitsAPartialInterval) {
  DenialAggregator agg({seconds(60), 0, 10});
  EXPECT_FALSE(agg.Offer(Denial(1), "a").has_value());
  auto out = agg.Close(kT0 + seconds(1), true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(AggregateOf(out[0]).at("count").as_int64(), 1);
  EXPECT_TRUE(agg.Close(kT0 + seconds(600), true).empty()) << "nothing twice";
}

}  // namespace
}  // namespace verbatim::service
