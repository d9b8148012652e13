// Browser sign-in through App::Handle on a real SQLite store (docs/users.md
// "Sign-in"): /oauth/authorize and the token endpoint's authorization_code and
// refresh_token grants, at their edges: nothing redirects before the client
// and its redirect URI are known, state is echoed, codes are one-time and
// short-lived and bound to PKCE, refresh tokens rotate and a reuse ends the
// sign-in, wrong passwords are throttled, and a person's token speaks for the
// person.
#include <gtest/gtest.h>

#include <regex>

#include "oauth/form.h"
#include "oauth/pkce.h"
#include "unit/transports/http/faulty_store.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

constexpr char kRedirect[] = "http://127.0.0.1:3000/callback";
constexpr char kPassword[] = "correct horse battery";
constexpr char kVerifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more";

std::string Form(std::initializer_list<std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + k + "=" + oauth::PercentEncode(v);
  return out;
}

// The query parameters of a redirect's Location.
oauth::Form QueryOf(const std::string& location) {
  auto q = location.find('?');
  auto form = oauth::ParseForm(q == std::string::npos ? "" : location.substr(q + 1));
  EXPECT_TRUE(form.ok()) << location;
  return form.ok() ? *form : oauth::Form{};
}

class SignIn : public ::testing::Test {
 protected:
  explicit SignIn(const TestApp::StoreWrapper& wrap_store = nullptr)
      : t_(
            clock_,
            [](AppConfig& c) {
              c.limits.login.username_burst = 3;
              c.limits.login.per_username_per_minute = 1;
            },
            wrap_store) {}

  void SetUp() override {
    ASSERT_TRUE(t_.ok()) << t_.status().ToString();
    store::OAuthClient c;
    c.id = NewUuid();
    c.name = "console";
    c.client_type = "public";
    c.allowed_scopes = {"recording:read", "admin"};
    c.allowed_grant_types = {"authorization_code", "refresh_token"};
    c.redirect_uris = {kRedirect};
    c.created_at = c.updated_at = clock_.Now();
    ASSERT_TRUE(t_.app().directory().CreateClient(c).ok());
    client_id_ = c.id;

    user_id_ = t_.CreateUser("alice", {"Recording Controller"}, kPassword);
  }

  std::string AuthorizeQuery(std::initializer_list<std::pair<std::string, std::string>> overrides = {}) {
    std::vector<std::pair<std::string, std::string>> p = {{"response_type", "code"},
                                                          {"client_id", client_id_},
                                                          {"redirect_uri", kRedirect},
                                                          {"state", "s-123"},
                                                          {"code_challenge", oauth::S256Challenge(kVerifier)},
                                                          {"code_challenge_method", "S256"}};
    for (const auto& kv_override : overrides) {
      const auto& [k, v] = kv_override;  // clang 14: a lambda cannot capture a structured binding
      auto it = std::find_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == kv_override.first; });
      if (it == p.end()) p.emplace_back(k, v);
      else if (v.empty()) p.erase(it);
      else it->second = v;
    }
    std::string q;
    for (const auto& [k, v] : p) q += (q.empty() ? "" : "&") + k + "=" + oauth::PercentEncode(v);
    return q;
  }

  // GET the form, then POST it back with these credentials (and its cookie).
  HttpResponse PostSignIn(const std::string& username, const std::string& password,
                          const std::string& ip = "127.0.0.1") {
    auto page = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery());
    EXPECT_EQ(page.result_int(), 200) << page.body();
    std::smatch m;
    std::string html = page.body();
    EXPECT_TRUE(std::regex_search(html, m, std::regex(R"re(name="csrf" value="([^"]+)")re")));
    const std::string csrf = m.size() > 1 ? m[1].str() : "";
    std::string body = AuthorizeQuery() + "&" + Form({{"csrf", csrf}, {"username", username}, {"password", password}});
    return t_.CallFrom(ip, "POST", "/oauth/authorize", "", body,
                       {{"Content-Type", "application/x-www-form-urlencoded"},
                        {"Cookie", "verbatim_signin_csrf=" + csrf}});
  }

  // Signs alice in and returns the code.
  std::string Code() {
    auto res = PostSignIn("alice", kPassword);
    EXPECT_EQ(res.result_int(), 303) << res.body();
    return QueryOf(std::string(res[http::field::location])).Get("code");
  }

  HttpResponse Token(const std::string& body) {
    return t_.Call("POST", "/oauth/token", "", body, {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  HttpResponse Redeem(const std::string& code, const std::string& verifier = kVerifier,
                      const std::string& redirect = kRedirect) {
    return Token(Form({{"grant_type", "authorization_code"},
                       {"client_id", client_id_},
                       {"code", code},
                       {"redirect_uri", redirect},
                       {"code_verifier", verifier}}));
  }
  HttpResponse Refresh(const std::string& refresh_token) {
    return Token(Form({{"grant_type", "refresh_token"}, {"client_id", client_id_}, {"refresh_token", refresh_token}}));
  }
  // The audit event of the request that got `res`.
  json::object AuditEvent(const HttpResponse& res) {
    EXPECT_TRUE(t_.app().audit().Flush());
    if (auditor_.empty()) auditor_ = t_.AdminTokenWithEveryScope("auditor");
    auto got = t_.Call("GET", "/api/v2/audit/events/" + std::string(res["X-Context-Id"]), auditor_);
    EXPECT_EQ(got.result_int(), 200) << got.body();
    auto v = TestApp::Body(got);
    return v.is_object() ? v.as_object() : json::object{};
  }
  static std::string Field(const HttpResponse& res, const char* name) {
    auto v = TestApp::Body(res);
    auto* f = v.is_object() ? v.as_object().if_contains(name) : nullptr;
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  }

  FakeClock clock_;
  TestApp t_;
  std::string client_id_, user_id_, auditor_;
};

TEST_F(SignIn, NothingRedirectsUntilTheClientAndItsRedirectUriAreKnown) {
  auto unknown = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"client_id", NewUuid()}}));
  EXPECT_EQ(unknown.result_int(), 400);
  EXPECT_TRUE(unknown[http::field::location].empty());
  EXPECT_NE(unknown.body().find("No application with this client_id"), std::string::npos);

  auto elsewhere = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"redirect_uri", "https://evil.example/cb"}}));
  EXPECT_EQ(elsewhere.result_int(), 400) << "an unregistered redirect_uri must not be redirected to";
  EXPECT_TRUE(elsewhere[http::field::location].empty());

  // A prefix of the registered URI is not it.
  auto longer = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"redirect_uri", std::string(kRedirect) + "/x"}}));
  EXPECT_EQ(longer.result_int(), 400);
}

TEST_F(SignIn, LaterErrorsGoBackToTheClientWithStateAndIssuer) {
  auto no_pkce = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"code_challenge", ""}}));
  ASSERT_EQ(no_pkce.result_int(), 303);
  auto q = QueryOf(std::string(no_pkce[http::field::location]));
  EXPECT_EQ(std::string(no_pkce[http::field::location]).rfind(kRedirect, 0), 0u);
  EXPECT_EQ(q.Get("error"), "invalid_request");
  EXPECT_EQ(q.Get("state"), "s-123");
  EXPECT_EQ(q.Get("iss"), t_.app().config().issuer);

  auto plain = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"code_challenge_method", "plain"}}));
  EXPECT_EQ(QueryOf(std::string(plain[http::field::location])).Get("error"), "invalid_request");
  auto token = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"response_type", "token"}}));
  EXPECT_EQ(QueryOf(std::string(token[http::field::location])).Get("error"), "unsupported_response_type");
  auto scope = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"scope", "recording:control"}}));
  EXPECT_EQ(QueryOf(std::string(scope[http::field::location])).Get("error"), "invalid_scope");
}

TEST_F(SignIn, TheFormIsLockedDownAndEchoesTheRequest) {
  auto page = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery());
  ASSERT_EQ(page.result_int(), 200);
  const std::string csp(page["Content-Security-Policy"]);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("form-action 'self' http://127.0.0.1:3000"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("script-src"), std::string::npos) << "the page needs no script";
  const std::string cookie(page[http::field::set_cookie]);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(page.body().find(R"(name="state" value="s-123")"), std::string::npos);
  EXPECT_NE(page.body().find("console"), std::string::npos);

  // What the page echoes is escaped.
  auto xss = t_.Call("GET", "/oauth/authorize?" + AuthorizeQuery({{"state", "\"><script>alert(1)</script>"}}));
  ASSERT_EQ(xss.result_int(), 200);
  EXPECT_EQ(xss.body().find("<script>"), std::string::npos);
}

TEST_F(SignIn, APostWithoutTheFormsCookieIsRefused) {
  std::string body = AuthorizeQuery() + "&" + Form({{"csrf", "forged"}, {"username", "alice"}, {"password", kPassword}});
  auto no_cookie = t_.Call("POST", "/oauth/authorize", "", body, {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(no_cookie.result_int(), 403);
  EXPECT_TRUE(no_cookie[http::field::location].empty());
  auto other = t_.Call("POST", "/oauth/authorize", "", body,
                       {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", "verbatim_signin_csrf=other"}});
  EXPECT_EQ(other.result_int(), 403);
}

TEST_F(SignIn, ASuccessfulSignInRedirectsWithAOneTimeCodeAndTheState) {
  auto res = PostSignIn("ALICE", kPassword);  // usernames are case-insensitive
  ASSERT_EQ(res.result_int(), 303) << res.body();
  auto q = QueryOf(std::string(res[http::field::location]));
  EXPECT_FALSE(q.Get("code").empty());
  EXPECT_EQ(q.Get("state"), "s-123");
  EXPECT_EQ(q.Get("iss"), t_.app().config().issuer);

  // The audit log says who signed in, through which client, from where.
  auto event = AuditEvent(res);
  EXPECT_EQ(event.at("action").as_string(), "oauth:session:create");
  EXPECT_EQ(event.at("decision").as_string(), "allow");
  EXPECT_EQ(event.at("resource").as_string(), "client/" + client_id_);
  EXPECT_EQ(event.at("principal").as_object().at("id").as_string(), user_id_);
  EXPECT_EQ(event.at("clientId").as_string(), client_id_);
  EXPECT_EQ(event.at("clientAddress").as_string(), "127.0.0.1");
}


TEST_F(SignIn, WrongPasswordsLookTheSameAsUnknownUsersAndAreThrottled) {
  auto wrong = PostSignIn("alice", "not the password at all");
  auto nobody = PostSignIn("nobody", "not the password at all");
  EXPECT_EQ(wrong.result_int(), 200);
  EXPECT_EQ(nobody.result_int(), 200);
  EXPECT_NE(wrong.body().find("The username or password is incorrect."), std::string::npos);
  EXPECT_NE(nobody.body().find("The username or password is incorrect."), std::string::npos);

  // Burst of 3 per username: the third failure empties it, from any address.
  EXPECT_EQ(PostSignIn("alice", "still not it, sorry", "10.0.0.2").result_int(), 200);
  EXPECT_EQ(PostSignIn("Alice", "and not this either", "10.0.0.4").result_int(), 200);
  auto throttled = PostSignIn("alice", kPassword, "10.0.0.3");
  EXPECT_EQ(throttled.result_int(), 429) << "even the right password waits";
  EXPECT_FALSE(throttled[http::field::retry_after].empty());
  // Another username is not held back by alice's failures.
  EXPECT_EQ(PostSignIn("bob", "whatever it is").result_int(), 200);
}

TEST_F(SignIn, TheCodeNeedsTheVerifierTheRedirectUriAndTheSameClient) {
  auto wrong_verifier = Redeem(Code(), std::string(kVerifier) + "x");
  EXPECT_EQ(wrong_verifier.result_int(), 400);
  EXPECT_EQ(Field(wrong_verifier, "error"), "invalid_grant");
  EXPECT_NE(Field(wrong_verifier, "error_description").find("code_verifier does not match"), std::string::npos);

  auto wrong_redirect = Redeem(Code(), kVerifier, "http://127.0.0.1:3000/other");
  EXPECT_EQ(Field(wrong_redirect, "error"), "invalid_grant");

  auto unknown = Redeem("no-such-code");
  EXPECT_EQ(Field(unknown, "error"), "invalid_grant");
}

TEST_F(SignIn, ACodeExpiresAfterSixtySeconds) {
  const std::string code = Code();
  clock_.Advance(std::chrono::seconds(61));
  auto res = Redeem(code);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_NE(Field(res, "error_description").find("expired"), std::string::npos) << res.body();
}

TEST_F(SignIn, AReusedCodeRevokesWhatItsFirstUseYielded) {
  const std::string code = Code();
  auto first = Redeem(code);
  ASSERT_EQ(first.result_int(), 200) << first.body();
  const std::string access = Field(first, "access_token");
  EXPECT_EQ(t_.Call("GET", "/api/v2/tokens/me", access).result_int(), 200);

  auto replay = Redeem(code);
  EXPECT_EQ(Field(replay, "error"), "invalid_grant");
  EXPECT_NE(Field(replay, "error_description").find("already used"), std::string::npos);
  auto event = AuditEvent(replay);
  EXPECT_EQ(event.at("action").as_string(), "oauth:session:revoke");
  EXPECT_EQ(event.at("code").as_string(), "grant.reused");
  auto after = t_.Call("GET", "/api/v2/tokens/me", access);
  EXPECT_EQ(after.result_int(), 401) << "the first use's access token must be revoked";
  EXPECT_EQ(Refresh(Field(first, "refresh_token")).result_int(), 400) << "and its refresh token";
}

TEST_F(SignIn, APersonsTokenSpeaksForThePersonWithinTheClientsScopes) {
  auto tokens = Redeem(Code());
  ASSERT_EQ(tokens.result_int(), 200) << tokens.body();
  const std::string access = Field(tokens, "access_token");
  auto me = t_.Call("GET", "/api/v2/tokens/me", access);
  ASSERT_EQ(me.result_int(), 200) << me.body();
  EXPECT_NE(me.body().find(user_id_), std::string::npos) << me.body();

  // alice is a Recording Controller: no directory permissions, whatever the
  // client's admin scope allows. The denial names her and the fix is on her.
  auto users = t_.Call("GET", "/api/v2/users", access);
  ASSERT_EQ(users.result_int(), 403) << users.body();
  auto e = TestApp::Body(users).at("explanation").as_object();
  auto principal = e.at("principal").as_object();
  EXPECT_EQ(principal.at("type").as_string(), "user");
  EXPECT_EQ(principal.at("name").as_string(), "alice");
  EXPECT_EQ(principal.at("viaClient").as_object().at("name").as_string(), "console");
  EXPECT_NE(users.body().find("/api/v2/users/" + user_id_), std::string::npos) << "the fix says where";

  // The client bounds the scopes: recording:control is not among them, and
  // the fix is on the client.
  auto check = t_.Call("POST", "/api/v2/authorization/check", access,
                       R"({"action":"recording:recording:start","resource":"conversation/)" + NewUuid() + R"("})");
  EXPECT_NE(check.body().find("client 'console'"), std::string::npos) << check.body();
}

TEST_F(SignIn, RefreshTokensRotateAndAReuseEndsTheSignIn) {
  auto first = Redeem(Code());
  ASSERT_EQ(first.result_int(), 200);
  const std::string r1 = Field(first, "refresh_token");
  ASSERT_FALSE(r1.empty());

  auto second = Refresh(r1);
  ASSERT_EQ(second.result_int(), 200) << second.body();
  const std::string r2 = Field(second, "refresh_token");
  const std::string a2 = Field(second, "access_token");
  EXPECT_NE(r2, r1);
  EXPECT_EQ(t_.Call("GET", "/api/v2/tokens/me", a2).result_int(), 200);

  // r1 again: someone else holds it. The whole sign-in ends, r2 and a2 too.
  auto reuse = Refresh(r1);
  EXPECT_EQ(Field(reuse, "error"), "invalid_grant");
  EXPECT_NE(Field(reuse, "error_description").find("already used"), std::string::npos);
  EXPECT_EQ(Refresh(r2).result_int(), 400);
  EXPECT_EQ(t_.Call("GET", "/api/v2/tokens/me", a2).result_int(), 401);
}

TEST_F(SignIn, ADisabledUsersTokensStopWorking) {
  auto tokens = Redeem(Code());
  ASSERT_EQ(tokens.result_int(), 200);
  const std::string access = Field(tokens, "access_token");
  auto u = t_.store().GetUser(user_id_);
  ASSERT_TRUE(u.ok());
  clock_.Advance(std::chrono::seconds(2));
  auto admin = t_.AdminTokenWithEveryScope();
  ASSERT_EQ(t_.Call("PATCH", "/api/v2/users/" + user_id_, admin, R"({"enabled":false})").result_int(), 200);

  auto me = t_.Call("GET", "/api/v2/tokens/me", access);
  EXPECT_EQ(me.result_int(), 401) << me.body();
  EXPECT_NE(me.body().find("alice"), std::string::npos) << "the denial names the user";
  EXPECT_EQ(Field(Refresh(Field(tokens, "refresh_token")), "error"), "invalid_grant");
  EXPECT_EQ(PostSignIn("alice", kPassword).result_int(), 403);
}

// The store the race test's App writes through (set when its TestApp is built).
testing_util::FaultyStore* g_faulty = nullptr;

class SignInRace : public SignIn {
 protected:
  SignInRace()
      : SignIn([](std::unique_ptr<store::Store> inner) {
          auto f = std::make_unique<testing_util::FaultyStore>(std::move(inner));
          g_faulty = f.get();
          return std::unique_ptr<store::Store>(std::move(f));
        }) {}
};

TEST_F(SignInRace, AUserDeletedWhileSigningInIsToldWhatAWrongPasswordHears) {
  g_faulty->BeforeCodeInsert([this](store::Store& inner) { ASSERT_TRUE(inner.DeleteUser(user_id_).ok()); });
  auto res = PostSignIn("alice", kPassword);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.find(http::field::location), res.end()) << "no code, no redirect";
  EXPECT_NE(res.body().find("The username or password is incorrect."), std::string::npos) << res.body();
}

}  // namespace
}  // namespace verbatim::api
