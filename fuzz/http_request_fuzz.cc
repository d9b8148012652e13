// libFuzzer target: the HTTP request path. Bytes go through a Boost.Beast
// request_parser<string_body> with the server's limits (headers 16 KiB, body
// 1 MiB), then through the real request flow: App::Handle on an App backed by
// a real SQLite store in a temp directory (created once, like `verbatim
// serve` builds it). Up to 8 pipelined requests per input, as on a keep-alive
// connection; a request the parser refuses gets the server's read-error answer.
//
// So that the fuzzer reaches past authentication, these placeholders are
// replaced before parsing (in the request line and headers) and in the body:
//   $T  an access token with every scope (System Administrator)
//   $R  an access token of the same client with only recording:read
//   $B  base64 of that client's "id:secret" (for "Authorization: Basic $B")
//   $I  that client's id            $S  its secret
//   $C  the id of a live conversation
// If an input deletes the client, revokes its token or ends the conversation,
// the harness provisions fresh ones (so most crashes reproduce from one input;
// a few may depend on state an earlier input left in the store).
//
// Invariants: nothing crashes; every response has a status in 200..599;
// no header contains CR, LF or NUL; JSON responses parse; every 4xx/5xx has a
// JSON object body carrying X-Context-Id (docs/api.md §3 shape, or RFC 6749 shape on
// /oauth/*); no 500 (bad input must be a 4xx, never an internal error).
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transports/http/app.h"
#include "authz/catalog.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "oauth/client_secret.h"
#include "store/store.h"

using namespace verbatim;       // NOLINT: fuzz harness
using namespace verbatim::api;  // NOLINT: fuzz harness
namespace beast = boost::beast;

namespace {

constexpr size_t kMaxHeaderBytes = 16 << 10;  // HttpServerOptions defaults
constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr int kMaxRequestsPerInput = 8;

struct Env {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<App> app;
  std::string client_id, secret, token_all, token_read, basic, conversation_id;
  bool verbose = false;  // VERBATIM_FUZZ_VERBOSE=1: one line per request (to check seeds)
};
Env* env = nullptr;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "http_request_fuzz: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

HttpResponse Call(const std::string& method, const std::string& target, const std::string& body) {
  RawRequest raw;
  raw.method_string(method);
  raw.target(target);
  raw.version(11);
  raw.set(beast::http::field::host, "127.0.0.1:8080");
  raw.set(beast::http::field::authorization, "Bearer " + env->token_all);
  if (!body.empty()) raw.set(beast::http::field::content_type, "application/json");
  raw.body() = body;
  raw.prepare_payload();
  HttpRequest req{raw, target, "", "127.0.0.1", std::chrono::steady_clock::now()};
  return env->app->Handle(req);
}

// A client with every scope and the System Administrator role, and its tokens.
void ProvisionClient() {
  store::OAuthClient c;
  c.id = NewUuid();
  c.name = "fuzz-admin";
  for (const auto& s : authz::AllScopes()) c.allowed_scopes.push_back(s.name);
  c.allowed_grant_types = {"client_credentials"};
  auto role = env->app->directory().FindRoleByName("System Administrator");
  if (!role) Die("no System Administrator role");
  c.role_ids.push_back(role->id);
  std::string secret = oauth::NewClientSecret();
  c.secret_hash = oauth::HashClientSecret(secret);
  c.created_at = c.updated_at = SystemClock::Instance().Now();
  if (Status s = env->app->directory().CreateClient(c); !s.ok()) Die("creating the client: " + s.ToString());
  auto all = env->app->tokens().Issue(c, c.allowed_scopes);
  auto read = env->app->tokens().Issue(c, {"recording:read"});
  if (!all.ok() || !read.ok()) Die("issuing tokens");
  env->client_id = c.id;
  env->secret = secret;
  env->token_all = all->access_token;
  env->token_read = read->access_token;
  env->basic = Base64Encode(c.id + ":" + secret);
}

void ProvisionConversation() {
  HttpResponse res = Call("POST", "/api/v2/conversations",
                          R"({"participants":[{"name":"Alice","purpose":"customer"},{"name":"Bob","purpose":"agent"}]})");
  auto body = ParseJsonObject(res.body());
  if (res.result_int() != 201 || !body.ok() || !body->contains("id") || !body->at("id").is_string())
    Die("creating a conversation: " + std::to_string(res.result_int()) + " " + res.body());
  env->conversation_id = std::string(body->at("id").get_string());
}

// Re-provisions what an input may have destroyed.
void Repair() {
  bool client_ok = env->app->directory().FindClient(env->client_id).has_value() &&
                   env->app->tokens().CheckAuthorization("Bearer " + env->token_all).ok() &&
                   env->app->tokens().CheckAuthorization("Bearer " + env->token_read).ok();
  if (!client_ok) ProvisionClient();
  auto conv = env->app->store().GetConversation(env->conversation_id);
  if (!conv.ok() || conv->ended_at) ProvisionConversation();
}

void Init() {
  env = new Env;
  env->verbose = std::getenv("VERBATIM_FUZZ_VERBOSE") != nullptr;
  InitLogging("error");
  spdlog::set_level(spdlog::level::off);  // request logs and expected errors are noise here
  std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-http-fuzz-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
  env->dir = tmpl;
  std::filesystem::create_directories(env->dir / "media");
  store::SqliteOptions sopts;
  sopts.path = (env->dir / "verbatim.db").string();
  auto store = store::OpenSqliteStore(sopts, SystemClock::Instance());
  if (!store.ok()) Die("opening the store: " + store.status().ToString());
  env->store = std::move(*store);
  AppConfig cfg;
  cfg.issuer = "http://127.0.0.1:8080";
  cfg.audience = cfg.issuer + "/api";
  cfg.media_dir = (env->dir / "media").string();
  cfg.secrets = std::make_shared<SecretBox>(KeyEncryptionKey::Generate());
  // Rate limits would turn most inputs into 429s after the first second.
  cfg.limits.token_per_client = 1e9;
  cfg.limits.auth_failures_per_ip = 1e9;
  cfg.limits.auth_failure_burst = 1e9;
  env->app = std::make_unique<App>(cfg, *env->store, SystemClock::Instance());
  if (Status s = env->app->Init(); !s.ok()) Die("App::Init: " + s.ToString());
  env->app->SetReady(true);
  ProvisionClient();
  ProvisionConversation();
  // The directory is removed when the process exits normally; libFuzzer exits
  // through exit(), which runs this.
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(env->dir, ec);
  });
}

std::string Substitute(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '$' && i + 1 < in.size()) {
      const std::string* rep = nullptr;
      switch (in[i + 1]) {
        case 'T': rep = &env->token_all; break;
        case 'R': rep = &env->token_read; break;
        case 'B': rep = &env->basic; break;
        case 'I': rep = &env->client_id; break;
        case 'S': rep = &env->secret; break;
        case 'C': rep = &env->conversation_id; break;
        default: break;
      }
      if (rep) {
        out += *rep;
        ++i;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

void CheckResponse(const HttpResponse& res, std::string_view path, std::string_view input) {
  auto fail = [&](const std::string& why) {
    Die("invariant violated: " + why + "\n  status " + std::to_string(res.result_int()) + ", body: " +
        res.body().substr(0, 2000) + "\n  input: " + std::string(input.substr(0, 2000)));
  };
  const int status = static_cast<int>(res.result_int());
  if (status < 200 || status > 599) fail("status out of range");
  for (const auto& f : res) {
    for (char c : f.name_string())
      if (c == '\r' || c == '\n' || c == '\0' || c == ':') fail("bad header name");
    for (char c : f.value())
      if (c == '\r' || c == '\n' || c == '\0') fail("header value with CR/LF/NUL: " + std::string(f.name_string()));
  }
  std::string_view ctype = res[beast::http::field::content_type];
  const bool is_json = ctype.substr(0, 16) == "application/json";
  std::optional<json::value> body;
  if (is_json) {
    auto v = ParseJsonStrict(res.body(), JsonLimits{.max_depth = 64, .max_bytes = SIZE_MAX});
    if (!v.ok()) fail("JSON response does not parse: " + v.status().message());
    body = std::move(*v);
  }
  if (status == 500) fail("500 for client input");
  if (status < 400) return;
  if (!body || !body->is_object()) fail("error response without a JSON object body");
  const json::object& o = body->get_object();
  std::string_view context_id = res["X-Context-Id"];
  auto str = [&](std::string_view k) -> std::string_view {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_string()) return {};
    return {it->value().get_string().data(), it->value().get_string().size()};
  };
  if (context_id.empty() || str("contextId") != context_id) fail("contextId missing or not X-Context-Id");
  const bool oauth_shape = path.substr(0, 7) == "/oauth/" && !str("error").empty();
  if (oauth_shape) return;
  auto st = o.find("status");
  if (st == o.end() || !st->value().is_int64() || st->value().get_int64() != status) fail("body status != status");
  if (str("code").empty() || str("message").empty()) fail("error body without code or message");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string bytes;
  std::string_view rest = input;

  for (int n = 0; n < kMaxRequestsPerInput && !rest.empty(); ++n) {
    // Placeholders in this request's head (up to the first blank line) change
    // its length, so they are replaced before the parser reads Content-Length.
    size_t head_end = rest.find("\r\n\r\n");
    head_end = head_end == std::string_view::npos ? rest.size() : head_end + 4;
    bytes = Substitute(rest.substr(0, head_end)) + std::string(rest.substr(head_end));
    rest = bytes;

    beast::http::request_parser<beast::http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(kMaxHeaderBytes));
    parser.body_limit(kMaxBodyBytes);
    parser.eager(true);
    beast::error_code ec;
    while (!ec && !parser.is_done()) {
      size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == beast::http::error::need_more || (!ec && used == 0)) {
        ec = {};
        parser.put_eof(ec);  // everything there is has been given: end of stream
        if (!ec && !parser.is_done()) ec = beast::http::error::partial_message;
      }
    }
    if (ec) {
      // What HttpServer does when it cannot read a request: answer once, close.
      if (!parser.got_some() && ec == beast::http::error::partial_message) return 0;
      int status = ec == beast::http::error::body_limit ? 413 : ec == beast::http::error::header_limit ? 431 : 400;
      HttpResponse res = env->app->RenderReadError(status, status == 413 ? "payload.too.large" : "bad.request",
                                                   "The request is not valid HTTP/1.1 (" + ec.message() + ").");
      if (static_cast<int>(res.result_int()) != status) Die("RenderReadError changed the status");
      CheckResponse(res, "", input);
      break;
    }
    RawRequest req = parser.release();
    std::string target(req.target());
    size_t q = target.find('?');
    std::string path = target.substr(0, q);
    // Upgrades on the AudioHook path go to the WebSocket endpoint, not to App.
    if (beast::websocket::is_upgrade(req) && path == "/api/v2/media/audiohook") continue;
    req.body() = Substitute(req.body());
    if (req.has_content_length()) req.content_length(req.body().size());
    HttpRequest request{req, path, q == std::string::npos ? std::string() : target.substr(q + 1), "127.0.0.1",
                        std::chrono::steady_clock::now()};
    HttpResponse res = env->app->Handle(request);
    if (env->verbose)
      std::fprintf(stderr, "http_request_fuzz: %s %s -> %d %.200s\n", std::string(req.method_string()).c_str(),
                   path.c_str(), static_cast<int>(res.result_int()), res.body().c_str());
    CheckResponse(res, path, input);
    if (!req.keep_alive()) break;
  }
  Repair();
  return 0;
}
