// `verbatim serve`: open the store, bind the listeners, serve until SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "transports/http/app.h"
#include "transports/http/event_streams.h"
#include "transports/audiohook/audiohook_endpoint.h"
#include "transports/http/http_server.h"
#include "transports/siprec/media_bridge.h"
#include "transports/http/metrics_listener.h"
#include "transports/grpc/grpc_server.h"
#include "transports/http/tls_context.h"
#include "transports/siprec/siprec_wiring.h"
#include "transports/siprec/trunk_config.h"
#include "transports/webhook/webhook_wiring.h"
#include "core/mutex.h"
#include "media/capture/hub.h"
#include "media/siprec/sip_server.h"
#include "service/node_presence.h"
#include "store/caching_store.h"
#include "cli/commands.h"
#include "cli/dev_seed.h"
#include "cli/serve_net.h"
#include "core/log.h"

namespace verbatim::cli {
namespace {

// Periodic housekeeping: pick up key rotations made by `verbatim keys rotate`
// in another process, and forget revocations of tokens that expired anyway.
class Maintenance {
 public:
  explicit Maintenance(api::App& app) : app_(app), thread_([this] { Run(); }) {}
  ~Maintenance() {
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  void Run() {
    MutexLock lock(mu_);
    while (!cv_.wait_for(lock.native(), std::chrono::seconds(10), [&] { mu_.AssertHeld(); return stop_; })) {
      lock.Unlock();
      if (Status s = app_.tokens().ReloadKeys(); !s.ok()) Log(LogLevel::kError, "key reload failed", {{"error", s.message()}});
      if (Status s = app_.tokens().PurgeExpiredRevocations(); !s.ok())
        Log(LogLevel::kError, "revocation purge failed", {{"error", s.message()}});
      if (Status s = app_.store().PurgeExpiredGrants(app_.clock().Now()); !s.ok())
        Log(LogLevel::kError, "sign-in grant purge failed", {{"error", s.message()}});
      // `verbatim trunks add|remove` in another process (docs/sip-trunks.md).
      if (Status s = app_.sip_trunks().Reload(); !s.ok())
        Log(LogLevel::kError, "sip trunk reload failed", {{"error", s.message()}});
      lock.Lock();
    }
  }

  api::App& app_;
  Mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

std::string HostForUrl(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "[::1]";
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

int RunServe(const ServeOptions& opts) {
  // Block the stop signals in every thread; main waits for them with sigwait.
  // Before anything starts a thread (InitLogging starts spdlog's flusher): a
  // thread that does not block SIGTERM would take it and end the process
  // without the graceful stop.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reloads the TLS certificate (cli/serve_net.h)
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  InitLogging(opts.log_level);
  if (auto [before, after] = RaiseOpenFileLimit(); before != after)
    Log(LogLevel::kInfo, "raised the open file limit", {{"from", before}, {"to", after}});

  std::string http_listen = opts.http_listen.empty() ? (opts.dev ? "127.0.0.1:8080" : "0.0.0.0:8080") : opts.http_listen;
  std::string http_host;
  uint16_t http_port = 0;
  if (!ParseHostPort(http_listen, http_host, http_port)) {
    std::cerr << "verbatim serve: --http-listen must be HOST:PORT (got '" << http_listen << "')\n";
    return kExitUsage;
  }

  const std::string media_dir = opts.media_dir.empty() ? opts.data_dir + "/media" : opts.media_dir;
  TightenReport tightened;
  if (Status s = PrepareDataDir(opts.data_dir, media_dir, tightened); !s.ok()) {
    std::cerr << "verbatim serve: " << s.message() << "\n";
    return kExitServer;
  }
  ReportTightened(tightened, opts.data_dir, Notice{"verbatim serve", true});

  const std::string store_name = StoreName(opts.data_dir, opts.database_url);
  auto opened = OpenConfiguredStore(opts.data_dir, opts.database_url,
                                    opts.sync == "full" ? store::SyncMode::kFull : store::SyncMode::kNormal);
  if (!opened.ok()) {
    std::cerr << "verbatim serve: cannot open store " << store_name << ": " << opened.status().message() << "\n";
    return kExitServer;
  }
  Log(LogLevel::kInfo, "store opened", {{"store", opts.database_url.empty() ? "sqlite" : "postgresql"},
                                        {"database", store_name}});
  // Recordings and conversations are read on every GET: keep recent ones in memory.
  auto store = std::make_unique<store::CachingStore>(std::move(*opened));
  // Held until the process ends: the key-encryption key file's lock keeps
  // `verbatim kek rotate` from running under this server.
  auto secrets =
      BindSecrets(*store, opts.data_dir, opts.key_encryption_key_file, Notice{"verbatim serve", true}, store_name);
  if (!secrets.ok()) {
    std::cerr << "verbatim serve: " << secrets.status().message() << "\n";
    return kExitServer;
  }

  // The server is bound before the App exists: the issuer depends on the bound port.
  std::unique_ptr<api::App> app;
  api::HttpServerOptions hopts;
  hopts.host = http_host;
  hopts.port = http_port;
  hopts.threads = opts.threads;
  hopts.max_body_bytes = opts.max_body_bytes;
  if (Status s = ApplyNetworkOptions(opts, hopts); !s.ok()) {
    std::cerr << "verbatim serve: " << s.message() << "\n";
    return kExitUsage;
  }
  PrepareFileLimit(hopts);
  // Set before server.Start(), once the hub exists; WebSocket upgrades for its path go to it.
  std::unique_ptr<api::AudioHookEndpoint> audiohook;
  api::HttpServer server(
      hopts,
      [&app](std::shared_ptr<const api::OwnedRequest> r, api::Responder respond) {
        app->HandleAsync(std::move(r), std::move(respond));
      },
      [&app](int status, std::string code, std::string message) {
        return app->RenderReadError(status, std::move(code), std::move(message));
      },
      api::UpgradeHandler{
          [&audiohook](std::string_view path) { return audiohook && audiohook->WantsUpgrade(path); },
          [&audiohook, &app](api::UpgradedConnection c) {
            if (!c.event_stream.empty()) return app->events().Accept(std::move(c));  // GET /api/v2/events
            audiohook->Accept(std::move(c));
          }});
  if (Status s = server.Listen(); !s.ok()) {
    std::cerr << "verbatim serve: " << s.message() << "\n";
    return kExitServer;
  }
  const std::string bound = HostForUrl(http_host) + ":" + std::to_string(server.port());

  // Several nodes: who this node is, and where the others send downloads of
  // the files it records (docs/deployment.md, "Several nodes").
  auto node_id = NodeIdOf(opts.data_dir);
  if (!node_id.ok()) {
    std::cerr << "verbatim serve: " << node_id.status().message() << "\n";
    return kExitServer;
  }
  if (!opts.advertise_url.empty() && opts.advertise_url.rfind("http://", 0) != 0 &&
      opts.advertise_url.rfind("https://", 0) != 0) {
    std::cerr << "verbatim serve: --advertise-url must be an http:// or https:// URL (got '" << opts.advertise_url
              << "')\n";
    return kExitUsage;
  }
  if (!opts.database_url.empty() && opts.advertise_url.empty())
    Log(LogLevel::kWarn, "no --advertise-url: other nodes cannot send downloads of recordings made here to this node",
        {{"node", *node_id}});

  api::AppConfig cfg;
  const char* scheme = hopts.tls ? "https" : "http";
  cfg.issuer = opts.issuer.empty() ? std::string(scheme) + "://" + bound : opts.issuer;
  while (!cfg.issuer.empty() && cfg.issuer.back() == '/') cfg.issuer.pop_back();
  cfg.audience = cfg.issuer + "/api";
  cfg.media_dir = media_dir;
  cfg.limits = {opts.rate_token_per_client, opts.rate_auth_failures, opts.rate_auth_failure_burst};
  cfg.audit_retention_days = opts.audit_retention_days;
  cfg.secrets = secrets->box;
  cfg.dev_trunk = opts.dev;
  cfg.console = !opts.no_console;
  cfg.events_heartbeat = std::chrono::seconds(opts.events_heartbeat_seconds);
  cfg.webhook_allow_private = opts.webhook_allow_private;
  cfg.node_id = *node_id;
  if (const char* dir = std::getenv("VERBATIM_CONSOLE_ASSETS_DIR")) cfg.console_assets_dir = dir;
  if (!opts.config_path.empty()) {
    std::ifstream config(opts.config_path);
    std::stringstream text;
    text << config.rdbuf();
    auto trunks = api::ParseTrunksToml(text.str(), SystemClock::Instance().Now());
    if (!trunks.ok()) {
      std::cerr << "verbatim serve: " << opts.config_path << ": " << trunks.status().message() << "\n";
      return kExitUsage;
    }
    cfg.config_trunks = std::move(*trunks);
  }
  app = std::make_unique<api::App>(cfg, *store, SystemClock::Instance());
  if (Status s = app->Init(); !s.ok()) {
    std::cerr << "verbatim serve: " << s.ToString() << "\n";
    return kExitServer;
  }

  // Webhooks follow the change log from here on (docs/webhooks.md).
  webhook::WebhookConfig webhook_cfg;
  webhook_cfg.send.allow_private = opts.webhook_allow_private;
  webhook_cfg.send.timeout = std::chrono::seconds(opts.webhook_timeout_seconds);
  webhook_cfg.retry_base = std::chrono::milliseconds(opts.webhook_retry_base_ms);
  webhook_cfg.retry_window = std::chrono::seconds(opts.webhook_retry_window_seconds);
  auto webhooks =
      webhook::StartWebhookDispatcher(*store, SystemClock::Instance(), secrets->box, webhook_cfg, &app->metrics());

  server.AttachMetrics(app->metrics());
  std::unique_ptr<api::MetricsListener> metrics_listener;
  std::string metrics_host;
  if (!opts.metrics_listen.empty()) {
    uint16_t port = 0;
    if (!ParseHostPort(opts.metrics_listen, metrics_host, port)) {
      std::cerr << "verbatim serve: --metrics-listen must be HOST:PORT (got '" << opts.metrics_listen << "')\n";
      return kExitUsage;
    }
    metrics_listener = std::make_unique<api::MetricsListener>(metrics_host, port, app->metrics());
    if (Status s = metrics_listener->Listen(); !s.ok()) {
      std::cerr << "verbatim serve: --metrics-listen: " << s.message() << "\n";
      return kExitServer;
    }
  }

  app->metrics().AddCounterFunc("verbatim_store_cache_hits_total", "Recording/conversation reads served from memory.",
                                [&store] { return static_cast<uint64_t>(store->stats().hits); });
  app->metrics().AddCounterFunc("verbatim_store_cache_misses_total", "Recording/conversation reads that went to the store.",
                                [&store] { return static_cast<uint64_t>(store->stats().misses); });

  // Media capture: the hub records live sessions; the bridge is its view of the store.
  api::MediaBridge bridge(*app, *node_id);
  // Several nodes: this node's heartbeat, and the watch over every node's live
  // media sessions (docs/deployment.md, "Media sessions and node failure").
  service::NodePresence::Options presence_opts;
  presence_opts.node_id = *node_id;
  presence_opts.advertise_url = opts.advertise_url;
  presence_opts.lease = std::chrono::seconds(opts.media_lease_seconds);
  presence_opts.each_round = [&bridge] { bridge.RetryReleases(); };
  service::NodePresence presence(
      *store, SystemClock::Instance(), presence_opts, [&bridge] { return bridge.Claims(); },
      [&bridge](const std::vector<store::MediaSessionClaim>& ended, TimePoint at, service::InterruptCause why) {
        bridge.RecordInterrupted(ended, at, why);
      });
  // Before the hub opens anything: what this node's previous run held is
  // interrupted first. Without that, a claim of the previous run would stay
  // held by this (live) node; like an unreachable database at start-up, it
  // stops the start.
  if (Status s = presence.Start(); !s.ok()) {
    std::cerr << "verbatim serve: cannot register node " << *node_id << ": " << s.message() << "\n";
    return kExitServer;
  }
  media::capture::HubOptions hub_opts;
  hub_opts.media_root = media_dir;
  if (opts.sync == "full") hub_opts.wav.sync_interval = hub_opts.wav.checkpoint_interval;
  hub_opts.min_free_bytes = opts.media_min_free_mb << 20;
  hub_opts.max_sessions = opts.max_media_sessions;
  auto hub = std::make_unique<media::capture::MediaHub>(hub_opts, bridge);
  if (size_t n = hub->RecoverPartials(); n > 0) Log(LogLevel::kWarn, "recovered partial recordings", {{"files", n}});
  app->AddRecordingListener({[&hub](const std::string& id, const store::Recording& r) {
    if (hub) hub->OnRecordingChanged(id, r.state);
  }});
  // Several nodes: a pause committed through another node reaches the call recorded here.
  app->FollowOtherNodes([&hub] { return hub ? hub->LiveConversations() : std::vector<std::string>{}; });
  app->metrics().AddGauge("verbatim_media_active_sessions", "Live media sessions (SIPREC calls, AudioHook streams).",
                          [&hub] { return hub ? static_cast<double>(hub->Stats().active_sessions) : 0.0; });
  app->metrics().AddCounterFunc("verbatim_rtp_packets_lost_total", "RTP packets declared lost by the jitter buffers.",
                                [&hub] { return hub ? static_cast<uint64_t>(hub->Stats().lost_packets) : uint64_t{0}; });
  hub->Start();

  // SIPREC: SIP over UDP and TCP on one port, RTP from a port range.
  std::string sip_listen = opts.sip_listen.empty() ? http_host + ":5060" : opts.sip_listen;
  media::siprec::SipServerOptions sip_opts;
  if (!ParseHostPort(sip_listen, sip_opts.host, sip_opts.port) ||
      !ParseRtpRange(opts.rtp_ports, sip_opts.rtp_first, sip_opts.rtp_last)) {
    std::cerr << "verbatim serve: --sip-listen must be HOST:PORT and --rtp-ports FIRST-LAST\n";
    return kExitUsage;
  }
  sip_opts.media_address = opts.media_address;
  sip_opts.rtp_timeout = std::chrono::seconds(opts.rtp_timeout);
  sip_opts.min_se = static_cast<uint32_t>(opts.sip_min_se);
  sip_opts.nonce_lifetime = std::chrono::seconds(opts.sip_nonce_lifetime);
  sip_opts.events = api::SiprecEventCounter(app->metrics());
  if (Status s = ApplySipTlsOptions(opts, sip_opts); !s.ok()) {
    std::cerr << "verbatim serve: " << s.message() << "\n";
    return kExitUsage;
  }
  auto sip = std::make_unique<media::siprec::SipServer>(sip_opts, *hub);
  if (Status s = sip->Listen(); !s.ok()) {
    std::cerr << "verbatim serve: " << s.message() << "\n";
    return kExitServer;
  }
  app->AddRecordingListener({[&sip](const std::string& id, const store::Recording& r) {
    // A disconnect through the API ends the SIPREC dialog's media too.
    if (sip && !r.timeline.empty() && r.timeline.back().action == "disconnect") sip->ConversationEnded(id);
  }});
  app->metrics().AddGauge("verbatim_sip_dialogs", "Live SIPREC dialogs.",
                          [&sip] { return sip ? static_cast<double>(sip->DialogStats().active_dialogs) : 0.0; });
  app->metrics().AddCounterFunc("verbatim_sip_malformed_total", "SIP messages rejected as malformed.",
                                [&sip] { return sip ? static_cast<uint64_t>(sip->Stats().malformed) : uint64_t{0}; });
  app->metrics().AddCounterFunc("verbatim_rtp_packets_received_total", "RTP packets delivered to recordings.",
                                [&sip] { return sip ? static_cast<uint64_t>(sip->RtpStats().packets.load()) : uint64_t{0}; });
  app->metrics().AddCounterFunc("verbatim_rtp_packets_dropped_total", "RTP datagrams dropped (not RTP, RTCP, wrong payload type or source).",
                                [&sip] {
                                  if (!sip) return uint64_t{0};
                                  const auto& c = sip->RtpStats();
                                  return static_cast<uint64_t>(c.not_rtp + c.rtcp + c.wrong_payload + c.wrong_source +
                                                               c.srtp_auth_failed + c.srtp_replayed + c.srtp_key_expired);
                                });
  api::AddSiprecMetrics(app->metrics(), [&sip] { return sip.get(); });
  app->sip_trunks().Subscribe([&sip](std::shared_ptr<const media::siprec::TrunkTable> t) {
    if (sip) sip->SetTrunks(std::move(t));
  });
  if (app->sip_trunks().All().empty())
    Log(LogLevel::kWarn, "no SIPREC trunks: every INVITE is refused (docs/sip-trunks.md)", {});
  for (const auto& e : app->sip_trunks().All()) {
    if (!sip_opts.tls && e.trunk.transports == std::vector<std::string>{"tls"})
      Log(LogLevel::kWarn, "a SIPREC trunk admits only TLS but --sip-tls-listen is off: its INVITEs cannot arrive",
          {{"trunk", e.trunk.name}, {"see", "docs/sip-trunks.md"}});
  }
  sip->Start();
  audiohook = std::make_unique<api::AudioHookEndpoint>(*app, *hub);

  std::optional<DevCredentials> dev;
  if (opts.dev) {
    auto seeded = SeedDevOrganization(*app, opts.data_dir);
    if (!seeded.ok()) {
      std::cerr << "verbatim serve --dev: " << seeded.status().ToString() << "\n";
      return kExitServer;
    }
    dev = std::move(*seeded);
  }

  // gRPC: the same core as HTTP (docs/grpc.md); TLS with the HTTP certificate.
  std::unique_ptr<transports::grpc::GrpcServer> grpc;
  const std::string grpc_listen = !opts.grpc_listen.empty() ? opts.grpc_listen : opts.dev ? "127.0.0.1:0" : "";
  if (!grpc_listen.empty()) {
    std::string grpc_host;
    uint16_t grpc_port = 0;
    if (!ParseHostPort(grpc_listen, grpc_host, grpc_port)) {
      std::cerr << "verbatim serve: --grpc-listen must be HOST:PORT (got '" << grpc_listen << "')\n";
      return kExitUsage;
    }
    transports::grpc::GrpcServerOptions gopts;
    gopts.listen = grpc_listen;
    gopts.issuer = cfg.issuer;
    gopts.tls_cert = opts.tls_cert;
    gopts.tls_key = opts.tls_key;
    grpc = std::make_unique<transports::grpc::GrpcServer>(app->services());
    if (Status s = grpc->Start(gopts); !s.ok()) {
      std::cerr << "verbatim serve: --grpc-listen: " << s.message() << "\n";
      return kExitServer;
    }
  }

  server.Start();
  if (metrics_listener) metrics_listener->Start();
  json::object listen;
  listen["http"] = bound;
  listen["scheme"] = scheme;  // of "http", which stays HOST:PORT for older readers
  if (metrics_listener)
    listen["metrics"] = HostForUrl(metrics_host) + ":" + std::to_string(metrics_listener->port());
  listen["sip"] = HostForUrl(sip_opts.host) + ":" + std::to_string(sip->port());
  if (grpc) listen["grpc"] = grpc->address();
  listen["node"] = *node_id;
  if (sip->tls_port() != 0) listen["sipTls"] = HostForUrl(sip_opts.tls_host) + ":" + std::to_string(sip->tls_port());
  if (!WriteFileAtomically(opts.data_dir + "/listen.json", json::serialize(listen) + "\n", 0600)) {
    std::cerr << "verbatim serve: cannot write " << opts.data_dir << "/listen.json\n";
    server.Stop();
    return kExitServer;
  }
  app->SetReady(true);
  Log(LogLevel::kInfo, "serving", {{"http", bound}, {"sip", listen["sip"]}, {"grpc", grpc ? grpc->address() : std::string("off")}, {"issuer", cfg.issuer}, {"dataDir", opts.data_dir}, {"node", *node_id},
                                   {"sync", opts.sync}, {"dev", opts.dev},
                                   {"console", cfg.console ? cfg.issuer + "/console" : std::string("off")},
                                   {"tls", hopts.tls ? hopts.tls->Describe() : std::string("off")},
                                   {"sipTls", sip_opts.tls ? sip_opts.tls->Describe() : std::string("off")}});
  if (dev) {
    PrintDevBanner(*dev, cfg.issuer, opts.data_dir);
    std::cout << api::DevTrunkBanner() << "\n";
    if (grpc) std::cout << "gRPC API on " << grpc->address() << " (docs/grpc.md)\n";
    std::cout << std::flush;
  }

  {
    Maintenance maintenance(*app);
    int sig = 0;
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
      ReloadTls(hopts, app->metrics());
      if (sip_opts.tls && !sip_opts.tls->Reload().ok())
        Log(LogLevel::kError, "SIP TLS certificate reload failed; the previous certificate stays in use", {});
    }
    Log(LogLevel::kInfo, "stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    app->SetReady(false);
    audiohook->Shutdown(std::chrono::milliseconds(2000));  // AudioHook clients get a `disconnect`
    app->events().Shutdown();  // event streams end with a stream.end event
    server.Stop(std::chrono::milliseconds(5000));
    if (grpc) grpc->Shutdown(std::chrono::milliseconds(2000));
    if (metrics_listener) metrics_listener->Stop();
    sip->Stop();
    app->FollowOtherNodes(nullptr);
    hub->Stop();  // finishes every open segment file
    presence.Leave();  // the calls recorded here are interrupted now, not when the lease runs out
  }
  webhooks.reset();  // attempts in flight finish; what is left stays queued for the next start
  grpc.reset();
  audiohook.reset();
  sip.reset();
  hub.reset();
  app.reset();  // flushes the audit log
  Log(LogLevel::kInfo, "stopped");
  return kExitOk;
}

}  // namespace verbatim::cli
