// verbatim: one binary, subcommands in the style of Vault's CLI.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <toml++/toml.h>

#include "cli/commands.h"
#include "core/ids.h"
#include "core/version.h"
#include "store/postgres/pg_conn.h"
#include "core/toml_text.h"

using namespace verbatim::cli;  // NOLINT: main file only

namespace {

// Optional TOML config (--config FILE or VERBATIM_CONFIG): values become the
// defaults, so flags and VERBATIM_* environment variables still win.
std::string FindConfigPath(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--config=", 0) == 0) return a.substr(9);
  }
  const char* env = std::getenv("VERBATIM_CONFIG");
  return env ? env : "";
}

bool ApplyToml(const std::string& path, ServeOptions& s) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    std::cerr << "verbatim: cannot read config " << path << "\n";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (auto unsafe = verbatim::UnsafeTomlText(text.str())) {  // see core/toml_text.h
    std::cerr << "verbatim: cannot read config " << path << ": " << *unsafe << "\n";
    return false;
  }
  try {
    toml::table t = toml::parse(text.str(), path);
    if (auto v = t["data_dir"].value<std::string>()) s.data_dir = *v;
    if (auto v = t["http_listen"].value<std::string>()) s.http_listen = *v;
    if (auto v = t["sip_listen"].value<std::string>()) s.sip_listen = *v;
    if (auto v = t["issuer"].value<std::string>()) s.issuer = *v;
    if (auto v = t["media_dir"].value<std::string>()) s.media_dir = *v;
    if (auto v = t["rtp_ports"].value<std::string>()) s.rtp_ports = *v;
    if (auto v = t["media_address"].value<std::string>()) s.media_address = *v;
    if (auto v = t["sync"].value<std::string>()) s.sync = *v;
    if (auto v = t["log_level"].value<std::string>()) s.log_level = *v;
    if (auto v = t["threads"].value<int64_t>()) s.threads = static_cast<int>(*v);
    if (auto v = t["max_body_bytes"].value<int64_t>()) s.max_body_bytes = static_cast<size_t>(*v);
    if (auto v = t["rate_limit_token"].value<double>()) s.rate_token_per_client = *v;
    if (auto v = t["rate_limit_auth_failures"].value<double>()) s.rate_auth_failures = *v;
    if (auto v = t["rate_limit_auth_burst"].value<double>()) s.rate_auth_failure_burst = *v;
    if (auto v = t["audit_retention_days"].value<int>()) s.audit_retention_days = *v;
    if (auto v = t["key_encryption_key_file"].value<std::string>()) s.key_encryption_key_file = *v;
    if (auto v = t["tls_cert"].value<std::string>()) s.tls_cert = *v;
    if (auto v = t["tls_key"].value<std::string>()) s.tls_key = *v;
    if (auto v = t["trusted_proxies"].value<std::string>()) s.trusted_proxies = *v;
    if (auto v = t["forwarded_header"].value<std::string>()) s.forwarded_header = *v;
    if (auto v = t["max_connections"].value<int64_t>()) s.max_connections = static_cast<size_t>(std::max<int64_t>(0, *v));
    if (auto v = t["max_connections_per_ip"].value<int64_t>()) s.max_connections_per_ip = static_cast<size_t>(std::max<int64_t>(0, *v));
    if (auto v = t["metrics_listen"].value<std::string>()) s.metrics_listen = *v;
    if (auto v = t["grpc_listen"].value<std::string>()) s.grpc_listen = *v;
    if (auto v = t["database_url"].value<std::string>()) s.database_url = *v;
    if (auto v = t["media_min_free_mb"].value<int64_t>()) s.media_min_free_mb = static_cast<uint64_t>(std::max<int64_t>(0, *v));
    if (auto v = t["rtp_timeout"].value<int>()) s.rtp_timeout = *v;
    if (auto v = t["sip_min_se"].value<int>()) s.sip_min_se = *v;
    if (auto v = t["sip_nonce_lifetime"].value<int>()) s.sip_nonce_lifetime = *v;
    if (auto v = t["sip_tls_listen"].value<std::string>()) s.sip_tls_listen = *v;
    if (auto v = t["sip_tls_cert"].value<std::string>()) s.sip_tls_cert = *v;
    if (auto v = t["sip_tls_key"].value<std::string>()) s.sip_tls_key = *v;
    if (auto v = t["max_media_sessions"].value<int64_t>()) s.max_media_sessions = static_cast<size_t>(std::max<int64_t>(1, *v));
    // The flags' ranges hold for the file too (CLI11 checks only what it parses).
    if (auto v = t["events_heartbeat_seconds"].value<int64_t>())
      s.events_heartbeat_seconds = static_cast<int>(std::clamp<int64_t>(*v, 1, 3600));
    if (auto v = t["advertise_url"].value<std::string>()) s.advertise_url = *v;
    if (auto v = t["media_lease_seconds"].value<int64_t>())
      s.media_lease_seconds = static_cast<int>(std::clamp<int64_t>(*v, 1, 300));
    if (auto v = t["webhook_allow_private"].value<bool>()) s.webhook_allow_private = *v;
    if (auto v = t["webhook_timeout_seconds"].value<int64_t>())
      s.webhook_timeout_seconds = static_cast<int>(std::clamp<int64_t>(*v, 1, 60));
    if (auto v = t["webhook_retry_base_ms"].value<int64_t>())
      s.webhook_retry_base_ms = static_cast<int>(std::clamp<int64_t>(*v, 10, 3600000));
    if (auto v = t["webhook_retry_window_seconds"].value<int64_t>())
      s.webhook_retry_window_seconds = static_cast<int>(std::clamp<int64_t>(*v, 1, 604800));
    s.config_path = path;  // serve reads its [[siprec.trunks]] (docs/sip-trunks.md)
    return true;
  } catch (const toml::parse_error& e) {
    std::cerr << "verbatim: cannot read config " << path << ": " << e.description() << " (line "
              << e.source().begin.line << ")\n";
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Everything verbatim creates (database, WAVs, key file, listen.json) is
  // private to its user: directories 0700, files 0600 (docs/secrets-at-rest.md).
  ::umask(077);
  verbatim::InitRandom();
  CLI::App app{"verbatim: conversation recording whose every denial explains itself"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("verbatim ") + verbatim::kVersion);

  ServeOptions serve;
  std::string config_path = FindConfigPath(argc, argv);
  if (!config_path.empty() && !ApplyToml(config_path, serve)) return kExitUsage;

  auto* s = app.add_subcommand("serve", "Run the API, OAuth server and media capture");
  s->add_option("--config", config_path, "TOML config file (flags and VERBATIM_* env override it)");
  s->add_option("--data-dir", serve.data_dir, "Data directory (SQLite store, media)")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  s->add_option("--http-listen", serve.http_listen, "HTTP HOST:PORT (port 0 = pick a free one)")->envname("VERBATIM_HTTP_LISTEN");
  s->add_option("--sip-listen", serve.sip_listen, "SIP HOST:PORT, UDP and TCP (port 0 = pick a free one)")->envname("VERBATIM_SIP_LISTEN");
  s->add_option("--sip-tls-listen", serve.sip_tls_listen,
                "SIP over TLS HOST:PORT (port 0 = pick a free one; default off; docs/sip-trunks.md)")
      ->envname("VERBATIM_SIP_TLS_LISTEN");
  s->add_option("--sip-tls-cert", serve.sip_tls_cert, "TLS certificate chain (PEM) for --sip-tls-listen (default --tls-cert)")
      ->envname("VERBATIM_SIP_TLS_CERT");
  s->add_option("--sip-tls-key", serve.sip_tls_key, "TLS private key (PEM) of --sip-tls-cert (default --tls-key)")
      ->envname("VERBATIM_SIP_TLS_KEY");
  s->add_option("--issuer", serve.issuer, "OAuth issuer URL (default http://<bound HTTP address>)")->envname("VERBATIM_ISSUER");
  s->add_option("--rtp-ports", serve.rtp_ports, "RTP port range for SIPREC streams, FIRST-LAST")
      ->envname("VERBATIM_RTP_PORTS")->capture_default_str();
  s->add_option("--media-address", serve.media_address, "Address put in SDP answers (default: the SIP host)")
      ->envname("VERBATIM_MEDIA_ADDRESS");
  s->add_option("--media-dir", serve.media_dir, "Where WAV files go (default <data-dir>/media)")->envname("VERBATIM_MEDIA_DIR");
  s->add_option("--sync", serve.sync, "Durability: normal (survives kill -9) or full (survives power loss)")
      ->envname("VERBATIM_SYNC")->check(CLI::IsMember({"normal", "full"}))->capture_default_str();
  s->add_option("--log-level", serve.log_level, "debug | info | warn | error")
      ->envname("VERBATIM_LOG_LEVEL")->check(CLI::IsMember({"debug", "info", "warn", "error"}))->capture_default_str();
  s->add_option("--threads", serve.threads, "HTTP worker threads (0 = one per core)")->envname("VERBATIM_THREADS");
  s->add_option("--max-body-bytes", serve.max_body_bytes, "Largest accepted request body")->envname("VERBATIM_MAX_BODY_BYTES")->capture_default_str();
  s->add_option("--rate-limit-token", serve.rate_token_per_client,
                "Token requests per second per client (burst: 2 s worth; 0 = unlimited)")
      ->envname("VERBATIM_RATE_LIMIT_TOKEN")->capture_default_str();
  s->add_option("--rate-limit-auth-failures", serve.rate_auth_failures,
                "Failed authentications per second per source address (IPv6: /64) and per (client, address) (0 = unlimited)")
      ->envname("VERBATIM_RATE_LIMIT_AUTH_FAILURES")->capture_default_str();
  s->add_option("--rate-limit-auth-burst", serve.rate_auth_failure_burst, "Failed authentications allowed in a burst")
      ->envname("VERBATIM_RATE_LIMIT_AUTH_BURST")->capture_default_str();
  s->add_option("--audit-retention-days", serve.audit_retention_days,
                "Delete audit events older than this many days, hourly (0 = keep every event)")
      ->envname("VERBATIM_AUDIT_RETENTION_DAYS")->check(CLI::Range(0, 36500))->capture_default_str();
  s->add_option("--key-encryption-key-file", serve.key_encryption_key_file,
                "Key that seals signing keys and integration secrets (default <data-dir>/kek; created 0600 for a new "
                "database; docs/secrets-at-rest.md)")
      ->envname("VERBATIM_KEY_ENCRYPTION_KEY_FILE");
  s->add_option("--tls-cert", serve.tls_cert, "TLS certificate chain (PEM, leaf first): HTTPS and wss:// on --http-listen; reloaded on SIGHUP")
      ->envname("VERBATIM_TLS_CERT");
  s->add_option("--tls-key", serve.tls_key, "TLS private key (PEM) of --tls-cert")->envname("VERBATIM_TLS_KEY");
  s->add_option("--trusted-proxies", serve.trusted_proxies,
                "CIDR[,CIDR...] of reverse proxies whose --forwarded-header names the client address")
      ->envname("VERBATIM_TRUSTED_PROXIES");
  s->add_option("--forwarded-header", serve.forwarded_header,
                "Header the trusted proxies write: x-forwarded-for or forwarded (RFC 7239); the other is ignored")
      ->envname("VERBATIM_FORWARDED_HEADER")->check(CLI::IsMember({"x-forwarded-for", "forwarded"}, CLI::ignore_case))
      ->capture_default_str();
  s->add_option("--max-connections", serve.max_connections, "Concurrent HTTP connections, WebSockets included (0 = no cap)")
      ->envname("VERBATIM_MAX_CONNECTIONS")->capture_default_str();
  s->add_option("--max-connections-per-ip", serve.max_connections_per_ip,
                "Concurrent HTTP connections per client address, IPv6 per /64 (0 = no cap)")
      ->envname("VERBATIM_MAX_CONNECTIONS_PER_IP")->capture_default_str();
  s->add_option("--grpc-listen", serve.grpc_listen,
                "HOST:PORT of the gRPC API (docs/grpc.md); TLS with --tls-cert/--tls-key like HTTP. Off unless given; "
                "--dev picks a free loopback port")
      ->envname("VERBATIM_GRPC_LISTEN");
  s->add_option("--metrics-listen", serve.metrics_listen,
                "HOST:PORT serving GET /metrics without a token, for a private network (the API port needs organization:metrics:view)")
      ->envname("VERBATIM_METRICS_LISTEN");
  // One variable for every command that opens the store; the TOML value (if
  // any) is its default. Prefer the environment (or TOML) to the flag: a
  // password in a flag shows in `ps`.
  const char* kDatabaseUrlHelp =
      "PostgreSQL instead of SQLite: postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE (docs/deployment.md; never logged "
      "with its password)";
  s->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  s->add_option("--media-min-free-mb", serve.media_min_free_mb,
                "Refuse new SIPREC/AudioHook sessions (503) while the media filesystem has less free space (0 = never)")
      ->envname("VERBATIM_MEDIA_MIN_FREE_MB")->capture_default_str();
  s->add_option("--rtp-timeout", serve.rtp_timeout,
                "Seconds without RTP on any sending stream that end a SIPREC session with a BYE (0 = never)")
      ->envname("VERBATIM_RTP_TIMEOUT")->check(CLI::Range(0, 86400))->capture_default_str();
  s->add_option("--sip-min-se", serve.sip_min_se,
                "Smallest RFC 4028 session interval accepted, seconds (shorter: 422; RFC minimum 90)")
      ->envname("VERBATIM_SIP_MIN_SE")->check(CLI::Range(1, 86400))->capture_default_str();
  s->add_option("--sip-nonce-lifetime", serve.sip_nonce_lifetime,
                "Seconds a SIP digest nonce stays fresh; older ones get 401 stale=true")
      ->envname("VERBATIM_SIP_NONCE_LIFETIME")->check(CLI::Range(1, 86400))->capture_default_str();
  s->add_option("--max-media-sessions", serve.max_media_sessions,
                "Live SIPREC + AudioHook sessions at most (beyond: SIP 503, AudioHook disconnect)")
      ->envname("VERBATIM_MAX_MEDIA_SESSIONS")->check(CLI::Range(1, 1000000))->capture_default_str();
  s->add_flag("--no-console", serve.no_console,
              "Do not serve the admin console at /console (docs/console.md); the API is unchanged")
      ->envname("VERBATIM_NO_CONSOLE");
  s->add_option("--events-heartbeat-seconds", serve.events_heartbeat_seconds,
                "GET /api/v2/events sends a keep-alive comment this often, so proxies keep idle streams open "
                "(docs/changes.md)")
      ->envname("VERBATIM_EVENTS_HEARTBEAT_SECONDS")->check(CLI::Range(1, 3600))->capture_default_str();
  s->add_flag("--webhook-allow-private", serve.webhook_allow_private,
              "Let webhooks target loopback, private and link-local addresses (off: refused as SSRF; "
              "docs/webhooks.md)")
      ->envname("VERBATIM_WEBHOOK_ALLOW_PRIVATE");
  s->add_option("--webhook-timeout-seconds", serve.webhook_timeout_seconds,
                "One webhook delivery attempt (connect, TLS, request, response) at most this long")
      ->envname("VERBATIM_WEBHOOK_TIMEOUT_SECONDS")->check(CLI::Range(1, 60))->capture_default_str();
  s->add_option("--webhook-retry-base-ms", serve.webhook_retry_base_ms,
                "Wait before the first retry of a failed delivery; each retry waits twice as long, up to 1 h")
      ->envname("VERBATIM_WEBHOOK_RETRY_BASE_MS")->check(CLI::Range(10, 3600000))->capture_default_str();
  s->add_option("--webhook-retry-window-seconds", serve.webhook_retry_window_seconds,
                "A delivery that has failed this long fails for good; a webhook none of whose deliveries got "
                "through meanwhile is disabled")
      ->envname("VERBATIM_WEBHOOK_RETRY_WINDOW_SECONDS")->check(CLI::Range(1, 604800))->capture_default_str();
  s->add_option("--advertise-url", serve.advertise_url,
                "This node's own URL, e.g. https://10.0.0.5:8443: the other nodes redirect downloads of the "
                "recordings made here to it (several nodes; docs/deployment.md \"Downloading recordings on any node\")")
      ->envname("VERBATIM_ADVERTISE_URL");
  s->add_option("--media-lease-seconds", serve.media_lease_seconds,
                "A node that has not renewed its lease for this long has its live media sessions marked "
                "interrupted by the other nodes (docs/deployment.md)")
      ->envname("VERBATIM_MEDIA_LEASE_SECONDS")->check(CLI::Range(1, 300))->capture_default_str();
  s->add_flag("--dev", serve.dev, "Development mode: demo org, credentials in <data-dir>/dev-credentials.json, loopback only");
  s->footer("SIPREC trunks (who may record) come from `verbatim trunks add`, the admin API\n"
            "(/api/v2/media/siprec/trunks) or [[siprec.trunks]] in the --config file; see docs/sip-trunks.md.");

  std::string init_dir = "./data", init_name = "admin", kek_file;
  bool init_json = false, init_force = false;
  auto* i = app.add_subcommand("init", "Create the first System Administrator client and print its secret once");
  i->add_option("--data-dir", init_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  i->add_option("--name", init_name, "Client name")->capture_default_str();
  i->add_option("--key-encryption-key-file", kek_file, "Key-encryption key (default <data-dir>/kek; created if absent)")
      ->envname("VERBATIM_KEY_ENCRYPTION_KEY_FILE");
  i->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  i->add_flag("--json", init_json, "Print {\"clientId\",\"clientSecret\"} only");
  i->add_flag("--force", init_force, "Create another administrator even if clients exist");

  ClientOptions client;
  std::string client_id, client_secret, scope;
  auto* t = app.add_subcommand("token", "Get an access token (client_credentials)");
  t->add_option("--client-id", client_id, "OAuth client id")->envname("VERBATIM_CLIENT_ID")->required();
  t->add_option("--client-secret", client_secret, "OAuth client secret")->envname("VERBATIM_CLIENT_SECRET")->required();
  t->add_option("--scope", scope, "Space-separated scopes (default: all the client may request)");
  t->add_option("--server", client.server, "Server URL (default from <data-dir>/listen.json)")->envname("VERBATIM_SERVER");
  t->add_option("--data-dir", client.data_dir, "Where to find listen.json")->envname("VERBATIM_DATA_DIR");
  t->add_option("--format", client.format, "table (token only) | json")->check(CLI::IsMember({"table", "json"}));
  t->footer("Examples:\n  verbatim token --client-id ID --client-secret SECRET --scope recording:control\n"
            "  VERBATIM_CLIENT_SECRET=... verbatim token --client-id ID --format json");

  std::string token, context_id;
  std::vector<std::string> request;
  auto* e = app.add_subcommand("explain", "Explain the authorization decision for a request, layer by layer");
  e->add_option("--token", token, "Access token to evaluate")->envname("VERBATIM_TOKEN")->required();
  e->add_option("--context-id", context_id, "Replay a past decision from the audit log");
  e->add_option("request", request, "METHOD PATH, e.g. POST /api/v2/recordings/conversations/ID/actions/start");
  e->add_option("--server", client.server, "Server URL (default from <data-dir>/listen.json)")->envname("VERBATIM_SERVER");
  e->add_option("--data-dir", client.data_dir, "Where to find listen.json")->envname("VERBATIM_DATA_DIR");
  e->add_option("--format", client.format, "table | json")->check(CLI::IsMember({"table", "json"}));
  e->footer("Exit codes: 0 allowed, 3 denied, 1 usage error, 2 server error.\nExamples:\n"
            "  verbatim explain --token $T POST /api/v2/recordings/conversations/$ID/actions/start\n"
            "  verbatim explain --token $ADMIN_TOKEN --context-id 9f1c...");

  std::string keys_dir = "./data";
  auto* k = app.add_subcommand("keys", "Signing key management");
  k->require_subcommand(1);
  auto* rotate = k->add_subcommand("rotate", "Start signing with a new key; old keys stay in JWKS until their tokens expire");
  rotate->add_option("--data-dir", keys_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  rotate->add_option("--key-encryption-key-file", kek_file, "Key-encryption key (default <data-dir>/kek)")
      ->envname("VERBATIM_KEY_ENCRYPTION_KEY_FILE");
  rotate->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");

  auto* kek = app.add_subcommand("kek", "Key-encryption key management (docs/secrets-at-rest.md)");
  kek->require_subcommand(1);
  auto* kek_rotate = kek->add_subcommand(
      "rotate", "Re-seal every secret with a new key-encryption key and replace the key file (server stopped)");
  kek_rotate->add_option("--data-dir", keys_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  kek_rotate->add_option("--key-encryption-key-file", kek_file, "Key-encryption key (default <data-dir>/kek)")
      ->envname("VERBATIM_KEY_ENCRYPTION_KEY_FILE");
  kek_rotate->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  kek_rotate->footer("Exit codes: 0 rotated, 2 refused or failed (nothing changed unless it says so).\n"
                     "Example:\n  verbatim kek rotate --data-dir /var/lib/verbatim");

  TrunkAddOptions trunk_add;
  std::string trunks_dir = "./data", trunk_target;
  bool trunks_json = false;
  auto* tr = app.add_subcommand("trunks", "SIPREC trunks: the recording sources allowed to send INVITEs (docs/sip-trunks.md)");
  tr->require_subcommand(1);
  auto* tr_add = tr->add_subcommand("add", "Add a trunk (a running server picks it up within 10 s)");
  tr_add->add_option("--data-dir", trunk_add.data_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  tr_add->add_option("--name", trunk_add.name, "Trunk name: 1-64 of A-Z a-z 0-9 . _ -")->required();
  tr_add->add_option("--description", trunk_add.description, "Free text");
  tr_add->add_option("--network", trunk_add.networks, "Source network (CIDR, IPv4 or IPv6); repeat for more")->required();
  tr_add->add_option("--transport", trunk_add.transports, "udp | tcp | tls; repeat for more (default udp and tcp)");
  tr_add->add_option("--digest-user", trunk_add.digest_username, "SIP digest username (then the password on stdin)");
  tr_add->add_flag("--digest-password-stdin", trunk_add.digest_password_stdin, "Read the digest password from stdin's first line");
  tr_add->add_option("--digest-realm", trunk_add.digest_realm, "Digest realm (default verbatim)");
  tr_add->add_option("--max-sessions", trunk_add.max_sessions, "Concurrent sessions (default 100; 0 = global limit only)");
  tr_add->add_option("--max-channels", trunk_add.max_channels, "Streams recorded per session (default 8)");
  tr_add->add_option("--max-bandwidth-kbps", trunk_add.max_bandwidth_kbps, "Decoded audio per session (default 2048; 0 = none)");
  tr_add->add_option("--rtp-source", trunk_add.rtp_source, "offer (default) | latch (symmetric RTP behind NAT)")
      ->check(CLI::IsMember({"offer", "latch"}));
  tr_add->add_option("--srtp", trunk_add.srtp, "off | optional (default) | required: SRTP (SDES) media, over SIP/TLS only")
      ->check(CLI::IsMember({"off", "optional", "required"}));
  tr_add->add_flag("--json", trunk_add.json, "Print the trunk as JSON");
  tr_add->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  auto* tr_list = tr->add_subcommand("list", "List the trunks in the store");
  tr_list->add_option("--data-dir", trunks_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  tr_list->add_flag("--json", trunks_json, "JSON output");
  tr_list->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  auto* tr_rm = tr->add_subcommand("remove", "Remove a trunk: new INVITEs from it are refused, live calls go on");
  tr_rm->add_option("--data-dir", trunks_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  tr_rm->add_option("trunk", trunk_target, "Trunk name or id")->required();
  tr_rm->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  tr->footer("Examples:\n  verbatim trunks add --data-dir /var/lib/verbatim --name cube-east --network 192.0.2.0/24\n"
             "  printf '%s\\n' \"$PW\" | verbatim trunks add --name sbc --network 198.51.100.7/32 --digest-user sbc --digest-password-stdin\n"
             "  verbatim trunks list --data-dir /var/lib/verbatim\n  verbatim trunks remove --data-dir /var/lib/verbatim cube-east");

  UserCreateOptions user_create;
  std::string users_dir = "./data", user_target;
  bool users_json = false, user_password_stdin = false;
  auto* us = app.add_subcommand("users", "People who sign in (browser sign-in, the console): docs/users.md");
  us->require_subcommand(1);
  auto* us_create = us->add_subcommand("create", "Create a user; its password is generated and printed once, or read from stdin");
  us_create->add_option("--data-dir", user_create.data_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  us_create->add_option("--username", user_create.username, "What the person types to sign in: 1-64 of A-Z a-z 0-9 . _ - @ +")->required();
  us_create->add_option("--display-name", user_create.display_name, "Full name, shown in the console and the audit log");
  us_create->add_option("--email", user_create.email, "E-mail address (informational)");
  us_create->add_option("--role", user_create.roles, "Role name or id; repeat for more (e.g. \"System Administrator\")");
  us_create->add_flag("--password-stdin", user_create.password_stdin, "Read the password from stdin's first line (at least 12 characters)");
  us_create->add_flag("--json", user_create.json, "Print the user (and a generated password) as JSON");
  us_create->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  auto* us_list = us->add_subcommand("list", "List the users in the store");
  us_list->add_option("--data-dir", users_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  us_list->add_flag("--json", users_json, "JSON output");
  us_list->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  auto* us_pw = us->add_subcommand("password", "Set a new password (generated and printed, or from stdin); the user's tokens stop working");
  us_pw->add_option("--data-dir", users_dir, "Data directory")->envname("VERBATIM_DATA_DIR")->capture_default_str();
  us_pw->add_option("user", user_target, "Username or id")->required();
  us_pw->add_flag("--password-stdin", user_password_stdin, "Read the password from stdin's first line");
  us_pw->add_option("--database-url", serve.database_url, kDatabaseUrlHelp)->envname("VERBATIM_DATABASE_URL");
  us->footer("Exit codes: 0 done, 1 refused input (a taken username, an unknown role, a weak password), 2 store error.\n"
             "Examples:\n  verbatim users create --data-dir /var/lib/verbatim --username alice --role \"System Administrator\"\n"
             "  printf '%s\\n' \"$PW\" | verbatim users create --username bob --role Auditor --password-stdin\n"
             "  verbatim users password --data-dir /var/lib/verbatim alice");

  app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    int code = app.exit(err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (!serve.database_url.empty()) {
    if (verbatim::Status bad = verbatim::store::pg::CheckDatabaseUrl(serve.database_url); !bad.ok()) {
      std::cerr << "verbatim: " << bad.message() << "\n";
      return kExitUsage;
    }
  }
  if (s->parsed()) return RunServe(serve);
  if (i->parsed()) return RunInit(init_dir, kek_file, init_name, init_json, init_force, serve.database_url);
  if (t->parsed()) return RunToken(client, client_id, client_secret, scope);
  if (e->parsed()) {
    if (context_id.empty() && request.size() != 2) {
      std::cerr << "verbatim explain: give METHOD PATH, or --context-id ID\n" << e->help();
      return kExitUsage;
    }
    return RunExplain(client, token, request.size() == 2 ? request[0] : "", request.size() == 2 ? request[1] : "",
                      context_id);
  }
  if (rotate->parsed()) return RunKeysRotate(keys_dir, kek_file, serve.database_url);
  if (kek_rotate->parsed()) return RunKekRotate(keys_dir, kek_file, serve.database_url);
  if (tr_add->parsed()) {
    trunk_add.database_url = serve.database_url;
    return RunTrunksAdd(trunk_add);
  }
  if (tr_list->parsed()) return RunTrunksList(trunks_dir, trunks_json, serve.database_url);
  if (tr_rm->parsed()) return RunTrunksRemove(trunks_dir, trunk_target, serve.database_url);
  if (us_create->parsed()) {
    user_create.database_url = serve.database_url;
    return RunUsersCreate(user_create);
  }
  if (us_list->parsed()) return RunUsersList(users_dir, users_json, serve.database_url);
  if (us_pw->parsed()) return RunUsersPassword(users_dir, user_target, user_password_stdin, serve.database_url);
  std::cout << "verbatim " << verbatim::kVersion << "\n";
  return kExitOk;
}
