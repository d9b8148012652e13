// Clients that sign people in (docs/users.md "Clients that sign people in"):
// redirect URIs checked at registration, public clients without a secret,
// and the grant type combinations the token endpoint can serve.
#include <gtest/gtest.h>

#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

class ClientFlowFields : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.ok()) << t_.status().ToString();
    token_ = t_.AdminTokenWithEveryScope();
  }
  HttpResponse Post(const std::string& body) { return t_.Call("POST", "/api/v2/oauth/clients", token_, body); }

  TestApp t_;
  std::string token_;
};

TEST_F(ClientFlowFields, APublicClientGetsNoSecretAndTheFlowsGrantTypesByDefault) {
  auto res = Post(R"({"name":"console","clientType":"public","redirectUris":["https://console.example.com/cb"],
                      "allowedScopes":["recording:read"]})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto body = TestApp::Body(res).as_object();
  EXPECT_FALSE(body.contains("clientSecret"));
  EXPECT_EQ(body.at("clientType").as_string(), "public");
  EXPECT_EQ(json::serialize(body.at("allowedGrantTypes")), R"(["authorization_code","refresh_token"])");
  EXPECT_EQ(json::serialize(body.at("redirectUris")), R"(["https://console.example.com/cb"])");
  const std::string id(body.at("id").as_string());
  auto stored = t_.store().GetClient(id);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->secret_hash.empty());

  auto rotate = t_.Call("POST", "/api/v2/oauth/clients/" + id + "/secret", token_);
  EXPECT_EQ(rotate.result_int(), 400) << rotate.body();
  EXPECT_NE(rotate.body().find("has no secret"), std::string::npos);
  auto retype = t_.Call("PATCH", "/api/v2/oauth/clients/" + id, token_, R"({"clientType":"confidential"})");
  EXPECT_EQ(retype.result_int(), 400) << retype.body();
  EXPECT_NE(retype.body().find("cannot change"), std::string::npos);
}

TEST_F(ClientFlowFields, AConfidentialClientStaysAsBefore) {
  auto res = Post(R"({"name":"crm"})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto body = TestApp::Body(res).as_object();
  EXPECT_EQ(body.at("clientType").as_string(), "confidential");
  EXPECT_EQ(body.at("clientSecret").as_string().size(), 43u);
  EXPECT_EQ(json::serialize(body.at("allowedGrantTypes")), R"(["client_credentials"])");
  EXPECT_EQ(json::serialize(body.at("redirectUris")), "[]");
}

TEST_F(ClientFlowFields, GrantTypeCombinationsTheTokenEndpointCannotServeAreRefused) {
  struct Case {
    const char* body;
    const char* field;
    const char* says;
  } cases[] = {
      {R"({"name":"a","clientType":"public","allowedGrantTypes":["client_credentials"]})", "allowedGrantTypes",
       "cannot use client_credentials"},
      {R"({"name":"a","allowedGrantTypes":["refresh_token"]})", "allowedGrantTypes", "needs 'authorization_code'"},
      {R"({"name":"a","allowedGrantTypes":["authorization_code"]})", "redirectUris", "at least one redirect URI"},
      {R"({"name":"a","clientType":"public"})", "redirectUris", "at least one redirect URI"},
      {R"({"name":"a","allowedGrantTypes":["password"]})", "allowedGrantTypes", "not supported"},
      {R"({"name":"a","allowedGrantTypes":["implicit"]})", "allowedGrantTypes", "not supported"},
      {R"({"name":"a","clientType":"spa"})", "clientType", "'confidential' or 'public'"},
  };
  for (const auto& c : cases) {
    auto res = Post(c.body);
    EXPECT_EQ(res.result_int(), 400) << c.body << " → " << res.body();
    EXPECT_NE(res.body().find(std::string("\"field\":\"") + c.field + "\""), std::string::npos) << res.body();
    EXPECT_NE(res.body().find(c.says), std::string::npos) << res.body();
  }
  auto both = Post(R"({"name":"web","allowedGrantTypes":["client_credentials","authorization_code","refresh_token"],
                       "redirectUris":["https://web.example.com/cb","http://127.0.0.1/cb"]})");
  EXPECT_EQ(both.result_int(), 201) << "a confidential client may have both kinds of grant: " << both.body();
}

TEST_F(ClientFlowFields, RedirectUrisThatCouldSendACodeAnywhereAreRefusedAtRegistration) {
  for (const char* uri : {"http://app.example.com/cb", "https://*.example.com/cb", "https://app.example.com/cb#x",
                          "https://user@app.example.com/cb", "/cb", "javascript://x"}) {
    auto res = Post(std::string(R"({"name":"a","allowedGrantTypes":["authorization_code"],"redirectUris":[")") + uri +
                    R"("]})");
    EXPECT_EQ(res.result_int(), 400) << uri << " → " << res.body();
    EXPECT_NE(res.body().find("\"field\":\"redirectUris\""), std::string::npos) << res.body();
  }
  EXPECT_TRUE(t_.store().ListClients()->size() == 1u) << "only the admin client exists";
}

}  // namespace
}  // namespace verbatim::api
