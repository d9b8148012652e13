// The console's backend-for-frontend (docs/console.md) through App::HandleAsync
// on a real SQLite store, as a browser drives it: the redirect to sign-in,
// the PKCE round trip through /oauth/authorize, the session cookie, the API
// behind it with the session's token, CSRF and Origin on writes, renewal of
// the access token (once, however many requests wait), sign-out and a
// disabled user ending the session.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <regex>

#include "authz/catalog.h"
#include "core/secret_box.h"
#include "oauth/form.h"
#include "service/console_client.h"
#include "transports/console/gateway.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::console {
namespace {

using api::HttpResponse;
using api::testing_util::TestApp;

constexpr char kPassword[] = "correct horse battery";

// A browser's cookie jar, reduced to what the console sets.
struct Browser {
  std::map<std::string, std::string> cookies;
  std::vector<std::string> set_cookie_lines;

  std::string Header() const {
    std::string out;
    for (const auto& [k, v] : cookies) out += (out.empty() ? "" : "; ") + k + "=" + v;
    return out;
  }
  void Take(const HttpResponse& res) {
    for (auto it = res.find(api::http::field::set_cookie); it != res.end() && it->name() == api::http::field::set_cookie;
         ++it) {
      std::string line(it->value());
      set_cookie_lines.push_back(line);
      std::string pair = line.substr(0, line.find(';'));
      std::string name = pair.substr(0, pair.find('='));
      if (line.find("Max-Age=0") != std::string::npos) cookies.erase(name);
      else cookies[name] = pair.substr(pair.find('=') + 1);
    }
  }
};

class ConsoleGateway : public ::testing::Test {
 protected:
  ConsoleGateway() : t_(clock_, [](api::AppConfig& c) { c.console = true; }) {}

  void SetUp() override {
    ASSERT_TRUE(t_.ok()) << t_.status().ToString();
    user_id_ = t_.CreateUser("alice", {"System Administrator"}, kPassword);
  }

  // One request through HandleAsync (which is where /console is routed), as `b`.
  HttpResponse Send(Browser& b, const std::string& method, const std::string& target, const std::string& body = {},
                    std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
    api::RawRequest raw;
    raw.method_string(method);
    raw.target(target);
    raw.version(11);
    if (!b.cookies.empty()) raw.set(api::http::field::cookie, b.Header());
    for (const auto& [k, v] : headers) raw.set(k, v);
    raw.body() = body;
    raw.prepare_payload();
    auto q = target.find('?');
    auto req = std::make_shared<const api::OwnedRequest>(std::move(raw), target.substr(0, q),
                                                         q == std::string::npos ? "" : target.substr(q + 1), "127.0.0.1");
    std::promise<HttpResponse> done;
    auto answer = done.get_future();
    t_.app().HandleAsync(req, [&done](HttpResponse r) { done.set_value(std::move(r)); });
    HttpResponse res = answer.get();
    b.Take(res);
    return res;
  }

  static std::string Location(const HttpResponse& res) { return std::string(res[api::http::field::location]); }

  // The whole sign-in: /console → /console/login → the form → the callback.
  void SignIn(Browser& b) {
    auto login = Send(b, "GET", "/console/login");
    ASSERT_EQ(login.result_int(), 303);
    auto page = Send(b, "GET", Location(login));
    ASSERT_EQ(page.result_int(), 200) << page.body();
    std::string html = page.body(), form;
    const std::regex field(R"re(name="([^"]+)" value="([^"]*)")re");
    for (std::sregex_iterator it(html.begin(), html.end(), field), end; it != end; ++it) {
      std::string value = std::regex_replace((*it)[2].str(), std::regex("&amp;"), "&");
      form += (form.empty() ? "" : "&") + (*it)[1].str() + "=" + oauth::PercentEncode(value);
    }
    form += "&username=alice&password=" + oauth::PercentEncode(kPassword);
    auto posted = Send(b, "POST", "/oauth/authorize", form, {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(posted.result_int(), 303) << posted.body();
    std::string back = Location(posted);
    ASSERT_EQ(back.rfind("http://127.0.0.1:8080/console/callback?", 0), 0u) << back;
    auto callback = Send(b, "GET", back.substr(std::string("http://127.0.0.1:8080").size()));
    ASSERT_EQ(callback.result_int(), 303) << callback.body();
    ASSERT_EQ(Location(callback), "/console/");
    ASSERT_TRUE(b.cookies.count("verbatim_console"));
  }

  std::string Csrf(Browser& b) {
    auto s = Send(b, "GET", "/console/session");
    EXPECT_EQ(s.result_int(), 200) << s.body();
    return std::string(TestApp::Body(s).at("csrfToken").as_string());
  }

  static std::string Code(const HttpResponse& res) {
    auto body = TestApp::Body(res);
    return body.is_object() && body.as_object().contains("code") ? std::string(body.at("code").as_string()) : "";
  }

  FakeClock clock_{SystemClock::Instance().Now()};
  TestApp t_;
  std::string user_id_;
};

TEST_F(ConsoleGateway, ThePageSendsStrangersToSignInWithPkceAndABoundState) {
  Browser b;
  auto page = Send(b, "GET", "/console/");
  EXPECT_EQ(page.result_int(), 303);
  EXPECT_EQ(Location(page), "/console/login");
  EXPECT_NE(std::string(page["Content-Security-Policy"]).find("script-src 'self'"), std::string::npos);

  auto login = Send(b, "GET", "/console/login");
  ASSERT_EQ(login.result_int(), 303);
  auto q = oauth::ParseForm(Location(login).substr(Location(login).find('?') + 1));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->Get("client_id"), service::kConsoleClientId);
  EXPECT_EQ(q->Get("redirect_uri"), "http://127.0.0.1:8080/console/callback");
  EXPECT_EQ(q->Get("code_challenge_method"), "S256");
  EXPECT_EQ(q->Get("code_challenge").size(), 43u);
  ASSERT_FALSE(q->Get("state").empty());
  const std::string sealed = b.cookies["verbatim_console_login"];
  EXPECT_TRUE(SecretBox::IsEnvelope(sealed)) << "the verifier travels sealed: " << sealed;
  EXPECT_EQ(sealed.find(q->Get("state")), std::string::npos);
  EXPECT_NE(b.set_cookie_lines.back().find("HttpOnly; SameSite=Strict"), std::string::npos);

  auto api = Send(b, "GET", "/console/api/v2/tokens/me");
  EXPECT_EQ(api.result_int(), 401);
  EXPECT_EQ(Code(api), "console.signed.out");
}

TEST_F(ConsoleGateway, ASignedInPersonGetsThePageAndTheApiAsThemselves) {
  Browser b;
  SignIn(b);
  EXPECT_NE(b.set_cookie_lines.back().find("Path=/console; HttpOnly; SameSite=Strict"), std::string::npos);
  EXPECT_FALSE(b.cookies.count("verbatim_console_login")) << "the login cookie is spent";

  auto page = Send(b, "GET", "/console/");
  ASSERT_EQ(page.result_int(), 200);
  EXPECT_EQ(page[api::http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(page[api::http::field::cache_control], "no-store");
  EXPECT_EQ(page["Content-Security-Policy"], kConsoleCsp);

  auto session = Send(b, "GET", "/console/session");
  ASSERT_EQ(session.result_int(), 200);
  auto s = TestApp::Body(session);
  EXPECT_EQ(s.at("user").at("username").as_string(), "alice");
  EXPECT_EQ(s.at("user").at("roles").at(0).at("name").as_string(), "System Administrator");
  EXPECT_EQ(s.at("csrfToken").as_string().size(), 43u);
  EXPECT_EQ(session.body().find("access_token"), std::string::npos) << "no token reaches the browser";

  auto me = Send(b, "GET", "/console/api/v2/tokens/me");
  ASSERT_EQ(me.result_int(), 200) << me.body();
  auto m = TestApp::Body(me);
  EXPECT_EQ(m.at("principal").at("type").as_string(), "user");
  EXPECT_EQ(m.at("principal").at("id").as_string(), user_id_);
}

TEST_F(ConsoleGateway, ACallbackWhoseStateThisBrowserDidNotStartIsRefused) {
  Browser victim, attacker;
  auto login = Send(attacker, "GET", "/console/login");
  auto q = oauth::ParseForm(Location(login).substr(Location(login).find('?') + 1));
  const std::string state = q->Get("state");
  const std::string iss = "&iss=http%3A%2F%2F127.0.0.1%3A8080";
  // The attacker's state (and code) planted in the victim's browser: no login cookie there.
  auto planted = Send(victim, "GET", "/console/callback?code=planted&state=" + state + iss);
  EXPECT_EQ(planted.result_int(), 400);
  EXPECT_FALSE(victim.cookies.count("verbatim_console"));
  EXPECT_NE(planted.body().find("not started from this browser"), std::string::npos) << planted.body();

  // The victim's own login cookie does not open for the attacker's state either.
  Send(victim, "GET", "/console/login");
  auto swapped = Send(victim, "GET", "/console/callback?code=planted&state=" + state + iss);
  EXPECT_EQ(swapped.result_int(), 400);
  EXPECT_NE(swapped.body().find("not started from this browser"), std::string::npos) << swapped.body();

  // A sign-in takes at most ten minutes.
  auto again = Send(attacker, "GET", "/console/login");
  auto q2 = oauth::ParseForm(Location(again).substr(Location(again).find('?') + 1));
  clock_.Advance(std::chrono::seconds(601));
  auto late = Send(attacker, "GET", "/console/callback?code=x&state=" + q2->Get("state") + iss);
  EXPECT_EQ(late.result_int(), 400);
  EXPECT_NE(late.body().find("longer than 10 minutes"), std::string::npos) << late.body();
  EXPECT_FALSE(attacker.cookies.count("verbatim_console_login")) << "a refused callback clears the login cookie";
}

TEST_F(ConsoleGateway, WritesNeedTheSessionsCsrfTokenAndThisOrigin) {
  Browser b;
  SignIn(b);
  const std::string csrf = Csrf(b);
  const std::string body = R"({"participants":[{"name":"Ann","purpose":"customer"}]})";
  const std::pair<std::string, std::string> json = {"Content-Type", "application/json"};

  auto none = Send(b, "POST", "/console/api/v2/conversations", body, {json});
  EXPECT_EQ(none.result_int(), 403);
  EXPECT_EQ(Code(none), "console.csrf");
  auto wrong = Send(b, "POST", "/console/api/v2/conversations", body, {json, {"X-CSRF-Token", csrf + "x"}});
  EXPECT_EQ(wrong.result_int(), 403);
  auto elsewhere = Send(b, "POST", "/console/api/v2/conversations", body,
                        {json, {"X-CSRF-Token", csrf}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(elsewhere.result_int(), 403);
  EXPECT_NE(elsewhere.body().find("another site"), std::string::npos);
  auto ok = Send(b, "POST", "/console/api/v2/conversations", body,
                 {json, {"X-CSRF-Token", csrf}, {"Origin", "http://127.0.0.1:8080"}});
  EXPECT_EQ(ok.result_int(), 201) << ok.body();
  auto list = Send(b, "GET", "/console/api/v2/conversations");
  EXPECT_EQ(TestApp::Body(list).at("entities").as_array().size(), 1u) << "only the accepted write was done";
}

TEST_F(ConsoleGateway, AnExpiringTokenIsRenewedOnceForEveryoneWaiting) {
  Browser b;
  SignIn(b);
  auto issued = [&] {
    return t_.app().metrics().CounterValue("verbatim_tokens_issued_total", {{"grant_type", "refresh_token"}});
  };
  const uint64_t before = issued();
  clock_.Advance(std::chrono::seconds(590));  // the console's tokens live 600 s; renewal starts 60 s before

  // Several requests at once: the first starts the renewal, the others wait for it.
  std::vector<std::future<int>> answers;
  for (int i = 0; i < 4; ++i)
    answers.push_back(std::async(std::launch::async, [&] {
      Browser copy = b;
      return static_cast<int>(Send(copy, "GET", "/console/api/v2/tokens/me").result_int());
    }));
  for (auto& a : answers) EXPECT_EQ(a.get(), 200);
  EXPECT_EQ(issued(), before + 1) << "one refresh, not one per request (a second use would revoke the sign-in)";
  EXPECT_EQ(Send(b, "GET", "/console/api/v2/tokens/me").result_int(), 200) << "the sign-in is intact";
}

TEST_F(ConsoleGateway, SigningOutEndsTheSessionAndTheSignIn) {
  Browser b;
  SignIn(b);
  const std::string csrf = Csrf(b);
  Browser stolen = b;  // a copy of the cookie taken before sign-out
  EXPECT_EQ(Send(b, "POST", "/console/logout").result_int(), 403) << "sign-out needs the CSRF token too";
  auto out = Send(b, "POST", "/console/logout", "", {{"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.result_int(), 204);
  EXPECT_FALSE(b.cookies.count("verbatim_console"));
  auto after = Send(stolen, "GET", "/console/api/v2/tokens/me");
  EXPECT_EQ(after.result_int(), 401);
  EXPECT_EQ(Code(after), "console.signed.out");
  EXPECT_EQ(Send(stolen, "GET", "/console/").result_int(), 303);
}

TEST_F(ConsoleGateway, DisablingTheUserEndsTheSessionWithTheReason) {
  Browser b;
  SignIn(b);
  auto user = t_.app().directory().FindUser(user_id_);
  store::User disabled = *user;
  disabled.enabled = false;
  disabled.updated_at = clock_.Now();
  ASSERT_TRUE(t_.app().directory().UpdateUser(disabled).ok());
  auto res = Send(b, "GET", "/console/api/v2/tokens/me");
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(Code(res), "console.signed.out");
  EXPECT_NE(TestApp::Body(res).at("message").as_string().find("alice"), std::string::npos) << res.body();
  EXPECT_EQ(Send(b, "GET", "/console/session").result_int(), 401) << "the session is gone";
}

TEST_F(ConsoleGateway, AssetsAreServedWithValidatorsAndOnlyByPlainNames) {
  Browser b;
  auto index = Send(b, "GET", "/console/assets/index.html");
  ASSERT_EQ(index.result_int(), 200);
  const std::string etag(index[api::http::field::etag]);
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Send(b, "GET", "/console/assets/index.html", "", {{"If-None-Match", etag}}).result_int(), 304);
  for (const char* bad : {"/console/assets/../gateway.cc", "/console/assets/%2e%2e/x", "/console/assets/.hidden",
                          "/console/assets/nope.js"})
    EXPECT_EQ(Send(b, "GET", bad).result_int(), 404) << bad;
  EXPECT_EQ(Send(b, "DELETE", "/console/session").result_int(), 405);
}

TEST_F(ConsoleGateway, TheConsoleClientIsRegisteredPublicAndKeepsAnAdministratorsChoices) {
  auto c = t_.app().directory().FindClient(std::string(service::kConsoleClientId));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_type, "public");
  EXPECT_TRUE(c->role_ids.empty()) << "a person's roles decide, not the console's";
  store::OAuthClient narrowed = *c;
  narrowed.allowed_scopes = {"recording:read"};
  narrowed.enabled = false;
  ASSERT_TRUE(t_.app().directory().UpdateClient(narrowed).ok());
  ASSERT_TRUE(service::EnsureConsoleClient(t_.app().directory(), "https://rec.example.com", clock_.Now()).ok());
  auto after = t_.app().directory().FindClient(std::string(service::kConsoleClientId));
  EXPECT_EQ(after->allowed_scopes, std::vector<std::string>{"recording:read"});
  EXPECT_FALSE(after->enabled);
  EXPECT_EQ(after->redirect_uris.size(), 2u) << "a second node's issuer is added, not swapped in";
}

TEST_F(ConsoleGateway, TheCatalogIsTheEnginesOwn) {
  Browser b;
  auto res = Send(b, "GET", "/console/catalog");
  ASSERT_EQ(res.result_int(), 200);
  auto body = TestApp::Body(res);
  ASSERT_EQ(body.at("permissions").as_array().size(), authz::KnownPermissions().size());
  EXPECT_EQ(body.at("permissions").at(0).at("name").as_string(), authz::KnownPermissions().front().permission);
  EXPECT_EQ(body.at("permissions").at(0).at("label").as_string(), authz::KnownPermissions().front().label);
  ASSERT_EQ(body.at("scopes").as_array().size(), authz::AllScopes().size());
  EXPECT_EQ(body.at("scopes").at(0).at("name").as_string(), authz::AllScopes().front().name);
}

}  // namespace
}  // namespace verbatim::console
