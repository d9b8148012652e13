// verbatim_oauth_client against a fake API: what each lifecycle step sends and
// keeps, and how plan-time checks turn the engine's answers into diagnostics.
#include <gtest/gtest.h>

#include "terraform/resources/resources.h"
#include "unit/terraform/fake_api.h"

namespace verbatim::terraform {
namespace {

using testing_util::Answer;
using testing_util::FakeApi;
using testing_util::RecordedCall;

// The simulator's answer for scopes [recording:write] + Recording Controller
// asking recording:recording:start, as the server renders it.
constexpr const char* kMissingScope = R"({"decision":"deny","status":403,"code":"missing.scope",
 "message":"The access token lacks scope 'recording:control', required to start a recording. Its scopes are: recording:write (recording:write only edits recording metadata).",
 "explanation":{"decision":"deny","layers":[
   {"layer":"token","result":"pass"},
   {"layer":"scope","result":"fail","required":["recording:control"],"granted":["recording:write"]},
   {"layer":"permission","result":"pass","grantedBy":"Recording Controller"},
   {"layer":"resource","result":"not-evaluated"}],
  "fix":["An administrator must add scope 'recording:control' to the allowed scopes of client 'recording-api-client'; then request a new token with scope 'recording:control'."]}})";

constexpr const char* kAccessOneUnusable = R"({"scopeUse":[
   {"scope":"recording:write","unlocks":["recording:recording:edit"],"usable":[],"fix":"No role grants it: remove the scope."},
   {"scope":"recording:control","unlocks":["recording:recording:start"],"usable":["recording:recording:start"],"fix":null}],
 "unusableScopes":["recording:write"]})";

class OAuthClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<ResourceType> rt_ = NewOAuthClientResource();

  Value Config(std::vector<std::string> scopes, std::optional<std::vector<std::string>> roles,
               std::optional<std::vector<std::string>> actions = std::nullopt) {
    Value v = Value::Object({});
    for (const auto& a : rt_->schema().attributes) v.Put(a.name, Value::Null());
    v.Put("name", Value::String("recording-api-client"));
    v.Put("scopes", Value::StringSet(scopes));
    if (roles) v.Put("roles", Value::StringSet(*roles));
    if (actions) v.Put("expected_actions", Value::StringSet(*actions));
    return v;
  }
};

TEST_F(OAuthClientTest, CreatePlanLeavesServerValuesUnknownAndDefaultsWhatTheServerWould) {
  FakeApi api([](const RecordedCall&) { return Answer(200, R"({"scopeUse":[]})"); });
  Value config = Config({"recording:control"}, std::nullopt);
  PlanResult r = rt_->Plan(api, {Value::Null(), config, config, ""});
  EXPECT_TRUE(r.diags.empty());
  for (const char* k : {"id", "client_id", "client_secret", "access_token_validity_seconds", "enabled"})
    EXPECT_TRUE(r.planned.Get(k).is_unknown()) << k;
  EXPECT_EQ(r.planned.GetString("description"), "");
  EXPECT_EQ(r.planned.Get("roles"), Value::StringSet({}));
}

TEST_F(OAuthClientTest, ExpectedActionTheEngineDeniesFailsThePlanWithTheScopeToAdd) {
  FakeApi api([](const RecordedCall& c) {
    if (c.path == "/api/v2/authorization/effective-access") return Answer(200, kAccessOneUnusable);
    return Answer(200, kMissingScope);
  });
  Value config = Config({"recording:write"}, std::vector<std::string>{"Recording Controller"},
                        std::vector<std::string>{"recording:recording:start"});
  PlanResult r = rt_->Plan(api, {Value::Null(), config, config, ""});
  ASSERT_EQ(r.diags.size(), 2u);
  EXPECT_EQ(r.diags[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(r.diags[0].summary, "recording-api-client: scope recording:write can never be used");
  EXPECT_EQ(r.diags[0].attribute, std::vector<std::string>{"scopes"});
  EXPECT_EQ(r.diags[1].severity, Diagnostic::Severity::kError);
  EXPECT_EQ(r.diags[1].summary,
            "recording-api-client will get 403 missing.scope on recording:recording:start: add scope recording:control");
  EXPECT_EQ(r.diags[1].attribute, std::vector<std::string>{"expected_actions"});
  EXPECT_NE(r.diags[1].detail.find("not evaluated at plan time"), std::string::npos) << r.diags[1].detail;
  EXPECT_NE(r.diags[1].detail.find("add \"recording:control\" to scopes"), std::string::npos) << r.diags[1].detail;

  // The engine was asked about the planned client, not about anything stored.
  auto checks = api.CallsTo("POST", "/api/v2/authorization/check");
  ASSERT_EQ(checks.size(), 1u);
  const auto& body = checks[0].body.as_object();
  EXPECT_EQ(body.at("action"), "recording:recording:start");
  const auto& principal = body.at("principal").as_object();
  EXPECT_EQ(principal.at("name"), "recording-api-client");
  EXPECT_EQ(principal.at("scopes"), json::array({"recording:write"}));
  EXPECT_EQ(principal.at("roles"), json::array({"Recording Controller"}));
  EXPECT_FALSE(principal.contains("clientId"));
}

TEST_F(OAuthClientTest, AllowedActionsAndUsableScopesSayNothing) {
  FakeApi api([](const RecordedCall& c) {
    if (c.path == "/api/v2/authorization/effective-access") return Answer(200, R"({"scopeUse":[{"scope":"recording:control","usable":["recording:recording:start"]}]})");
    return Answer(200, R"({"decision":"allow","status":200})");
  });
  Value config = Config({"recording:control"}, std::vector<std::string>{"Recording Controller"},
                        std::vector<std::string>{"recording:recording:start", "recording:recording:stop"});
  PlanResult r = rt_->Plan(api, {Value::Null(), config, config, ""});
  EXPECT_TRUE(r.diags.empty()) << r.diags[0].summary;
  EXPECT_EQ(api.CallsTo("POST", "/api/v2/authorization/check").size(), 2u);
}

TEST_F(OAuthClientTest, RoleNotCreatedYetIsAWarningThatTheCheckRunsAtApply) {
  FakeApi api([](const RecordedCall&) {
    return Answer(400, R"({"status":400,"code":"bad.request","message":"Role 'Supervisors' does not exist.",
                          "explanation":{"decision":"invalid-input","field":"principal.roles","fix":[]}})");
  });
  Value config = Config({"recording:control"}, std::vector<std::string>{"Supervisors"},
                        std::vector<std::string>{"recording:recording:start"});
  PlanResult r = rt_->Plan(api, {Value::Null(), config, config, ""});
  ASSERT_EQ(r.diags.size(), 1u);
  EXPECT_EQ(r.diags[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(r.diags[0].attribute, std::vector<std::string>{"roles"});
  EXPECT_NE(r.diags[0].detail.find("Role 'Supervisors' does not exist."), std::string::npos);
}

TEST_F(OAuthClientTest, UnknownRolesAtPlanTimeAskNothing) {
  FakeApi api([](const RecordedCall&) { return Answer(500, ""); });
  Value config = Config({"recording:control"}, std::nullopt, std::vector<std::string>{"recording:recording:start"});
  config.Put("roles", Value::Set({Value::Unknown()}));  // roles = [verbatim_role.x.id]
  PlanResult r = rt_->Plan(api, {Value::Null(), config, config, ""});
  EXPECT_TRUE(r.diags.empty());
  EXPECT_TRUE(api.calls().empty());
}

TEST_F(OAuthClientTest, ChangingTheTriggerPlansANewSecretAndOnlyThen) {
  FakeApi api([](const RecordedCall&) { return Answer(200, R"({"scopeUse":[]})"); });
  Value prior = Config({"recording:control"}, std::vector<std::string>{});
  for (const char* k : {"id", "client_id"}) prior.Put(k, Value::String("c-1"));
  prior.Put("client_secret", Value::String("old-secret"));
  prior.Put("description", Value::String(""));
  prior.Put("access_token_validity_seconds", Value::Number(3600));
  prior.Put("rotate_secret_trigger", Value::String("2026-01"));

  Value same = prior;
  PlanResult unchanged = rt_->Plan(api, {prior, same, same, ""});
  EXPECT_EQ(unchanged.planned, prior);

  Value config = prior;
  config.Put("rotate_secret_trigger", Value::String("2026-02"));
  PlanResult rotate = rt_->Plan(api, {prior, config, config, ""});
  EXPECT_TRUE(rotate.planned.Get("client_secret").is_unknown());

  // Apply: PATCH, then POST …/secret; the new secret lands in state.
  FakeApi server([](const RecordedCall& c) {
    if (c.path == "/api/v2/oauth/clients/c-1/secret") return Answer(200, R"({"id":"c-1","clientSecret":"new-secret"})");
    return Answer(200, R"({"id":"c-1","name":"recording-api-client","description":"","allowedScopes":["recording:control"],
                           "roles":[],"accessTokenValiditySeconds":3600})");
  });
  StateResult applied = rt_->Apply(server, {prior, rotate.planned, config, ""});
  ASSERT_TRUE(applied.diags.empty()) << applied.diags[0].detail;
  EXPECT_EQ(applied.state.GetString("client_secret"), "new-secret");
  EXPECT_EQ(applied.state.GetString("rotate_secret_trigger"), "2026-02");
  const auto calls = server.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "PATCH");
}

TEST_F(OAuthClientTest, CreateSendsTheClientAndKeepsTheSecretShownOnce) {
  FakeApi server([](const RecordedCall&) {
    return Answer(201, R"({"id":"c-9","name":"recording-api-client","description":"","allowedScopes":["recording:control"],
                           "roles":[{"id":"7f2b6c80-0000-4000-8000-000000000003","name":"Recording Controller"}],
                           "accessTokenValiditySeconds":3600,"clientSecret":"s3cret"})");
  });
  Value planned = Config({"recording:control"}, std::vector<std::string>{"recording controller"},
                         std::vector<std::string>{"recording:recording:start"});
  planned.Put("description", Value::String(""));
  for (const char* k : {"id", "client_id", "client_secret", "access_token_validity_seconds", "enabled"})
    planned.Put(k, Value::Unknown());
  StateResult r = rt_->Apply(server, {Value::Null(), planned, planned, ""});
  ASSERT_TRUE(r.diags.empty());
  const auto calls = server.calls();
  const auto& body = calls.at(0).body.as_object();
  EXPECT_EQ(body.at("allowedGrantTypes"), json::array({"client_credentials"}));
  EXPECT_EQ(body.at("roles"), json::array({"recording controller"}));
  EXPECT_FALSE(body.contains("expected_actions"));
  EXPECT_FALSE(body.contains("accessTokenValiditySeconds"));  // unknown: the server decides
  EXPECT_FALSE(body.contains("enabled"));
  EXPECT_EQ(r.state.GetString("client_secret"), "s3cret");
  EXPECT_EQ(r.state.GetString("client_id"), "c-9");
  EXPECT_EQ(r.state.Get("roles"), Value::StringSet({"recording controller"}));  // as configured
  EXPECT_EQ(r.state.Get("expected_actions"), Value::StringSet({"recording:recording:start"}));
}

TEST_F(OAuthClientTest, ReadReportsDriftKeepsSpellingAndForgetsADeletedClient) {
  Value state = Config({"recording:control", "recording:write"}, std::vector<std::string>{"recording controller"});
  for (const char* k : {"id", "client_id"}) state.Put(k, Value::String("c-1"));
  state.Put("client_secret", Value::String("kept"));
  FakeApi server([](const RecordedCall&) {
    return Answer(200, R"({"id":"c-1","name":"recording-api-client","description":"","allowedScopes":["recording:control"],
                           "roles":[{"id":"7f2b6c80-0000-4000-8000-000000000003","name":"Recording Controller"},
                                    {"id":"7f2b6c80-0000-4000-8000-000000000007","name":"Auditor"}],
                           "accessTokenValiditySeconds":600,"enabled":false,"tokensValidAfter":null})");
  });
  StateResult r = rt_->Read(server, state, "");
  ASSERT_TRUE(r.diags.empty());
  EXPECT_EQ(r.state.Get("scopes"), Value::StringSet({"recording:control"}));  // recording:write removed by hand
  EXPECT_EQ(r.state.Get("roles"), Value::StringSet({"recording controller", "Auditor"}));
  EXPECT_EQ(r.state.Get("access_token_validity_seconds").as_number(), 600);
  EXPECT_EQ(r.state.Get("enabled"), Value::Bool(false));  // disabled by hand: kept unless configured
  EXPECT_EQ(r.state.GetString("client_secret"), "kept");

  FakeApi gone([](const RecordedCall&) {
    return Answer(404, R"({"status":404,"code":"client.not.found","message":"Client 'c-1' was not found."})");
  });
  EXPECT_TRUE(rt_->Read(gone, state, "").state.is_null());
  FakeApi broken([](const RecordedCall&) { return Answer(404, R"({"status":404,"code":"not.found"})"); });
  StateResult err = rt_->Read(broken, state, "");
  EXPECT_FALSE(err.state.is_null());  // a wrong URL is not a deleted client
  EXPECT_FALSE(err.diags.empty());
}

TEST_F(OAuthClientTest, ValidateRejectsWhatTheServerWouldBeforeAnythingIsSent) {
  Value config = Config({"recording:control"}, std::nullopt, std::vector<std::string>{"recording:*:start", "nope"});
  config.Put("access_token_validity_seconds", Value::Number(59));
  auto d = rt_->Validate(config);
  EXPECT_EQ(d.size(), 3u);
}

}  // namespace
}  // namespace verbatim::terraform

namespace verbatim::terraform {
namespace {

TEST_F(OAuthClientTest, AnImportedClientsRoleSpellingIsNotAChange) {
  FakeApi api([](const RecordedCall& c) {
    if (c.path == "/api/v2/authorization/roles")
      return Answer(200, R"({"entities":[{"id":"r-aud","name":"Auditor"},{"id":"r-rc","name":"Recording Controller"}]})");
    return Answer(200, R"({"scopeUse":[]})");
  });
  Value prior = Config({"audit:read"}, std::vector<std::string>{"Auditor"});  // as Read wrote it after import
  for (const char* k : {"id", "client_id"}) prior.Put(k, Value::String("c-1"));
  prior.Put("description", Value::String(""));
  prior.Put("access_token_validity_seconds", Value::Number(3600));
  for (const auto& spelling : {"auditor", "r-aud"}) {
    Value config = prior;
    config.Put("roles", Value::StringSet({spelling}));
    PlanResult r = rt_->Plan(api, {prior, config, config, ""});
    EXPECT_EQ(r.planned, prior) << spelling;  // Terraform accepts the prior value as "unchanged"
  }
  Value other = prior;
  other.Put("roles", Value::StringSet({"Recording Controller"}));
  EXPECT_EQ(rt_->Plan(api, {prior, other, other, ""}).planned.Get("roles"), Value::StringSet({"Recording Controller"}));
}

TEST_F(OAuthClientTest, AccessChecksWarningOrOffLetAPlanThrough) {
  FakeApi api([](const RecordedCall& c) {
    if (c.path == "/api/v2/authorization/effective-access") return Answer(200, R"({"scopeUse":[]})");
    return Answer(200, kMissingScope);
  });
  Value config = Config({"recording:write"}, std::vector<std::string>{"Recording Controller"},
                        std::vector<std::string>{"recording:recording:start"});
  PlanRequest req{Value::Null(), config, config, ""};
  req.access_checks = AccessCheckMode::kWarning;
  PlanResult warned = rt_->Plan(api, req);
  ASSERT_EQ(warned.diags.size(), 1u);
  EXPECT_EQ(warned.diags[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_NE(warned.diags[0].summary.find("will get 403 missing.scope"), std::string::npos);
  req.access_checks = AccessCheckMode::kOff;
  size_t calls = api.calls().size();
  EXPECT_TRUE(rt_->Plan(api, req).diags.empty());
  EXPECT_EQ(api.calls().size(), calls);  // nothing asked
}

}  // namespace
}  // namespace verbatim::terraform
