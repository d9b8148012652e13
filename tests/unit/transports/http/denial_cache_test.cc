// DenialCache: a repeated denial is served from the cache byte-identical to a
// fresh render (apart from its contextId), in the response and in the audit
// row, and a role change is seen by the very next request.
#include "transports/http/denial_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "core/ids.h"
#include "core/json.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

std::string WithoutContextId(std::string body, const std::string& context_id) {
  const size_t at = body.find(context_id);
  EXPECT_NE(at, std::string::npos) << body;
  if (at != std::string::npos) body.erase(at, context_id.size());
  return body;
}

std::string ContextIdOf(const HttpResponse& res) { return std::string(res.at("X-Context-Id")); }

TEST(DenialCache, RepeatedDenialIsIdenticalApartFromTheContextIdInBodyAndAudit) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto client = t.CreateClient("no-view", {"recording:read"}, {"Conversation Control"});
  const std::string token = t.Token(client.id, {"recording:read"});
  const std::string path = "/api/v2/recordings/conversations/" + NewUuid();

  auto first = t.Call("GET", path, token);
  auto second = t.Call("GET", path, token);
  ASSERT_EQ(first.result_int(), 403u) << first.body();
  ASSERT_EQ(second.result_int(), 403u) << second.body();
  const std::string id1 = ContextIdOf(first), id2 = ContextIdOf(second);
  EXPECT_NE(id1, id2);
  auto body2 = ParseJsonStrict(second.body());
  ASSERT_TRUE(body2.ok()) << second.body();
  EXPECT_EQ(body2->at("contextId").as_string(), id2);
  EXPECT_EQ(body2->at("code").as_string(), "missing.permission");
  EXPECT_EQ(WithoutContextId(first.body(), id1), WithoutContextId(second.body(), id2));
  EXPECT_EQ(first[http::field::content_type], second[http::field::content_type]);
  EXPECT_EQ(first[http::field::cache_control], second[http::field::cache_control]);

  t.app().audit().Flush();
  auto a1 = t.store().GetAudit(id1);
  auto a2 = t.store().GetAudit(id2);
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ(a1->decision, "deny");
  EXPECT_EQ(a2->decision, "deny");
  EXPECT_EQ(a2->code, "missing.permission");
  EXPECT_EQ(a2->layer, "permission");
  EXPECT_EQ(a1->explanation_json, a2->explanation_json);
  EXPECT_NE(a2->explanation_json.find("\"fix\""), std::string::npos) << "denials keep the whole explanation";
}

TEST(DenialCache, MissingScopeKeepsItsWwwAuthenticateHeader) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto client = t.CreateClient("writer", {"recording:write"}, {"Recording Controller"});
  const std::string token = t.Token(client.id, {"recording:write"});
  const std::string path = "/api/v2/recordings/conversations/" + NewUuid() + "/actions/start";
  auto first = t.Call("POST", path, token);
  auto second = t.Call("POST", path, token);
  ASSERT_EQ(second.result_int(), 403u) << second.body();
  EXPECT_EQ(first[http::field::www_authenticate], second[http::field::www_authenticate]);
  EXPECT_NE(second[http::field::www_authenticate].find("scope=\"recording:control\""), std::string::npos);
}

TEST(DenialCache, RoleChangeAppliesToTheNextRequest) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto created = t.CreateClient("late-viewer", {"recording:read"}, {"Conversation Control"});
  const std::string token = t.Token(created.id, {"recording:read"});
  const std::string path = "/api/v2/recordings/conversations/" + NewUuid();
  ASSERT_EQ(t.Call("GET", path, token).result_int(), 403u);
  ASSERT_EQ(t.Call("GET", path, token).result_int(), 403u);  // now cached

  auto client = t.app().directory().FindClient(created.id);
  ASSERT_TRUE(client.has_value());
  auto viewer = t.app().directory().FindRoleByName("Recording Viewer");
  ASSERT_TRUE(viewer.has_value());
  client->role_ids.push_back(viewer->id);
  ASSERT_TRUE(t.app().directory().UpdateClient(*client).ok());

  auto after = t.Call("GET", path, token);
  EXPECT_EQ(after.result_int(), 404u) << "authorized now, and the conversation does not exist: " << after.body();
}

// A path that quotes the placeholder must not confuse the split.
TEST(DenialCache, ResourceQuotingThePlaceholderStillRendersValidJson) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto client = t.CreateClient("no-view", {"recording:read"}, {"Conversation Control"});
  const std::string token = t.Token(client.id, {"recording:read"});
  const std::string path =
      "/api/v2/recordings/conversations/%22contextId%22:%22" + std::string(DenialCache::kPlaceholderContextId) + "%22";
  for (int i = 0; i < 2; ++i) {
    auto res = t.Call("GET", path, token);
    ASSERT_EQ(res.result_int(), 403u) << res.body();
    auto body = ParseJsonStrict(res.body());
    ASSERT_TRUE(body.ok()) << res.body();
    EXPECT_EQ(body->at("contextId").as_string(), ContextIdOf(res));
  }
}

TEST(DenialCache, RenderEqualsAFreshDecisionResponse) {
  authz::Decision d;
  d.status = 403;
  d.code = "missing.scope";
  d.message = "The access token lacks scope 'recording:control' \"quoted\".";
  d.message_template = "The access token lacks scope '{scope}'.";
  d.params = {{"scope", "recording:control"}};
  d.action = "recording:recording:start";
  d.resource = "conversation/\"contextId\":\"" + std::string(DenialCache::kPlaceholderContextId) + "\"";
  d.fix = {"Request scope recording:control."};
  d.insufficient_scopes = {"recording:control"};
  auto entry = DenialCache::Make(d, authz::Principal{}, DecisionResponse(d, DenialCache::kPlaceholderContextId), "{}");
  ASSERT_NE(entry, nullptr);
  const std::string ctx = NewUuid();
  HttpResponse fresh = DecisionResponse(d, ctx);
  HttpResponse cached = DenialCache::Render(*entry, ctx);
  EXPECT_EQ(fresh.body(), cached.body());
  EXPECT_EQ(fresh.result_int(), cached.result_int());
  EXPECT_EQ(fresh[http::field::www_authenticate], cached[http::field::www_authenticate]);
  EXPECT_EQ(fresh[http::field::content_type], cached[http::field::content_type]);
}

TEST(DenialCache, IsBoundedAndKeysNeedAJti) {
  DenialCache cache(2);
  authz::TokenCheck token;
  token.jti = "j1";
  auto entry = std::make_shared<const RenderedDenial>();
  const std::string k1 = DenialCache::Key(token, "a", "r1", 1);
  const std::string k2 = DenialCache::Key(token, "a", "r2", 1);
  const std::string k3 = DenialCache::Key(token, "a", "r1", 2);
  EXPECT_NE(k1, k3) << "the directory generation is part of the key";
  cache.Insert(k1, entry);
  cache.Insert(k2, entry);
  EXPECT_NE(cache.Find(k1), nullptr);
  cache.Insert(k3, entry);  // full: starts over
  EXPECT_EQ(cache.Find(k1), nullptr);
  EXPECT_NE(cache.Find(k3), nullptr);
  token.jti.clear();
  EXPECT_TRUE(DenialCache::Key(token, "a", "r1", 1).empty());
}

}  // namespace
}  // namespace verbatim::api
