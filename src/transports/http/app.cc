#include "transports/http/app.h"

#include <algorithm>
#include <cctype>

#include "transports/http/audit_unavailable.h"
#include "transports/console/gateway.h"
#include "service/console_client.h"
#include "service/audit_event.h"
#include "transports/http/event_streams.h"
#include "service/client_address.h"
#include "core/ids.h"
#include "core/log.h"
#include "oauth/client_cutoff.h"
#include "oauth/form.h"

namespace verbatim::api {

std::optional<std::string> RequestContext::Query(std::string_view name) const {
  std::string_view q = http.query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    size_t eq = pair.find('=');
    auto key = oauth::PercentDecode(pair.substr(0, eq), true);
    if (key && *key == name) {
      if (eq == std::string_view::npos) return std::string();
      return oauth::PercentDecode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

namespace {
// The method as a metrics label: any token is a valid HTTP method, so an
// unknown one must not create a new series per request (unbounded memory).
std::string MethodLabel(std::string_view m) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (m == known) return std::string(m);
  return "other";
}

// OAuth client libraries read RFC 6749 §5.2 `error`/`error_description` from
// any error of the token endpoints, including the ones that are not OAuth's
// own (429, 500, 503): give those bodies both shapes. A 413 for a body over
// the limit is answered by the HTTP layer before routing and does not pass here.
void AddOAuthErrorFields(HttpResponse& res) {
  const int status = res.result_int();
  if (status < 400 || res.body().empty()) return;
  auto body = ParseJsonObject(res.body());
  if (!body.ok() || body->contains("error")) return;
  const char* error = status == 429 ? "too_many_requests"
                      : status == 503 ? "temporarily_unavailable"
                      : status >= 500 ? "server_error"
                                      : "invalid_request";
  (*body)["error"] = error;
  if (auto it = body->find("message"); it != body->end()) (*body)["error_description"] = it->value();
  res.body() = json::serialize(*body);
}

bool QueryIsDecodable(std::string_view q) {
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] != '%') continue;
    if (i + 2 >= q.size() || !std::isxdigit(static_cast<unsigned char>(q[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(q[i + 2])))
      return false;
  }
  return true;
}
}  // namespace

App::App(AppConfig cfg, store::Store& store, const Clock& clock)
    : cfg_(std::move(cfg)),
      store_(store),
      clock_(clock),
      directory_(store, clock),
      login_throttle_(cfg_.limits.login),
      token_limiter_(cfg_.limits.token_per_client, cfg_.limits.token_per_client * 2) {}

size_t App::RateLimiterKeys() const {
  return token_limiter_.size() + (authorizer_ ? authorizer_->LimiterKeys() : 0);
}

service::RateLimiter::Verdict App::TakeTokenRequest(std::string_view client_id) {
  return token_limiter_.Take(client_id, service::SteadyNanos());
}

HttpResponse App::TooManyRequests(RequestContext& ctx, std::chrono::seconds retry_after, std::string message) {
  metrics_.Inc("verbatim_rate_limited_total", {{"route", ctx.route ? ctx.route->pattern : "?"}});
  auto secs = std::max<int64_t>(1, retry_after.count());
  HttpResponse res = ErrorResponse(429, "too.many.requests", message, ctx.context_id,
                                   InputProblem("", "", "Wait " + std::to_string(secs) + " s (Retry-After) and retry."),
                                   "{message}", {{"retryAfterSeconds", std::to_string(secs)}});
  res.set(http::field::retry_after, std::to_string(secs));
  return res;
}

App::~App() {
  store_watch_.reset();  // no reload may start while the rest goes away
  events_.reset();       // its poller reads the store
  workers_.reset();  // finishes queued handlers first
  if (audit_) audit_->Stop();
}

Status App::Init() {
  if (!cfg_.secrets) return Status::Internal("App needs the key-encryption key (AppConfig::secrets)");
  auto org = store_.GetOrganization();
  if (!org.ok()) return org.status();
  oauth::TokenServiceOptions topts;
  topts.issuer = cfg_.issuer;
  topts.audience = cfg_.audience;
  topts.org_id = org->id;
  topts.secrets = cfg_.secrets;
  tokens_ = std::make_unique<oauth::TokenService>(store_, clock_, topts);
  VERBATIM_RETURN_IF_ERROR(tokens_->Init());
  sign_ins_ = std::make_unique<oauth::SignInGrants>(store_, *tokens_, clock_);
  history_ = std::make_unique<service::ChangeHistory>(store_, clock_);
  events_ = std::make_unique<EventStreams>(store_, EventStreamOptions{cfg_.events_heartbeat, {}});
  authorizer_ = std::make_unique<service::Authorizer>(
      service::AuthFailureLimits{cfg_.limits.auth_failures_per_ip, cfg_.limits.auth_failure_burst}, *tokens_, directory_,
      metrics_, history_.get());
  VERBATIM_RETURN_IF_ERROR(directory_.Load());
  service::AuditLogOptions audit_opts;
  audit_opts.retention = std::chrono::hours(24) * std::max(0, cfg_.audit_retention_days);
  audit_opts.max_queued = std::max<size_t>(1, cfg_.audit_max_queued);
  audit_ = std::make_unique<service::AuditLog>(store_, clock_, audit_opts);
  metrics_.AddCounterFunc("verbatim_audit_write_errors_total", "Audit batch commits that failed (each is retried).",
                          [this] { return audit_->write_errors(); });
  metrics_.AddGauge("verbatim_audit_queued_events", "Audit events recorded but not yet committed.",
                    [this] { return static_cast<double>(audit_->queued()); });
  metrics_.AddGauge("verbatim_audit_available", "1 while the audit log can record (else protected requests get 503).",
                    [this] { return audit_->available() ? 1.0 : 0.0; });
  metrics_.AddCounterFunc("verbatim_audit_denials_aggregated_total",
                          "Unauthenticated denials counted into an aggregate audit event instead of their own.",
                          [this] { return audit_->aggregated(); });
  metrics_.AddGauge("verbatim_rate_limiter_keys", "Buckets held by the rate limiters (bounded, LRU).",
                    [this] { return static_cast<double>(RateLimiterKeys()); });
  recordings_ = std::make_unique<service::Recordings>(store_, clock_, metrics_, feed_);
  conversations_ = std::make_unique<service::Conversations>(
      store_, clock_, feed_, [this](const std::string& type, const std::string& id) { return MediaOwnerExists(type, id); });
  workers_ = std::make_unique<service::WorkerPool>(std::max<size_t>(1, cfg_.workers), 4096);
  sip_trunks_ = std::make_unique<TrunkRegistry>(store_, cfg_.config_trunks, cfg_.dev_trunk, clock_);
  VERBATIM_RETURN_IF_ERROR(sip_trunks_->Reload());
  RegisterRoutes();
  if (cfg_.console) {
    VERBATIM_RETURN_IF_ERROR(service::EnsureConsoleClient(directory_, cfg_.issuer, clock_.Now()));
    console_ = std::make_unique<console::Gateway>(*this, console::GatewayOptions{cfg_.console_assets_dir});
  }
  auto watch = store_.WatchChanges([this](const std::vector<store::Change>& changes) { OnStoreChanges(changes); });
  if (!watch.ok()) return watch.status();
  store_watch_ = std::move(*watch);
  return Status::Ok();
}

void App::OnStoreChanges(const std::vector<store::Change>& changes) {
  bool directory = false, revocations = false, keys = false, trunks = false;
  for (const auto& c : changes) {
    const bool all = c.topic == store::ChangeTopic::kResync;
    directory |= all || c.topic == store::ChangeTopic::kDirectory;
    revocations |= all || c.topic == store::ChangeTopic::kRevocations;
    keys |= all || c.topic == store::ChangeTopic::kKeys;
    trunks |= all || c.topic == store::ChangeTopic::kTrunks;
  }
  // Each reload reads the store afresh; a failure leaves the previous copy and
  // is retried by the next change or the resync after a reconnection.
  auto reload = [this](const char* topic, bool wanted, const std::function<Status()>& fn) {
    if (!wanted) return;
    metrics_.Inc("verbatim_store_change_reloads_total", {{"topic", topic}});
    if (Status s = fn(); !s.ok())
      Log(LogLevel::kWarn, "reloading after another node's change failed", {{"topic", topic}, {"error", s.message()}});
  };
  reload("directory", directory, [this] { return directory_.Load(); });
  reload("revocations", revocations, [this] { return tokens_->ReloadRevocations(); });
  reload("keys", keys, [this] { return tokens_->ReloadKeys(); });
  reload("trunks", trunks, [this] { return sip_trunks_->Reload(); });
  std::vector<std::string> conversations;
  bool resync = false;
  for (const auto& c : changes) {
    if (c.topic == store::ChangeTopic::kConversation) conversations.push_back(c.id);
    resync |= c.topic == store::ChangeTopic::kResync;
  }
  if (!conversations.empty() || resync) PublishOtherNodesChanges(conversations, resync);
}

void App::RegisterRoutes() {
  RegisterSystemRoutes(*this, router_);
  RegisterOAuthRoutes(*this, router_);
  RegisterSignInRoutes(*this, router_);
  RegisterAdminRoutes(*this, router_);
  RegisterConversationRoutes(*this, router_);
  RegisterRecordingRoutes(*this, router_);
  RegisterInsightRoutes(*this, router_);
  RegisterChangeRoutes(*this, router_);
  RegisterEventRoutes(*this, router_);
  RegisterMediaRoutes(*this, router_);
  RegisterAudioHookRoutes(*this, router_);
  RegisterIntegrationRoutes(*this, router_);
  RegisterTrunkRoutes(*this, router_);
  RegisterUserRoutes(*this, router_);
  RegisterWebhookRoutes(*this, router_);
}

void App::AddRecordingListener(RecordingListener l) { feed_.Subscribe(std::move(l.on_change)); }

namespace {
constexpr size_t kMaxRememberedVersions = 4096;
}  // namespace

void App::NotifyRecordingChanged(const std::string& conversation_id, const store::Recording& after) {
  if (store_watch_) {  // several nodes: this change comes back through the watch
    MutexLock lock(published_mu_);
    // Bounded by forgetting: at worst a change is published twice, and
    // every listener takes a repeat of the same state as no change.
    if (published_.size() >= kMaxRememberedVersions) published_.clear();
    int64_t& v = published_[conversation_id];
    v = std::max(v, after.version);
  }
  feed_.Publish(conversation_id, after);
}

void App::FollowOtherNodes(std::function<std::vector<std::string>()> live) {
  MutexLock lock(published_mu_);
  live_media_ = std::move(live);
}

void App::PublishOtherNodesChanges(const std::vector<std::string>& ids, bool resync) {
  std::function<std::vector<std::string>()> list;
  {
    MutexLock lock(published_mu_);
    list = live_media_;
  }
  // Outside published_mu_: the media layer takes its own locks, and may hold
  // them while it publishes (NotifyRecordingChanged takes published_mu_).
  std::vector<std::string> followed = list ? list() : std::vector<std::string>{};
  for (auto& id : feed_.Interests()) followed.push_back(std::move(id));  // gRPC Watch streams
  std::sort(followed.begin(), followed.end());
  followed.erase(std::unique(followed.begin(), followed.end()), followed.end());
  // A busy node follows thousands of live calls: look the notified ids up
  // sorted, not one linear scan per followed id.
  std::vector<std::string> changed = ids;
  std::sort(changed.begin(), changed.end());
  for (const auto& id : followed) {
    if (!resync && !std::binary_search(changed.begin(), changed.end(), id)) continue;
    auto rec = store_.GetRecording(id);
    if (!rec.ok()) {
      Log(LogLevel::kWarn, "reading a recording another node changed failed", {{"conversationId", id}, {"error", rec.status().message()}});
      continue;
    }
    {
      MutexLock lock(published_mu_);
      int64_t& v = published_[id];
      if (rec->version <= v) continue;  // published already (this node made the change)
      v = rec->version;
    }
    metrics_.Inc("verbatim_store_change_reloads_total", {{"topic", "recording"}});
    feed_.Publish(id, *rec);
  }
}

HttpResponse App::RenderReadError(int status, std::string code, std::string message) {
  std::string context_id = NewContextId();
  HttpResponse res = ErrorResponse(status, code, message, context_id,
                                   InputProblem("", "", status == 413   ? "Send a smaller body."
                                                    : status == 414 ? "Send a shorter path and query."
                                                    : status == 431 ? "Send fewer or smaller headers."
                                                    : status == 503 ? "Close idle connections, or retry after Retry-After seconds."
                                                    : code == "tls.required" ? "Use https:// (or wss://) for this port."
                                                                    : "Send valid HTTP/1.1."));
  res.set("X-Context-Id", context_id);
  metrics_.Inc("verbatim_http_requests_total", {{"route", "unmatched"}, {"method", "?"}, {"status", std::to_string(status)}});
  // Refused connections come in floods: the HTTP server logs those once per burst.
  Log(code == "connection.limit" ? LogLevel::kDebug : LogLevel::kInfo, "request rejected",
      {{"contextId", context_id}, {"status", status}, {"code", code}});
  return res;
}

void App::HandleAsync(std::shared_ptr<const OwnedRequest> req, Responder respond) {
  if (console_ && console::Gateway::Claims(req->view.path)) return console_->Handle(std::move(req), std::move(respond));
  const HttpRequest& http = req->view;
  auto match = router_.Match(http.method(), http.path);
  // Writes through the API block on the store's group commit: give them a
  // worker so the HTTP threads keep serving (public OAuth endpoints stay here).
  const bool blocking = match.route && ((match.route->method != "GET" && match.route->access != Access::kPublic) ||
                                        (match.route->offload && match.route->offload(http)));
  if (blocking) {
    bool queued = workers_->Post([this, req, respond] { respond(Handle(req->view)); });
    if (queued) return;
    HttpResponse busy = ErrorResponse(503, "unavailable", "The server is busy; retry shortly.", NewContextId());
    busy.set(http::field::retry_after, "1");
    respond(std::move(busy));
    return;
  }
  respond(Handle(http));
}

HttpResponse App::Handle(const HttpRequest& req) {
  RequestContext ctx{req, NewContextId()};
  HttpResponse res;
  auto match = router_.Match(req.method(), req.path);
  std::string route_name = "unmatched";
  if (!QueryIsDecodable(req.query)) {
    // A filter we cannot read must not silently become "no filter".
    res = ErrorResponse(400, "bad.request", "The query string has an invalid percent-escape.", ctx.context_id,
                        InputProblem("query", "RFC 3986 percent-encoding", "Encode '%' as %25 in query values."));
  } else if (!match.route) {
    if (match.path_matched) {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      res = ErrorResponse(405, "method.not.allowed",
                          std::string(req.method()) + " is not supported on " + req.path + "; use " + allow + ".",
                          ctx.context_id, InputProblem("method", allow, "Use one of: " + allow + "."));
      res.set(http::field::allow, allow);
    } else {
      res = ErrorResponse(404, "not.found", "There is no endpoint " + std::string(req.method()) + " " + req.path + ".",
                          ctx.context_id,
                          InputProblem("path", "", "See GET /api/v2/openapi.json for every endpoint."));
    }
  } else {
    route_name = match.route->pattern;
    ctx.route = match.route;
    ctx.params = std::move(match.params);
    try {
      // Fail closed: a protected request the audit log could not record is
      // refused before anything is done (docs/decisions.md "Audit fails closed").
      res = match.route->access != Access::kPublic && !audit_->available()
                ? AuditUnavailableResponse(audit_->health(), ctx.context_id)
                : match.route->handler(ctx);
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "handler threw", {{"contextId", ctx.context_id}, {"error", e.what()}});
      res = ErrorResponse(500, "internal",
                          "Internal error. Quote contextId " + ctx.context_id + " to find it in the server log.",
                          ctx.context_id);
    }
    if (ctx.decision && !ctx.audit_committed) RecordAudit(ctx, res.result_int());
  }
  res.set("X-Context-Id", ctx.context_id);
  if (req.path.rfind("/oauth/", 0) == 0) AddOAuthErrorFields(res);

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - req.received_at).count();
  const std::string status = std::to_string(res.result_int());
  metrics_.Inc("verbatim_http_requests_total",
               {{"route", route_name}, {"method", MethodLabel(req.method())}, {"status", status}});
  metrics_.Observe("verbatim_http_request_duration_seconds", {{"route", route_name}}, secs);
  if (LogEnabled(LogLevel::kInfo)) {
    json::object line;
    line["contextId"] = ctx.context_id;
    line["method"] = std::string(req.method());
    line["path"] = req.path;  // never the query or headers: they may carry credentials
    line["status"] = res.result_int();
    line["durationMs"] = secs * 1000.0;
    line["remote"] = req.remote_ip;
    if (!req.peer_ip.empty() && req.peer_ip != req.remote_ip) line["peer"] = req.peer_ip;  // the trusted proxy
    if (ctx.principal) line["principal"] = ctx.principal->id;
    if (ctx.decision && !ctx.decision->allowed) line["code"] = ctx.decision->code;
    Log(LogLevel::kInfo, "request", std::move(line));
  }
  return res;
}

bool App::Authorize(RequestContext& ctx, std::string resource) {
  const bool token_only = ctx.route->access == Access::kToken;
  std::string denial_key;
  auto cached = [&](const authz::TokenCheck& token, service::Authorization& out) {
    denial_key = DenialCache::Key(token, ctx.route->action, resource, directory_.Generation());
    auto hit = denials_.Find(denial_key);
    if (!hit) return false;
    out.decision = hit->decision;
    out.principal = hit->principal;
    ctx.denial = std::move(hit);
    return true;
  };
  service::AccessRequest request{token_only ? std::string() : ctx.route->action, std::move(resource), token_only,
                                 ctx.route->pattern};
  auto a = authorizer_->Authorize({ctx.http.header("Authorization"), ctx.http.remote_ip}, request, cached);
  ctx.token = std::move(a.token);
  ctx.principal = std::move(a.principal);
  ctx.decision = std::move(a.decision);
  ctx.retry_after = a.retry_after;
  const auto& d = *ctx.decision;
  if (!ctx.denial && !d.allowed && d.status == 403 && ctx.principal) ctx.denial_key = std::move(denial_key);
  return d.allowed;
}

store::ChangeAuthor App::AuthorOf(const RequestContext& ctx) const {
  if (!ctx.principal) return store::ChangeAuthor{{}, ctx.context_id, clock_.Now()};
  return service::AuthorOf(*ctx.principal, ctx.context_id, clock_.Now());
}

HttpResponse App::Deny(RequestContext& ctx) {
  if (ctx.denial) return DenialCache::Render(*ctx.denial, ctx.context_id);
  if (!ctx.denial_key.empty()) {
    const auto& d = *ctx.decision;
    auto entry = DenialCache::Make(d, *ctx.principal,
                                   DecisionResponse(d, DenialCache::kPlaceholderContextId),
                                   service::AuditExplanation(d, d.status));
    if (entry) {
      denials_.Insert(ctx.denial_key, entry);
      ctx.denial = std::move(entry);
      return DenialCache::Render(*ctx.denial, ctx.context_id);
    }
  }
  HttpResponse res = DecisionResponse(*ctx.decision, ctx.context_id);
  if (ctx.decision->status == 429) res.set(http::field::retry_after, std::to_string(ctx.retry_after.count()));
  return res;
}

HttpResponse App::Fail(RequestContext& ctx, const Status& s) {
  int status = service::HttpStatusOf(s);
  if (status == 500) {
    Log(LogLevel::kError, "internal error", {{"contextId", ctx.context_id}, {"error", s.message()}});
    return ErrorResponse(500, "internal",
                         "Internal error. Quote contextId " + ctx.context_id + " to find it in the server log.",
                         ctx.context_id);
  }
  std::optional<json::object> explanation;
  if (ctx.decision) {
    // Authorization passed but the resource refused (a conflict, a missing
    // row): the explanation says so in its resource layer.
    auto& l = ctx.decision->layer(authz::Layer::kResource);
    l.outcome = authz::Outcome::kFail;
    l.code = s.code();
    l.detail = s.message();
    ctx.decision->allowed = false;
    ctx.decision->status = status;
    ctx.decision->code = s.code();
    ctx.decision->message = s.message();
    explanation = authz::ExplanationJson(*ctx.decision);
  }
  return ErrorResponse(status, s.code(), s.message(), ctx.context_id, std::move(explanation));
}

HttpResponse App::Refuse(RequestContext& ctx, const service::Refusal& r) {
  switch (r.kind) {
    case service::Refusal::Kind::kDenied:
      return Deny(ctx);
    case service::Refusal::Kind::kInvalid:
      return BadRequest(ctx, r.message, r.field, r.expected, r.fix);
    case service::Refusal::Kind::kFailed:
      break;
  }
  return Fail(ctx, r.status);
}

bool App::MediaOwnerExists(const std::string& type, const std::string& id) {
  if (type == "trunk") return sip_trunks_->Find(id).has_value() || store_.GetTrunk(id).ok();
  if (type == "integration") {
    auto all = store_.ListIntegrations();
    return all.ok() && std::any_of(all->begin(), all->end(), [&](const auto& m) { return m.id == id; });
  }
  if (type == "client") return store_.GetClient(id).ok();
  return false;
}

HttpResponse App::BadRequest(RequestContext& ctx, std::string message, std::string_view field,
                             std::string_view expected, std::string_view fix) {
  std::string default_fix;
  if (fix.empty()) {
    default_fix = field.empty() ? "Correct the request as the message says"
                                : "Correct '" + std::string(field) + "'" +
                                      (expected.empty() ? std::string() : " (expected: " + std::string(expected) + ")");
    default_fix += "; GET /api/v2/openapi.json describes every field.";
    fix = default_fix;
  }
  return ErrorResponse(400, "bad.request", message, ctx.context_id, InputProblem(field, expected, fix));
}

std::optional<std::string> App::AuthorizePathId(RequestContext& ctx, std::string_view param, std::string_view kind,
                                               HttpResponse& out) {
  std::string id = ctx.Param(param);
  // Denials are found by conversation in the audit log too.
  if (kind == "conversation" && IsUuid(id)) ctx.conversation_id = id;
  if (!Authorize(ctx, std::string(kind) + "/" + id.substr(0, 64))) {
    out = Deny(ctx);
    return std::nullopt;
  }
  if (auto bad = RequireUuid(ctx, id, kind)) {
    out = std::move(*bad);
    return std::nullopt;
  }
  return id;
}

std::optional<store::Recording> App::LoadRecording(RequestContext& ctx, const std::string& conversation_id,
                                                   HttpResponse& out) {
  auto rec = recordings_->Get(*ctx.decision, conversation_id);
  if (rec.ok()) return std::move(*rec);
  out = Refuse(ctx, rec.refusal());
  return std::nullopt;
}

std::optional<HttpResponse> App::RequireUuid(RequestContext& ctx, const std::string& value, std::string_view what) {
  if (auto bad = service::RequireUuid(value, what)) return Refuse(ctx, *bad);
  return std::nullopt;
}

std::optional<json::object> App::JsonBody(RequestContext& ctx, HttpResponse& error_out) {
  const std::string& body = ctx.http.body();
  bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) return json::object();
  std::string_view ct = ctx.http.header("Content-Type");
  std::string media(ct.substr(0, ct.find(';')));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (media != "application/json") {
    error_out = ErrorResponse(
        415, "unsupported.media.type",
        "The body must be JSON with Content-Type: application/json (got '" +
            (ct.empty() ? std::string("none") : std::string(ct.substr(0, 100))) + "').",
        ctx.context_id,
        InputProblem("Content-Type", "application/json", "Send the header 'Content-Type: application/json'."));
    return std::nullopt;
  }
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) {
    error_out = ErrorResponse(400, "bad.request", parsed.status().message(), ctx.context_id,
                              InputProblem("body", "a JSON object", "Send a single valid JSON object."));
    return std::nullopt;
  }
  return std::move(*parsed);
}

store::AuditEvent App::AuditEventFor(const RequestContext& ctx, int status) const {
  const service::CallRecord call{ctx.context_id, "http", ctx.http.method(), ctx.http.path, ctx.http.remote_ip,
                                 ctx.conversation_id};
  const authz::Decision* d = ctx.decision ? &*ctx.decision : nullptr;
  std::string cached = d && ctx.denial && status == ctx.denial->decision.status ? ctx.denial->audit_explanation
                                                                                 : std::string();
  return service::AuditEventOf(call, ctx.principal, ctx.token, d, status, clock_.Now(), std::move(cached));
}

void App::RecordAudit(RequestContext& ctx, int status) { Audit(ctx, AuditEventFor(ctx, status)); }

void App::Audit(const RequestContext& ctx, store::AuditEvent e) {
  service::RecordAuditEvent(*audit_, std::move(e), ctx.principal, ctx.decision ? &*ctx.decision : nullptr,
                            ctx.http.remote_ip);
}

}  // namespace verbatim::api
