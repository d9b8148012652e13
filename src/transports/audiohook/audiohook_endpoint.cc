#include "transports/audiohook/audiohook_endpoint.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "transports/http/audit_unavailable.h"
#include "transports/audiohook/ws_stream.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mutex.h"
#include "media/audiohook/server_session.h"

namespace verbatim::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ah = media::audiohook;
using tcp = asio::ip::tcp;

namespace {
class Connection;
// How long a finished session waits for the client to close the WebSocket.
constexpr auto kLinger = std::chrono::seconds(5);
}  // namespace

struct AudioHookEndpoint::Shared {
  Shared(App& a, media::capture::MediaHub& h, const AudioHookOptions& o) : app(a), hub(h), opts(o), auth(a) {}

  // Constant after construction. Connections may outlive the endpoint (their
  // io_context is torn down later), so a Connection's destructor touches only
  // the registry below, never app or hub.
  App& app;
  media::capture::MediaHub& hub;
  const AudioHookOptions opts;
  AudioHookAuthenticator auth;

  Mutex mu;
  std::condition_variable drained;
  size_t live GUARDED_BY(mu) = 0;
  std::map<Connection*, std::weak_ptr<Connection>> connections GUARDED_BY(mu);
  std::multimap<std::string, std::weak_ptr<Connection>> by_conversation GUARDED_BY(mu);  // live media only

  void OnRecordingChanged(const std::string& conversation_id, const store::Recording& after);
};

namespace {

std::string HeaderOf(const RawRequest& req, std::string_view name) {
  auto it = req.find(beast::string_view(name.data(), name.size()));
  return it == req.end() ? std::string() : std::string(it->value());
}

// Answers an upgrade request that is refused, then closes the connection.
template <class Stream>
void RespondOn(Stream stream, HttpResponse res) {
  auto s = std::make_shared<Stream>(std::move(stream));
  auto r = std::make_shared<HttpResponse>(std::move(res));
  r->keep_alive(false);
  r->prepare_payload();
  beast::get_lowest_layer(*s).expires_after(std::chrono::seconds(10));
  http::async_write(*s, *r, [s, r](beast::error_code, size_t) {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      // close_notify first, so the client can tell the end from a cut.
      beast::get_lowest_layer(*s).expires_after(std::chrono::seconds(1));
      s->async_shutdown([s](beast::error_code) { beast::get_lowest_layer(*s).close(); });
    } else {
      beast::error_code ec;
      s->socket().shutdown(tcp::socket::shutdown_send, ec);
      s->close();
    }
  });
}

void Respond(std::variant<PlainStream, TlsStream>& stream, HttpResponse res) {
  std::visit([&](auto& s) { RespondOn(std::move(s), std::move(res)); }, stream);
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<AudioHookEndpoint::Shared> shared, std::variant<PlainStream, TlsStream> stream,
             ConnectionLimiter::Slot slot, ah::SessionOptions so, std::string context_id, std::string principal,
             std::string owner)
      : shared_(std::move(shared)),
        ws_(std::move(stream)),
        slot_(std::move(slot)),
        timer_(ws_.get_executor()),
        session_(std::move(so)),
        context_id_(std::move(context_id)),
        principal_(std::move(principal)),
        owner_(std::move(owner)) {}

  ~Connection() {
    MutexLock lock(shared_->mu);
    shared_->connections.erase(this);
    --shared_->live;
    shared_->drained.notify_all();
  }

  void Start(RawRequest req) {
    {
      MutexLock lock(shared_->mu);
      shared_->connections.emplace(this, weak_from_this());
      ++shared_->live;
    }
    const auto& o = shared_->opts;
    ws_.set_option(websocket::stream_base::timeout{o.handshake_timeout, o.idle_timeout, true});
    ws_.read_message_max(o.max_frame_bytes);
    ws_.text(true);  // we only ever send text; audio flows one way
    auto r = std::make_shared<RawRequest>(std::move(req));
    ws_.async_accept(*r, [self = shared_from_this(), r](beast::error_code ec) {
      if (ec) {
        Log(LogLevel::kInfo, "audiohook handshake failed", {{"contextId", self->context_id_}, {"error", ec.message()}});
        return;
      }
      self->Read();
    });
  }

  // Runs `f` on this connection's strand.
  template <class F>
  void Post(F f) {
    asio::post(ws_.get_executor(), std::move(f));
  }

  // Posted by the recording listener: ask the client to pause or resume.
  void OnRecordingState(RecordingState state) {
    if (!rec_ || !shared_->opts.pause_client_with_recording) return;
    if (state == RecordingState::kPaused) Apply(session_.RequestPause());
    if (state == RecordingState::kActive) Apply(session_.RequestResume());
  }

  // Posted when the conversation is disconnected through the API: the call is
  // over, so the stream is too.
  void OnConversationEnded() {
    if (!rec_) return;
    FinishMedia("the conversation was disconnected");
    Apply(session_.Abort(ah::DisconnectReason::kCompleted, "the conversation was disconnected"));
  }

  // Posted by Shutdown: tell the client and go. The media session is left to
  // MediaHub::Stop, which finishes it without ending the conversation.
  void OnShutdown() {
    stopping_ = true;
    rec_.reset();
    Apply(session_.Abort(ah::DisconnectReason::kError, "the server is stopping"));
    CloseSoon();
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      timer_.cancel();
      if (rec_) {
        std::string why = ec == websocket::error::closed ? "the client closed the WebSocket without 'close'"
                                                         : "connection lost: " + ec.message();
        FinishMedia(why);
      }
      return;
    }
    const media::capture::Nanos arrival = shared_->hub.Now();
    auto data = buffer_.cdata();
    ah::Output out =
        ws_.got_text() ? session_.OnText(std::string_view(static_cast<const char*>(data.data()), data.size()), arrival)
                       : session_.OnBinary(std::span(static_cast<const std::byte*>(data.data()), data.size()), arrival);
    buffer_.consume(buffer_.size());
    Apply(std::move(out), arrival);
    Read();  // until the client closes, or the linger timer does
  }

  void Apply(ah::Output out, media::capture::Nanos arrival = media::capture::Nanos{0}) {
    if (out.open_requested) {
      ah::Output opened = Open();
      for (auto& m : opened.send) out.send.push_back(std::move(m));
      out.disconnect = out.disconnect || opened.disconnect;
      if (!opened.error.ok()) out.error = opened.error;
    }
    if (rec_) {
      for (const auto& b : out.audio)
        rec_->PushPcm(b.channel, static_cast<uint16_t>(b.frame), static_cast<uint32_t>(b.position), b.samples,
                      arrival);
    }
    if (!out.error.ok()) {
      // A server stop is not the client's fault: info, not warn.
      Log(out.error.code() == "audiohook.aborted" ? LogLevel::kInfo : LogLevel::kWarn, "audiohook session failed",
          {{"contextId", context_id_}, {"sessionId", session_.session_id()}, {"code", out.error.code()},
           {"error", out.error.message()}});
      shared_->app.metrics().Inc("verbatim_audiohook_errors_total", {{"code", out.error.code()}});
    }
    if (out.closed) FinishMedia("closed by the client (AudioHook close)");
    if (out.disconnect) FinishMedia("AudioHook disconnect: " + out.error.code());
    for (auto& m : out.send) Send(std::move(m));
    if (out.closed || out.disconnect) CloseSoon();
  }

  ah::Output Open() {
    if (session_.is_probe()) {  // Genesys connection probe: answer, record nothing
      Log(LogLevel::kInfo, "audiohook connection probe", {{"contextId", context_id_}});
      return session_.CompleteOpen(false);
    }
    const ah::OpenParams& p = session_.open_params();
    media::capture::SessionSpec spec;
    spec.source = "audiohook";
    spec.owner = owner_;  // joins only conversations this integration (or client) owns
    spec.external_id = session_.session_id();
    spec.conversation_id = p.conversation_id;
    spec.sample_rate = session_.selected_media()->rate;
    for (ah::Channel c : session_.selected_media()->channels) {
      if (c == ah::Channel::kExternal) {
        const std::string& name = !p.participant.ani_name.empty() ? p.participant.ani_name : p.participant.ani;
        spec.participants.push_back({"", name.empty() ? "external" : name.substr(0, 128), "customer"});
      } else {
        spec.participants.push_back({"", "agent", "agent"});
      }
    }
    auto opened = shared_->hub.Open(spec);
    if (!opened.ok()) {
      const Status& s = opened.status();
      Log(LogLevel::kWarn, "audiohook open refused",
          {{"contextId", context_id_}, {"conversationId", p.conversation_id}, {"code", s.code()}});
      return session_.FailOpen(ah::DisconnectReason::kError, s.code(),
                               s.kind() == Status::Kind::kInternal ? "internal error, contextId " + context_id_
                                                                   : s.message());
    }
    rec_ = std::move(*opened);
    {
      MutexLock lock(shared_->mu);
      shared_->by_conversation.emplace(rec_->conversation_id(), weak_from_this());
    }
    const bool paused = rec_->attachment().state == RecordingState::kPaused;
    Log(LogLevel::kInfo, "audiohook session opened",
        {{"contextId", context_id_}, {"sessionId", session_.session_id()},
         {"conversationId", rec_->conversation_id()}, {"principal", principal_},
         {"format", ah::ToString(session_.selected_media()->format)},
         {"channels", session_.selected_media()->channels.size()}, {"recording", ToString(rec_->attachment().state)}});
    return session_.CompleteOpen(paused && shared_->opts.pause_client_with_recording);
  }

  void FinishMedia(const std::string& reason) {
    if (!rec_) return;
    auto rec = std::move(rec_);
    {
      MutexLock lock(shared_->mu);
      auto [a, b] = shared_->by_conversation.equal_range(rec->conversation_id());
      for (auto it = a; it != b; ++it) {
        if (it->second.lock().get() == this) {
          shared_->by_conversation.erase(it);
          break;
        }
      }
    }
    if (!stopping_) shared_->hub.Close(rec, reason);
    const auto& st = session_.stats();
    Log(LogLevel::kInfo, "audiohook session ended",
        {{"contextId", context_id_}, {"sessionId", session_.session_id()}, {"conversationId", rec->conversation_id()},
         {"reason", reason}, {"frames", st.binary_frames}, {"samples", st.samples}, {"gapSamples", st.gap_samples}});
  }

  void Send(std::string message) {
    outbox_.push_back(std::move(message));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    writing_ = true;
    ws_.async_write(asio::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->outbox_.pop_front();
      if (ec) {
        self->FinishMedia("write failed: " + ec.message());
        return;
      }
      if (!self->outbox_.empty()) return self->WriteNext();
      if (self->close_when_sent_) self->CloseNow();
    });
  }

  // The session is over: the client should close now; if it has not within
  // kLinger, we do.
  void CloseSoon() {
    if (lingering_) return;
    lingering_ = true;
    if (stopping_) {
      close_when_sent_ = true;
      if (!writing_) CloseNow();
      return;
    }
    timer_.expires_after(kLinger);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the connection ended first
      self->close_when_sent_ = true;
      if (!self->writing_) self->CloseNow();
    });
  }

  void CloseNow() {
    if (closing_ || !ws_.is_open()) return;
    closing_ = true;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
  }

  std::shared_ptr<AudioHookEndpoint::Shared> shared_;
  WsStream ws_;
  const ConnectionLimiter::Slot slot_;  // this connection's place under the HTTP server's caps
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  ah::ServerSession session_;
  const std::string context_id_;
  const std::string principal_;
  const std::string owner_;  // "integration:<id>" | "client:<id>": the media owner of what it creates
  std::shared_ptr<media::capture::RecordingSession> rec_;  // live media, if open
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool lingering_ = false;
  bool close_when_sent_ = false;
  bool closing_ = false;
  bool stopping_ = false;
};

}  // namespace

void AudioHookEndpoint::Shared::OnRecordingChanged(const std::string& conversation_id, const store::Recording& after) {
  const RecordingState state = after.state;
  const bool ended = !after.timeline.empty() && after.timeline.back().action == "disconnect";
  std::vector<std::shared_ptr<Connection>> targets;
  {
    MutexLock lock(mu);
    auto [a, b] = by_conversation.equal_range(conversation_id);
    for (auto it = a; it != b; ++it)
      if (auto c = it->second.lock()) targets.push_back(std::move(c));
  }
  for (auto& c : targets) {
    if (ended) {
      c->Post([c] { c->OnConversationEnded(); });
    } else {
      c->Post([c, state] { c->OnRecordingState(state); });
    }
  }
}

AudioHookEndpoint::AudioHookEndpoint(App& app, media::capture::MediaHub& hub, AudioHookOptions opts)
    : opts_(std::move(opts)), shared_(std::make_shared<Shared>(app, hub, opts_)) {
  // The listener outlives the endpoint inside App: it holds the registry weakly.
  app.AddRecordingListener({[weak = std::weak_ptr<Shared>(shared_)](const std::string& id, const store::Recording& r) {
    if (auto s = weak.lock()) s->OnRecordingChanged(id, r);
  }});
  app.metrics().AddGauge("verbatim_audiohook_connections", "Live AudioHook WebSocket connections.",
                         [weak = std::weak_ptr<Shared>(shared_)] {
                           auto s = weak.lock();
                           if (!s) return 0.0;
                           MutexLock lock(s->mu);
                           return static_cast<double>(s->live);
                         });
}

AudioHookEndpoint::~AudioHookEndpoint() = default;

size_t AudioHookEndpoint::live_connections() const {
  MutexLock lock(shared_->mu);
  return shared_->live;
}

void AudioHookEndpoint::Accept(UpgradedConnection conn) {
  Shared& s = *shared_;
  RawRequest& req = conn.request;
  const std::string& remote_ip = conn.remote_ip;
  const std::string context_id = NewContextId();
  const std::string target(req.target());
  HttpRequest http{req, target.substr(0, target.find('?')), "", remote_ip, std::chrono::steady_clock::now()};
  RequestContext ctx{http, context_id};

  auto reply = [&](HttpResponse res, const char* outcome) {
    res.set("X-Context-Id", context_id);
    if (!ctx.decision) {  // refused before authorization (capacity, bad header, throttled): audited too
      store::AuditEvent e = s.app.AuditEventFor(ctx, res.result_int());
      e.action = "media:stream:ingest";
      e.resource = "audiohook";
      e.decision = "deny";
      auto body = ParseJsonObject(res.body());
      if (body.ok() && body->contains("code") && body->at("code").is_string()) e.code = body->at("code").as_string();
      s.app.Audit(ctx, std::move(e));
    }
    s.app.metrics().Inc("verbatim_audiohook_upgrades_total",
                        {{"outcome", outcome}, {"status", std::to_string(res.result_int())}});
    Log(LogLevel::kInfo, "audiohook upgrade",
        {{"contextId", context_id}, {"status", res.result_int()}, {"remote", remote_ip}, {"outcome", outcome}});
    Respond(conn.stream, std::move(res));
  };
  if (!s.app.audit().available()) {
    // Fail closed like App::Handle: nothing is done, so there is nothing to record.
    HttpResponse res = AuditUnavailableResponse(s.app.audit().health(), context_id);
    res.set("X-Context-Id", context_id);
    s.app.metrics().Inc("verbatim_audiohook_upgrades_total", {{"outcome", "audit-unavailable"}, {"status", "503"}});
    Respond(conn.stream, std::move(res));
    return;
  }
  if (live_connections() >= opts_.max_connections) {
    HttpResponse res = ErrorResponse(503, "media.capacity",
                                     "The AudioHook endpoint is at capacity (" + std::to_string(opts_.max_connections) +
                                         " connections).",
                                     context_id, InputProblem("", "", "Retry later."));
    res.set(http::field::retry_after, "5");
    return reply(std::move(res), "capacity");
  }
  const std::string session_id = HeaderOf(req, "Audiohook-Session-Id");
  const std::string org_id = HeaderOf(req, "Audiohook-Organization-Id");
  for (const auto& [name, value] : {std::pair{"Audiohook-Session-Id", &session_id},
                                    std::pair{"Audiohook-Organization-Id", &org_id}}) {
    if (!value->empty() && !IsUuid(*value)) {
      return reply(ErrorResponse(400, "bad.request", std::string("The ") + name + " header must be a UUID.",
                                 context_id, InputProblem(name, "UUID", "Send the session's UUID.")),
                   "bad-request");
    }
  }

  if (auto blocked = s.app.AuthBlocked(remote_ip)) {
    // Same rule as App::Authorize: an address that keeps failing gets no more HMAC or token checks.
    const auto secs = std::max<int64_t>(1, blocked->retry_after.count());
    HttpResponse res = ErrorResponse(
        429, "too.many.requests",
        "Too many failed authentications from this address; retry in " + std::to_string(secs) + " s.", context_id,
        InputProblem("", "", "Wait for Retry-After seconds, then authenticate again."));
    res.set(http::field::retry_after, std::to_string(secs));
    return reply(std::move(res), "throttled");
  }
  const std::string resource = session_id.empty() ? "audiohook" : "audiohook/" + session_id;
  UpgradeAuth auth = s.auth.Authenticate(req, resource);
  // No credentials at all is not a failed authentication (as in App::Authorize).
  if (!auth.decision.allowed && auth.decision.status == 401 &&
      auth.decision.code != authz::Code(authz::TokenProblem::kMissing))
    s.app.CountAuthFailure(remote_ip);
  ctx.decision = auth.decision;
  ctx.principal = auth.principal;
  ctx.token = auth.token;
  const authz::Decision& d = *ctx.decision;
  s.app.authorizer().CountDecision(d);
  // Every attempt is audited, allowed (101) or not, with its explanation.
  s.app.Audit(ctx, s.app.AuditEventFor(ctx, d.allowed ? 101 : d.status));
  if (!d.allowed) {
    HttpResponse res = DecisionResponse(d, context_id);
    if (auth.scheme == "audiohook-signature" && d.status == 401)
      res.set(http::field::www_authenticate, "Signature realm=\"verbatim\", error=\"invalid_signature\"");
    return reply(std::move(res), "denied");
  }
  s.app.metrics().Inc("verbatim_audiohook_upgrades_total", {{"outcome", "accepted"}, {"status", "101"}});
  Log(LogLevel::kInfo, "audiohook upgrade",
      {{"contextId", context_id}, {"status", 101}, {"remote", remote_ip}, {"scheme", auth.scheme},
       {"tls", std::holds_alternative<TlsStream>(conn.stream)},
       {"principal", auth.principal ? auth.principal->id : std::string()}});
  ah::SessionOptions so;
  so.session_id = session_id;
  so.organization_id = org_id;
  so.max_binary_bytes = opts_.max_frame_bytes;
  // Owner of the media: an integration, or the token's client (a user's token acts for its client).
  std::string owner;
  if (auth.principal && auth.principal->type == "integration") owner = "integration:" + auth.principal->id;
  else if (!auth.token.client_id.empty()) owner = "client:" + auth.token.client_id;
  auto c = std::make_shared<Connection>(shared_, std::move(conn.stream), std::move(conn.slot), std::move(so), context_id,
                                        auth.principal ? auth.principal->name : std::string(), std::move(owner));
  c->Start(std::move(req));
}

void AudioHookEndpoint::Shutdown(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    MutexLock lock(shared_->mu);
    for (auto& [raw, weak] : shared_->connections)
      if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->Post([c] { c->OnShutdown(); });
  live.clear();  // released outside the lock: ~Connection takes it
  MutexLock lock(shared_->mu);
  shared_->drained.wait_for(lock.native(), grace, [&] { shared_->mu.AssertHeld(); return shared_->live == 0; });
}

}  // namespace verbatim::api
