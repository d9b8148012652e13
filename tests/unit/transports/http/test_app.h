// Shared fixture for API tests: a real App on a real SQLite store in a fresh
// temp directory (as `verbatim serve` builds it), plus helpers to create
// clients, issue tokens and send requests through App::Handle without sockets.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "transports/http/app.h"
#include "transports/http/file_slice.h"
#include "authz/catalog.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/secret_box.h"
#include "oauth/client_secret.h"
#include "oauth/password_hash.h"
#include "store/store.h"

namespace verbatim::api::testing_util {

struct TestClient {
  std::string id;
  std::string secret;
};

class TestApp {
 public:
  // Creates the data dir, opens the store and initializes the App. Check ok().
  // `configure` may adjust the AppConfig (limits, issuer) before the App is built;
  // `wrap_store` may put a decorator (e.g. a fault-injecting one) around the store.
  using StoreWrapper = std::function<std::unique_ptr<store::Store>(std::unique_ptr<store::Store>)>;
  explicit TestApp(const Clock& clock = SystemClock::Instance(),
                   const std::function<void(AppConfig&)>& configure = nullptr, const StoreWrapper& wrap_store = nullptr)
      : clock_(clock) {
    // Request logs are noise in test output; VERBATIM_TEST_LOG=1 keeps them.
    if (!std::getenv("VERBATIM_TEST_LOG")) spdlog::set_level(spdlog::level::warn);
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-api-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      status_ = Status::Internal("mkdtemp failed");
      return;
    }
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "media");
    store::SqliteOptions sopts;
    sopts.path = (dir_ / "verbatim.db").string();
    auto store = store::OpenSqliteStore(sopts, clock_);
    if (!store.ok()) {
      status_ = store.status();
      return;
    }
    store_ = std::move(*store);
    if (wrap_store) store_ = wrap_store(std::move(store_));
    AppConfig cfg;
    cfg.issuer = "http://127.0.0.1:8080";
    cfg.audience = cfg.issuer + "/api";
    cfg.media_dir = (dir_ / "media").string();
    cfg.secrets = std::make_shared<SecretBox>(KeyEncryptionKey::Generate());
    if (configure) configure(cfg);
    app_ = std::make_unique<App>(cfg, *store_, clock_);
    status_ = app_->Init();
  }

  ~TestApp() {
    app_.reset();  // stops the audit writer before the store goes away
    store_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  TestApp(const TestApp&) = delete;
  TestApp& operator=(const TestApp&) = delete;

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  App& app() { return *app_; }
  store::Store& store() { return *store_; }
  const std::filesystem::path& dir() const { return dir_; }

  // Creates a client_credentials client with the given allowed scopes and
  // built-in or custom roles (by id or name).
  TestClient CreateClient(const std::string& name, std::vector<std::string> scopes,
                          const std::vector<std::string>& roles) {
    TestClient out{NewUuid(), oauth::NewClientSecret()};
    store::OAuthClient c;
    c.id = out.id;
    c.name = name;
    c.allowed_scopes = std::move(scopes);
    c.allowed_grant_types = {"client_credentials"};
    for (const auto& r : roles) {
      auto role = app_->directory().ResolveRoleRef(r);
      EXPECT_TRUE(role.has_value()) << "no role " << r;
      if (role) c.role_ids.push_back(role->id);
    }
    c.secret_hash = oauth::HashClientSecret(out.secret);
    c.created_at = c.updated_at = clock_.Now();
    Status s = app_->directory().CreateClient(c);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  // Creates a user (a person who signs in) with built-in or custom roles (by
  // id or name) and, when given, a password (hashed with Argon2id: slow, so
  // only for tests that sign in). Returns its id.
  std::string CreateUser(const std::string& username, const std::vector<std::string>& roles,
                         const std::string& password = {}) {
    store::User u;
    u.id = NewUuid();
    u.username = username;
    for (const auto& r : roles) {
      auto role = app_->directory().ResolveRoleRef(r);
      EXPECT_TRUE(role.has_value()) << "no role " << r;
      if (role) u.role_ids.push_back(role->id);
    }
    if (!password.empty()) {
      auto hash = oauth::HashPassword(password);
      EXPECT_TRUE(hash.ok()) << hash.status().ToString();
      if (hash.ok()) u.password_hash = *hash;
    }
    u.created_at = u.updated_at = clock_.Now();
    Status s = app_->directory().CreateUser(u);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return u.id;
  }

  // An admin client with every scope and the System Administrator role.
  TestClient CreateAdmin(const std::string& name = "test-admin") {
    std::vector<std::string> all;
    for (const auto& s : authz::AllScopes()) all.push_back(s.name);
    return CreateClient(name, all, {"System Administrator"});
  }

  // A token of a new full administrator carrying every scope: the delegation
  // ceiling counts what the token can use, not only the roles.
  std::string AdminTokenWithEveryScope(const std::string& name = "test-admin") {
    auto admin = CreateAdmin(name);
    std::vector<std::string> all;
    for (const auto& s : authz::AllScopes()) all.push_back(s.name);
    return Token(admin.id, all);
  }

  // Issues an access token for the client (no HTTP round trip).
  std::string Token(const std::string& client_id, const std::vector<std::string>& scopes) {
    auto client = app_->directory().FindClient(client_id);
    EXPECT_TRUE(client.has_value()) << "no client " << client_id;
    if (!client) return {};
    auto issued = app_->tokens().Issue(*client, scopes);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? issued->access_token : std::string();
  }

  // Sends one request through App::Handle. `target` may carry a query string.
  // A non-empty `token` becomes "Authorization: Bearer <token>"; pass other
  // headers in `headers` (they win over the defaults).
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& token = {},
                    const std::string& body = {},
                    std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
    return CallFrom("127.0.0.1", method, target, token, body, headers);
  }
  // The same, from client address `remote_ip`.
  HttpResponse CallFrom(const std::string& remote_ip, const std::string& method, const std::string& target,
                        const std::string& token = {}, const std::string& body = {},
                        std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
    RawRequest raw;
    raw.method_string(method);
    raw.target(target);
    raw.version(11);
    raw.set(http::field::host, "127.0.0.1:8080");
    if (!token.empty()) raw.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) raw.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) raw.set(k, v);
    raw.body() = body;
    raw.prepare_payload();
    auto q = target.find('?');
    HttpRequest req{raw, target.substr(0, q), q == std::string::npos ? std::string() : target.substr(q + 1),
                    remote_ip, std::chrono::steady_clock::now()};
    HttpResponse res = app_->Handle(req);
    // What HttpServer would stream from a file, read here.
    if (auto slice = DetachFileSlice(res)) {
      EXPECT_TRUE(ReadFileSlice(*slice, res.body())) << slice->path;
    }
    return res;
  }

  // The JSON body of a response (null if it is not JSON).
  static json::value Body(const HttpResponse& res) {
    auto v = ParseJsonStrict(res.body());
    return v.ok() ? std::move(*v) : json::value(nullptr);
  }

 private:
  const Clock& clock_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<App> app_;
  Status status_;
};

}  // namespace verbatim::api::testing_util
