// App: the HTTP API. Owns routing, the request flow (context id → route →
// authorize → handler → audit → access log) and the services handlers use.
// Handlers live in routes_*.cc, one file per area, and stay thin:
// parse → authorize (pure) → act on the store → render.
//
// Thread-safe: Handle() runs concurrently on the server's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "service/audit_log.h"
#include "transports/http/context.h"
#include "transports/http/denial_cache.h"
#include "service/directory.h"
#include "service/metrics.h"
#include "service/authorizer.h"
#include "service/conversations.h"
#include "service/recording_feed.h"
#include "service/recordings.h"
#include "service/services.h"
#include "service/login_throttle.h"
#include "service/rate_limiter.h"
#include "transports/http/respond.h"
#include "transports/http/router.h"
#include "transports/siprec/trunk_registry.h"
#include "service/worker_pool.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/secret_box.h"
#include "oauth/sign_in_grants.h"
#include "oauth/token_service.h"
#include "store/store.h"

namespace verbatim::console {
class Gateway;
}

namespace verbatim::api {

class EventStreams;  // transports/http/event_streams.h

struct RateLimits {
  double token_per_client = 100;      // token requests/s per authenticated client (burst = 2 s worth)
  double auth_failures_per_ip = 10;   // failed authentications/s per source address
  double auth_failure_burst = 100;    // ... allowed in a burst before 429
  service::LoginLimits login;         // failed sign-ins per username and per address (docs/users.md)
};

struct AppConfig {
  std::string issuer;    // "http://127.0.0.1:8080"
  std::string audience;  // "{issuer}/api"
  std::string media_dir;
  RateLimits limits;
  size_t workers = 16;  // threads for handlers that write to the store (they wait on group commit)
  int audit_retention_days = 0;  // 0 = keep every audit event
  // Seals signing keys and integration secrets (docs/secrets-at-rest.md). Required.
  std::shared_ptr<const SecretBox> secrets;
  size_t audit_max_queued = 65536;  // audit events waiting for the writer before protected requests get 503
  std::vector<store::SipTrunk> config_trunks;  // [[siprec.trunks]] of the config file (docs/sip-trunks.md)
  bool dev_trunk = false;                      // serve --dev: the implicit loopback trunk
  bool console = false;             // serve the admin console at /console (docs/console.md); serve turns it on
  std::string console_assets_dir;   // VERBATIM_CONSOLE_ASSETS_DIR: its page from a directory
  std::chrono::milliseconds events_heartbeat{15000};  // GET /api/v2/events: a comment line this often
  bool webhook_allow_private = false;  // --webhook-allow-private: webhooks may target private addresses
  // This node (DATA_DIR/node-id). A media file recorded on another node is
  // downloaded there, through a signed redirect; "" = every file is local.
  std::string node_id;
};

// Hooks the media layer registers (the media hub, the SIPREC server, the
// AudioHook endpoint) so recording state changes reach live sessions.
struct RecordingListener {
  std::function<void(const std::string& conversation_id, const store::Recording& after)> on_change;
};

class App {
 public:
  App(AppConfig cfg, store::Store& store, const Clock& clock);
  ~App();

  Status Init();
  // Synchronous: everything on the calling thread (tests, fuzzing).
  HttpResponse Handle(const HttpRequest& req);
  // The server's entry point: handlers that write to the store run on the
  // worker pool, so many writes can share one group commit.
  void HandleAsync(std::shared_ptr<const OwnedRequest> req, Responder respond);
  // Errors found before a request could be read (size limits, bad HTTP).
  HttpResponse RenderReadError(int status, std::string code, std::string message);
  void SetReady(bool ready) { ready_ = ready; }
  void AddRecordingListener(RecordingListener l);
  void NotifyRecordingChanged(const std::string& conversation_id, const store::Recording& after);
  // Several nodes on one database (docs/deployment.md "Several nodes"): a
  // recording changed through another node reaches the live media this node
  // holds and its gRPC Watch streams. `live` lists the conversations whose
  // media is here; when another node commits a change to one of them or to
  // one a Watch follows (or the watch reconnects), the recording is read back
  // and published as if the change were made here. Null stops following the
  // media (before the media layer goes away).
  void FollowOtherNodes(std::function<std::vector<std::string>()> live);

  // --- services for handlers ---
  const AppConfig& config() const { return cfg_; }
  store::Store& store() { return store_; }
  const Clock& clock() const { return clock_; }
  const SecretBox& secrets() const { return *cfg_.secrets; }
  oauth::TokenService& tokens() { return *tokens_; }
  oauth::SignInGrants& sign_ins() { return *sign_ins_; }
  service::LoginThrottle& login_throttle() { return login_throttle_; }
  service::Directory& directory() { return directory_; }
  service::AuditLog& audit() { return *audit_; }
  service::Metrics& metrics() { return metrics_; }
  TrunkRegistry& sip_trunks() { return *sip_trunks_; }
  service::Authorizer& authorizer() { return *authorizer_; }
  const service::ChangeHistory& history() const { return *history_; }
  EventStreams& events() { return *events_; }  // GET /api/v2/events (transports/http/event_streams.h)
  service::Recordings& recordings() { return *recordings_; }
  service::Conversations& conversations() { return *conversations_; }
  service::RecordingFeed& recording_feed() { return feed_; }
  // The transport-free core, for the other transports (after Init).
  service::Services services() {
    return {store_, clock_, *tokens_, directory_, *authorizer_, *audit_, metrics_, feed_, *recordings_, *conversations_};
  }
  const Router& router() const { return router_; }
  bool ready() const { return ready_.load(); }

  // --- request flow helpers ---
  // Runs token → scope → permission for ctx.route (kPermission) or token only
  // (kToken) through the shared service::Authorizer, with this transport's
  // cache of rendered denials. Fills ctx.decision/principal/token. True if allowed so far.
  bool Authorize(RequestContext& ctx, std::string resource);
  // service::Authorizer's, for the handlers that count failures themselves (the token endpoint).
  std::optional<service::RateLimiter::Verdict> AuthBlocked(std::string_view ip, std::string_view client_id = {}) {
    return authorizer_->AuthBlocked(ip, client_id);
  }
  void CountAuthFailure(std::string_view ip, std::string_view client_id = {}) {
    authorizer_->CountAuthFailure(ip, client_id);
  }
  size_t RateLimiterKeys() const;  // buckets held by every limiter (a metric)
  service::RateLimiter::Verdict TakeTokenRequest(std::string_view client_id);
  HttpResponse TooManyRequests(RequestContext& ctx, std::chrono::seconds retry_after, std::string message);
  // Builds an authz::Request for a token check (also used by the simulator).
  authz::Request MakeAuthzRequest(const authz::TokenCheck& token, std::string action, std::string resource) {
    return authorizer_->MakeRequest(token, std::move(action), std::move(resource));
  }
  // The whole decision (token, scope, permission) for another permission of
  // the same token: what a handler checks beyond its route's own permission.
  authz::Decision DecideFor(const authz::TokenCheck& token, std::string_view permission, std::string resource) {
    return authorizer_->Decide(token, std::string(permission), std::move(resource));
  }
  // Who makes the change an authorized request asks for, for the change log
  // (docs/changes.md). Call after Authorize succeeded.
  store::ChangeAuthor AuthorOf(const RequestContext& ctx) const;
  HttpResponse Deny(RequestContext& ctx);                       // renders ctx.decision
  HttpResponse Fail(RequestContext& ctx, const Status& status);  // store/parse errors
  // A use case's refusal (service/outcome.h) as this transport says it.
  HttpResponse Refuse(RequestContext& ctx, const service::Refusal& refusal);
  HttpResponse BadRequest(RequestContext& ctx, std::string message, std::string_view field = {},
                          std::string_view expected = {}, std::string_view fix = {});
  // The common start of a handler on /…/{param}: authorize for "<kind>/<id>",
  // then require a UUID. Returns the id, or nullopt with the response in `out`.
  std::optional<std::string> AuthorizePathId(RequestContext& ctx, std::string_view param, std::string_view kind,
                                             HttpResponse& out);
  // Loads the recording of an authorized conversation; 404 through the
  // decision when it does not exist.
  std::optional<store::Recording> LoadRecording(RequestContext& ctx, const std::string& conversation_id,
                                                HttpResponse& out);
  // Path ids are UUIDs; anything else is a 400 (never a lookup, never a file path).
  std::optional<HttpResponse> RequireUuid(RequestContext& ctx, const std::string& value, std::string_view what);
  // Checks Content-Type is JSON when there is a body; parses it (empty body → {}).
  std::optional<json::object> JsonBody(RequestContext& ctx, HttpResponse& error_out);
  // Builds the audit event for ctx with the given outcome.
  store::AuditEvent AuditEventFor(const RequestContext& ctx, int status) const;
  // Records `e`, the audit event of ctx: a denial of a caller who proved no
  // identity is aggregated per address (docs/decisions.md "Unauthenticated
  // denials are aggregated").
  void Audit(const RequestContext& ctx, store::AuditEvent e);

 private:
  void RegisterRoutes();
  // Other nodes' commits (store::Store::WatchChanges): reloads what they changed.
  void OnStoreChanges(const std::vector<store::Change>& changes);
  // Publishes the recordings of `ids` (all live ones on a resync) that are
  // newer than what this node last published for them.
  void PublishOtherNodesChanges(const std::vector<std::string>& ids, bool resync);
  void RecordAudit(RequestContext& ctx, int status);
  bool MediaOwnerExists(const std::string& type, const std::string& id);

  const AppConfig cfg_;
  store::Store& store_;
  const Clock& clock_;
  Router router_;
  service::Directory directory_;
  DenialCache denials_;
  std::unique_ptr<oauth::TokenService> tokens_;
  std::unique_ptr<oauth::SignInGrants> sign_ins_;
  service::LoginThrottle login_throttle_;
  std::unique_ptr<service::ChangeHistory> history_;  // what changed, for denials
  std::unique_ptr<service::Authorizer> authorizer_;
  service::RecordingFeed feed_;
  Mutex published_mu_;  // the newest recording version published per conversation: a change
                        // this node made comes back through the watch and is not published twice
  std::unordered_map<std::string, int64_t> published_ GUARDED_BY(published_mu_);
  std::function<std::vector<std::string>()> live_media_ GUARDED_BY(published_mu_);
  std::unique_ptr<service::Recordings> recordings_;
  std::unique_ptr<service::Conversations> conversations_;
  std::unique_ptr<service::AuditLog> audit_;
  std::unique_ptr<TrunkRegistry> sip_trunks_;
  std::unique_ptr<service::WorkerPool> workers_;
  std::unique_ptr<console::Gateway> console_;  // /console (transports/console/gateway.h)
  std::unique_ptr<store::ChangeWatch> store_watch_;  // null for a store no other process writes
  std::unique_ptr<EventStreams> events_;
  service::Metrics metrics_;
  service::RateLimiter token_limiter_;
  std::atomic<bool> ready_{false};
};

// One per area (routes_*.cc).
void RegisterSystemRoutes(App& app, Router& r);
void RegisterOAuthRoutes(App& app, Router& r);
void RegisterSignInRoutes(App& app, Router& r);  // /oauth/authorize (docs/users.md "Sign-in")
void RegisterAdminRoutes(App& app, Router& r);
void RegisterConversationRoutes(App& app, Router& r);
void RegisterRecordingRoutes(App& app, Router& r);
void RegisterInsightRoutes(App& app, Router& r);
void RegisterChangeRoutes(App& app, Router& r);  // /api/v2/changes (docs/changes.md)
// A decimal integer query parameter in [min, max]; nullopt otherwise.
std::optional<int64_t> ParseIntParam(std::string_view s, int64_t min, int64_t max);
// A change id as clients send it (`after`, Last-Event-ID): a non-negative integer.
std::optional<int64_t> ParseChangeId(std::string_view s);
void RegisterEventRoutes(App& app, Router& r);   // /api/v2/events (docs/changes.md "Events")
void RegisterMediaRoutes(App& app, Router& r);
void RegisterAudioHookRoutes(App& app, Router& r);
void RegisterIntegrationRoutes(App& app, Router& r);
void RegisterTrunkRoutes(App& app, Router& r);
void RegisterUserRoutes(App& app, Router& r);
void RegisterWebhookRoutes(App& app, Router& r);  // /api/v2/webhooks (docs/webhooks.md)

}  // namespace verbatim::api
