// The SIPREC trunk admin API through App::Handle: permissions explained like
// every other denial, secrets never returned, file and --dev trunks read-only,
// and every write published to the SIP server at once.
#include <gtest/gtest.h>

#include "transports/siprec/trunk_config.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

constexpr const char* kBase = "/api/v2/media/siprec/trunks";

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  auto it = v.as_object().find(key);
  return it != v.as_object().end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

TEST(TrunkRoutes, PermissionsAreTheOrganizationTrunkOnesAndDenialsExplainThemselves) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto admin = t.CreateAdmin();
  auto recorder_admin = t.CreateClient("rec-admin", {"admin", "recording:read"}, {"Recording Administrator"});
  const std::string body = R"({"name":"cube","networks":["192.0.2.0/24"]})";

  HttpResponse no_scope = t.Call("POST", kBase, t.Token(admin.id, {"recording:read"}), body);
  EXPECT_EQ(no_scope.result_int(), 403);
  json::value e1 = TestApp::Body(no_scope);
  EXPECT_EQ(Str(e1, "code"), "missing.scope") << no_scope.body();
  EXPECT_NE(no_scope.body().find("organization:trunk:add"), std::string::npos) << no_scope.body();

  HttpResponse no_role = t.Call("POST", kBase, t.Token(recorder_admin.id, {"admin"}), body);
  EXPECT_EQ(no_role.result_int(), 403);
  json::value e2 = TestApp::Body(no_role);
  EXPECT_EQ(Str(e2, "code"), "missing.permission") << no_role.body();
  EXPECT_NE(no_role.body().find("System Administrator"), std::string::npos) << "names the role that grants it";

  HttpResponse ok = t.Call("POST", kBase, t.Token(admin.id, {"admin"}), body);
  EXPECT_EQ(ok.result_int(), 201) << ok.body();
  auto stored = t.store().ListTrunks();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 1u);
  EXPECT_EQ(t.Call("GET", kBase, t.Token(recorder_admin.id, {"admin"})).result_int(), 403);
}

TEST(TrunkRoutes, TheDigestPasswordIsWriteOnly) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  const std::string admin = t.Token(t.CreateAdmin().id, {"admin"});
  const std::string password = "s3cret-trunk-pass";
  HttpResponse created = t.Call(
      "POST", kBase, admin,
      R"({"name":"sbc","networks":["198.51.100.7/32"],"digest":{"username":"sbc","password":")" + password + R"("}})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  const std::string id = Str(TestApp::Body(created), "id");
  auto stored = t.store().GetTrunk(id);
  ASSERT_TRUE(stored.ok());
  for (const HttpResponse& res :
       {created, t.Call("GET", std::string(kBase) + "/" + id, admin), t.Call("GET", kBase, admin),
        t.Call("PATCH", std::string(kBase) + "/" + id, admin, R"({"description":"x"})")}) {
    EXPECT_EQ(res.body().find(password), std::string::npos) << res.body();
    EXPECT_EQ(res.body().find(stored->digest_ha1_md5), std::string::npos) << res.body();
    EXPECT_EQ(res.body().find(stored->digest_ha1_sha256), std::string::npos) << res.body();
    EXPECT_NE(res.body().find("\"username\":\"sbc\""), std::string::npos) << res.body();
  }
}

TEST(TrunkRoutes, ConfigAndDevTrunksAreListedButReadOnly) {
  auto file = ParseTrunksToml("[[siprec.trunks]]\nname = \"cube-file\"\nnetworks = [\"203.0.113.0/24\"]\n",
                              SystemClock::Instance().Now());
  ASSERT_TRUE(file.ok());
  TestApp t(SystemClock::Instance(), [&](AppConfig& cfg) {
    cfg.config_trunks = *file;
    cfg.dev_trunk = true;
  });
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const std::string admin = t.Token(t.CreateAdmin().id, {"admin"});
  json::value list = TestApp::Body(t.Call("GET", kBase, admin));
  const auto& entities = list.as_object()["entities"].as_array();
  ASSERT_EQ(entities.size(), 2u) << json::serialize(list);
  EXPECT_EQ(Str(entities[0], "name"), "cube-file");
  EXPECT_EQ(Str(entities[0], "source"), "config");
  EXPECT_EQ(Str(entities[1], "name"), "dev-loopback");
  EXPECT_EQ(Str(entities[1], "source"), "dev");

  const std::string file_id = ConfigTrunkId("cube-file");
  HttpResponse patch = t.Call("PATCH", std::string(kBase) + "/" + file_id, admin, R"({"networks":["0.0.0.0/0"]})");
  EXPECT_EQ(patch.result_int(), 409);
  EXPECT_EQ(Str(TestApp::Body(patch), "code"), "trunk.read.only");
  EXPECT_NE(patch.body().find("config file"), std::string::npos) << patch.body();
  const std::string dev_id = Str(entities[1], "id");
  EXPECT_EQ(Str(TestApp::Body(t.Call("DELETE", std::string(kBase) + "/" + dev_id, admin)), "code"), "trunk.read.only");
  HttpResponse dup = t.Call("POST", kBase, admin, R"({"name":"Cube-File","networks":["192.0.2.0/24"]})");
  EXPECT_EQ(dup.result_int(), 409);
  EXPECT_EQ(Str(TestApp::Body(dup), "code"), "trunk.name.taken");
  EXPECT_EQ(t.Call("GET", std::string(kBase) + "/" + file_id, admin).result_int(), 200);
}

TEST(TrunkRoutes, EveryWriteIsPublishedToTheSipServerAtOnce) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  const std::string admin = t.Token(t.CreateAdmin().id, {"admin"});
  std::shared_ptr<const media::siprec::TrunkTable> seen;
  t.app().sip_trunks().Subscribe([&](std::shared_ptr<const media::siprec::TrunkTable> table) { seen = table; });
  ASSERT_TRUE(seen && seen->empty()) << "no trunks: every INVITE is refused";
  const auto source = *media::siprec::ParseIpAddress("192.0.2.9");

  HttpResponse created = t.Call("POST", kBase, admin, R"({"name":"cube","networks":["192.0.2.0/24"]})");
  ASSERT_EQ(created.result_int(), 201);
  ASSERT_NE(seen->Match(source), nullptr);
  EXPECT_EQ(seen->Match(source)->name, "cube");
  const std::string id = Str(TestApp::Body(created), "id");

  ASSERT_EQ(t.Call("PATCH", std::string(kBase) + "/" + id, admin, R"({"networks":["198.51.100.0/24"]})").result_int(),
            200);
  EXPECT_EQ(seen->Match(source), nullptr) << "the old network admits nobody any more";
  ASSERT_EQ(t.Call("DELETE", std::string(kBase) + "/" + id, admin).result_int(), 204);
  EXPECT_TRUE(seen->empty());
}

TEST(TrunkRoutes, ConversationsNameTheirMediaOwner) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  const std::string admin = t.Token(t.CreateAdmin().id, {"admin", "conversation:write", "conversation:read"});
  const std::string trunk =
      Str(TestApp::Body(t.Call("POST", kBase, admin, R"({"name":"cube","networks":["192.0.2.0/24"]})")), "id");
  HttpResponse conv =
      t.Call("POST", "/api/v2/conversations", admin, R"({"mediaOwner":{"type":"trunk","id":")" + trunk + R"("}})");
  ASSERT_EQ(conv.result_int(), 201) << conv.body();
  auto stored = t.store().GetConversation(Str(TestApp::Body(conv), "id"));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->owner, "trunk:" + trunk);
  EXPECT_NE(conv.body().find("\"mediaOwner\":{\"type\":\"trunk\""), std::string::npos) << conv.body();

  for (const char* bad : {R"({"mediaOwner":{"type":"trunk","id":"6f1a0c3e-0000-4000-8000-000000000000"}})",
                          R"({"mediaOwner":{"type":"printer","id":"6f1a0c3e-0000-4000-8000-000000000000"}})",
                          R"({"mediaOwner":"trunk:x"})"}) {
    HttpResponse res = t.Call("POST", "/api/v2/conversations", admin, bad);
    EXPECT_EQ(res.result_int(), 400) << bad;
    EXPECT_NE(res.body().find("mediaOwner"), std::string::npos) << res.body();
  }
}

}  // namespace
}  // namespace verbatim::api
