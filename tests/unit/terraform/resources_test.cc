// The other resource types and data sources against a fake API, and the
// helpers they share.
#include <gtest/gtest.h>

#include "terraform/access_checks.h"
#include "terraform/provider.h"
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"
#include "unit/terraform/fake_api.h"

namespace verbatim::terraform {
namespace {

using testing_util::Answer;
using testing_util::FakeApi;
using testing_util::RecordedCall;

Value Nulls(const Schema& s) {
  Value v = Value::Object({});
  for (const auto& a : s.attributes) v.Put(a.name, Value::Null());
  return v;
}

TEST(RoleRefs, KeepTheConfiguredSpellingAndNameWhatWasAddedByHand) {
  json::value server = json::parse(R"([{"id":"r1","name":"Recording Controller"},{"id":"r2","name":"Auditor"},{"id":"r3"}])");
  EXPECT_EQ(RoleRefsLike(server, {"recording CONTROLLER", "r2"}),
            (std::vector<std::string>{"recording CONTROLLER", "r2", "r3"}));
  EXPECT_EQ(RoleRefsLike(server, {}), (std::vector<std::string>{"Recording Controller", "Auditor", "r3"}));
  // Two spellings of one role both stay, so the state equals the plan.
  EXPECT_EQ(RoleRefsLike(json::parse(R"([{"id":"r1","name":"A"}])"), {"a", "r1"}), (std::vector<std::string>{"a", "r1"}));
}

TEST(Permissions, WildcardsOnlyWhereAllowed) {
  EXPECT_TRUE(IsPermission("recording:recording:start", false));
  EXPECT_TRUE(IsPermission("recording:*:*", true));
  EXPECT_FALSE(IsPermission("recording:*:*", false));
  EXPECT_FALSE(IsPermission("recording:start", true));
  EXPECT_FALSE(IsPermission("Recording:recording:start", true));
  EXPECT_FALSE(IsPermission("a:b:c:d", true));
  EXPECT_FALSE(IsPermission("a::c", true));
}

TEST(RenderDenial, BothLayersFailingNamesBothFixes) {
  json::value check = json::parse(R"({"decision":"deny","status":403,"code":"missing.permissions","message":"m",
    "explanation":{"layers":[{"layer":"token","result":"pass"},
      {"layer":"scope","result":"fail","required":["audit:read"],"granted":[]},
      {"layer":"permission","result":"fail","required":["audit:event:view"],"granted":[],
       "grantingRoles":["Auditor","System Administrator"]},
      {"layer":"resource","result":"not-evaluated"}],"fix":["f1","f2"]}})");
  Diagnostic d = RenderDenial("auditor-bot", "audit:event:view", check);
  EXPECT_EQ(d.severity, Diagnostic::Severity::kError);
  EXPECT_EQ(d.summary,
            "auditor-bot will get 403 missing.permissions on audit:event:view: add scope audit:read and a role that "
            "grants it (Auditor or System Administrator)");
  EXPECT_NE(d.detail.find("  - f1\n  - f2"), std::string::npos) << d.detail;
  EXPECT_NE(d.detail.find("scope       fail  required: audit:read  granted: none"), std::string::npos) << d.detail;
}

TEST(OrganizationSettings, DestroyPutsBackWhatWasThereBeforeTerraform) {
  auto rt = NewOrganizationSettingsResource();
  json::value current = json::parse(R"({"autoStart":true,"pauseBehavior":"silence","retentionDays":90})");
  FakeApi server([&](const RecordedCall& c) {
    if (c.method == "PATCH")
      for (const auto& kv : c.body.as_object()) current.as_object()[kv.key()] = kv.value();
    return Answer(200, json::serialize(current));
  });
  Value config = Nulls(rt->schema());
  config.Put("retention_days", Value::Number(365));
  PlanResult plan = rt->Plan(server, {Value::Null(), config, config, ""});
  EXPECT_EQ(plan.planned.GetString("id"), "organization");
  EXPECT_TRUE(plan.planned.Get("auto_start").is_unknown());
  StateResult created = rt->Apply(server, {Value::Null(), plan.planned, config, ""});
  ASSERT_TRUE(created.diags.empty());
  EXPECT_EQ(created.state.Get("retention_days").as_number(), 365);
  EXPECT_EQ(created.state.Get("auto_start"), Value::Bool(true));
  // Only what the configuration sets was sent.
  EXPECT_EQ(server.CallsTo("PATCH", "/api/v2/organization/settings").back().body, json::parse(R"({"retentionDays":365})"));

  StateResult destroyed = rt->Apply(server, {created.state, Value::Null(), Value::Null(), created.private_state});
  ASSERT_TRUE(destroyed.diags.empty());
  EXPECT_TRUE(destroyed.state.is_null());
  EXPECT_EQ(current, json::parse(R"({"autoStart":true,"pauseBehavior":"silence","retentionDays":90})"));

  // Imported: nothing known to restore, and it says so.
  StateResult forgotten = rt->Apply(server, {created.state, Value::Null(), Value::Null(), ""});
  ASSERT_EQ(forgotten.diags.size(), 1u);
  EXPECT_EQ(forgotten.diags[0].severity, Diagnostic::Severity::kWarning);
}

TEST(AudioHookIntegration, AnyChangeReplacesBecauseTheServerCannotUpdate) {
  auto rt = NewAudioHookIntegrationResource();
  FakeApi api([](const RecordedCall&) { return Answer(500, ""); });
  Value prior = Nulls(rt->schema());
  prior.Put("id", Value::String("i-1"));
  prior.Put("name", Value::String("genesys"));
  prior.Put("roles", Value::StringSet({"Media Ingest"}));
  prior.Put("api_key", Value::String("k"));
  Value config = prior;
  config.Put("name", Value::String("genesys-2"));
  PlanResult r = rt->Plan(api, {prior, config, config, ""});
  EXPECT_EQ(r.requires_replace, std::vector<std::string>{"name"});
  EXPECT_TRUE(r.planned.Get("api_key").is_unknown());
  PlanResult same = rt->Plan(api, {prior, prior, prior, ""});
  EXPECT_TRUE(same.requires_replace.empty());
  EXPECT_EQ(same.planned, prior);
  EXPECT_TRUE(api.calls().empty());
}

TEST(RoleResource, ABuiltinRoleNameFailsThePlan) {
  auto rt = NewRoleResource();
  FakeApi api([](const RecordedCall&) {
    return Answer(200, R"({"entities":[{"id":"b1","name":"Auditor","builtin":true},{"id":"c1","name":"Mine","builtin":false}]})");
  });
  Value config = Nulls(rt->schema());
  config.Put("name", Value::String("auditor"));
  config.Put("permissions", Value::StringSet({"audit:event:view"}));
  PlanResult r = rt->Plan(api, {Value::Null(), config, config, ""});
  ASSERT_EQ(r.diags.size(), 1u);
  EXPECT_EQ(r.diags[0].attribute, std::vector<std::string>{"name"});
  config.Put("name", Value::String("Mine too"));
  EXPECT_TRUE(rt->Plan(api, {Value::Null(), config, config, ""}).diags.empty());
}

TEST(AccessCheckData, RendersTheSimulatorsAnswerAndPlannedPrincipals) {
  auto ds = NewAccessCheckDataSource();
  FakeApi api([](const RecordedCall&) {
    return Answer(200, R"({"decision":"deny","status":403,"code":"missing.permission","message":"m",
      "explanation":{"layers":[{"layer":"token","result":"pass","detail":"expires at 12:00"},
       {"layer":"scope","result":"pass","grantedBy":"recording:control","required":["recording:control"],"granted":["recording:control"]},
       {"layer":"permission","result":"fail","required":["recording:recording:start"],"granted":[]},
       {"layer":"resource","result":"not-evaluated"}],"fix":["assign a role"]}})");
  });
  Value config = Nulls(ds->schema());
  config.Put("scopes", Value::StringSet({"recording:control"}));
  config.Put("action", Value::String("recording:recording:start"));
  EXPECT_TRUE(ds->Validate(config).empty());
  StateResult r = ds->Read(api, config);
  ASSERT_TRUE(r.diags.empty());
  EXPECT_EQ(r.state.Get("allowed"), Value::Bool(false));
  EXPECT_EQ(r.state.GetString("code"), "missing.permission");
  EXPECT_EQ(r.state.Get("status").as_number(), 403);
  ASSERT_EQ(r.state.Get("layers").elements().size(), 4u);
  EXPECT_TRUE(r.state.Get("layers").elements()[0].Get("detail").is_null());  // changes on every read
  EXPECT_EQ(r.state.Get("layers").elements()[1].GetString("granted_by"), "recording:control");
  EXPECT_EQ(r.state.Get("fix"), Value::StringList({"assign a role"}));
  // No principal: a planned client made of the given scopes.
  const auto calls = api.calls();
  const auto& sent = calls.at(0).body.as_object();
  EXPECT_EQ(sent.at("principal").as_object().at("scopes"), json::array({"recording:control"}));
}

TEST(ProviderConfig, AttributesWinOverEnvironmentAndMissingOnesAreNamed) {
  Provider p;
  Value config = Nulls(p.schema());
  config.Put("endpoint", Value::String("http://127.0.0.1:1"));
  auto env = [](const char* k) -> const char* {
    std::string_view key(k);
    if (key == "VERBATIM_ENDPOINT") return "http://ignored:2";
    if (key == "VERBATIM_CLIENT_ID") return "id-from-env";
    return nullptr;
  };
  auto missing = Provider::ResolveOptions(config, env);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("VERBATIM_CLIENT_SECRET"), std::string::npos);
  config.Put("client_secret", Value::String("s"));
  auto ok = Provider::ResolveOptions(config, env);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->endpoint, "http://127.0.0.1:1");
  EXPECT_EQ(ok->client_id, "id-from-env");
  config.Put("endpoint", Value::Unknown());
  EXPECT_FALSE(Provider::ResolveOptions(config, env).ok());
}

TEST(ProviderConfig, EveryResourceAndDataSourceIsServed) {
  Provider p;
  for (const char* r : {"verbatim_oauth_client", "verbatim_role", "verbatim_audiohook_integration",
                        "verbatim_organization_settings"})
    EXPECT_NE(p.FindResource(r), nullptr) << r;
  for (const char* d : {"verbatim_role", "verbatim_access_check", "verbatim_effective_access"})
    EXPECT_NE(p.FindDataSource(d), nullptr) << d;
  // No resource for built-in roles' ids, no secrets outside sensitive attributes.
  for (const auto& r : p.resources())
    for (const auto& a : r->schema().attributes)
      if (a.name.find("secret") != std::string::npos || a.name == "api_key")
        EXPECT_TRUE(a.sensitive || a.mode == Attribute::Mode::kOptional) << r->name() << "." << a.name;
}

}  // namespace
}  // namespace verbatim::terraform
