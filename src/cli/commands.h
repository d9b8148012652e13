// The `verbatim` subcommands. Exit codes mean something (docs/api.md §9):
// 0 success, 1 usage error, 2 server or I/O error, 3 denied (explain).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "transports/http/secrets_at_rest.h"
#include "core/private_files.h"
#include "store/store.h"

namespace verbatim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitServer = 2;
inline constexpr int kExitDenied = 3;

struct ServeOptions {
  std::string data_dir = "./data";
  std::string http_listen;  // "" = 0.0.0.0:8080, or 127.0.0.1:8080 with --dev
  std::string sip_listen;   // "" = same host as HTTP, port 5060
  std::string issuer;       // "" = http://<bound http address>
  std::string media_dir;    // "" = <data_dir>/media
  std::string rtp_ports = "20000-29999";
  std::string media_address;  // c= in SDP answers; "" = the SIP host
  std::string sync = "normal";
  std::string log_level = "info";
  int threads = 0;
  size_t max_body_bytes = 1 << 20;
  double rate_token_per_client = 100;  // 0 = unlimited
  double rate_auth_failures = 10;      // per source address per second; 0 = unlimited
  double rate_auth_failure_burst = 100;
  int audit_retention_days = 0;  // 0 = keep every audit event
  std::string key_encryption_key_file;  // "" = <data_dir>/kek
  bool dev = false;
  bool no_console = false;  // no admin console at /console (docs/console.md)
  int events_heartbeat_seconds = 15;  // GET /api/v2/events keep-alive comments (docs/changes.md)
  // Webhooks (docs/webhooks.md).
  bool webhook_allow_private = false;        // targets in loopback/private/link-local ranges allowed
  int webhook_timeout_seconds = 10;          // one delivery attempt, all of it
  int webhook_retry_base_ms = 5000;          // the first retry's wait; doubles up to 1 h
  int webhook_retry_window_seconds = 86400;  // a delivery fails after retrying this long
  // The network (cli/serve_net.h).
  std::string tls_cert;         // PEM chain; with tls_key: HTTPS and wss:// on the HTTP listener
  std::string tls_key;          // PEM private key
  std::string trusted_proxies;  // "CIDR[,CIDR...]": peers whose forwarding header names the client
  std::string forwarded_header = "x-forwarded-for";  // or "forwarded" (RFC 7239)
  size_t max_connections = 10000;        // concurrent HTTP connections; 0 = no cap
  size_t max_connections_per_ip = 1000;  // per client address (IPv6: per /64); 0 = no cap
  std::string grpc_listen;               // "" = none (--dev: a free loopback port); HOST:PORT of the gRPC API (docs/grpc.md)
  std::string metrics_listen;            // "" = none; HOST:PORT serves GET /metrics without a token
  std::string database_url;  // "" = SQLite in data_dir; postgresql://… = PostgreSQL (docs/deployment.md)
  std::string config_path;            // the TOML file, if any: serve also reads its [[siprec.trunks]]
  uint64_t media_min_free_mb = 512;   // refuse new media sessions below this much free disk; 0 = never
  int rtp_timeout = 60;               // seconds without RTP that end a SIPREC session; 0 = never
  int sip_min_se = 90;                // smallest RFC 4028 session interval accepted, seconds
  int sip_nonce_lifetime = 300;       // seconds a SIP digest nonce stays fresh
  std::string sip_tls_listen;         // "" = no SIP over TLS; HOST:PORT (port 0 = a free one)
  std::string sip_tls_cert;           // "" = tls_cert
  std::string sip_tls_key;            // "" = tls_key
  size_t max_media_sessions = 4000;   // live SIPREC + AudioHook sessions
  // Several nodes (docs/deployment.md).
  std::string advertise_url;    // "" = none; the URL other nodes reach this node's HTTP API at
  int media_lease_seconds = 10;  // a node silent this long has its live media sessions interrupted
};

struct ClientOptions {
  std::string server;  // "" = from <data_dir>/listen.json, else http://127.0.0.1:8080
  std::string data_dir = "./data";
  std::string format = "table";  // table | json
};

int RunServe(const ServeOptions& opts);
int RunInit(const std::string& data_dir, const std::string& kek_file, const std::string& name, bool json, bool force,
            const std::string& database_url = "");
int RunKeysRotate(const std::string& data_dir, const std::string& kek_file, const std::string& database_url = "");
int RunKekRotate(const std::string& data_dir, const std::string& kek_file, const std::string& database_url = "");

// `verbatim trunks add|list|remove` (cli/trunk_cmds.cc): SIPREC trunks in the store.
struct TrunkAddOptions {
  std::string data_dir = "./data";
  std::string name;
  std::string description;
  std::vector<std::string> networks;
  std::vector<std::string> transports;
  std::string digest_username;
  bool digest_password_stdin = false;  // read the password from the first line of stdin
  std::string digest_realm;
  int64_t max_sessions = -1;  // -1 = the default
  int64_t max_channels = -1;
  int64_t max_bandwidth_kbps = -1;
  std::string rtp_source;
  std::string srtp;
  bool json = false;
  std::string database_url;  // "" = <data_dir>/verbatim.db (see OpenConfiguredStore)
};
int RunTrunksAdd(const TrunkAddOptions& o);
int RunTrunksList(const std::string& data_dir, bool json, const std::string& database_url = "");
int RunTrunksRemove(const std::string& data_dir, const std::string& name_or_id, const std::string& database_url = "");

// `verbatim users create|list|password` (cli/user_cmds.cc): people who sign
// in, offline, with the admin API's rules (docs/users.md). Passwords come from
// stdin or are generated and printed once, never from argv.
struct UserCreateOptions {
  std::string data_dir = "./data";
  std::string username;
  std::string display_name;
  std::string email;
  std::vector<std::string> roles;  // ids or names
  bool password_stdin = false;
  bool json = false;
  std::string database_url;
};
int RunUsersCreate(const UserCreateOptions& o);
int RunUsersList(const std::string& data_dir, bool json, const std::string& database_url = "");
// Sets a new password (stdin, or generated and printed) and refuses the user's earlier tokens.
int RunUsersPassword(const std::string& data_dir, const std::string& username_or_id, bool password_stdin,
                     const std::string& database_url = "");

// Raises RLIMIT_NOFILE's soft limit to the hard limit (cli/fd_limit.cc):
// every call holds sockets and files. Returns {before, after}.
std::pair<uint64_t, uint64_t> RaiseOpenFileLimit();
int RunToken(const ClientOptions& c, const std::string& client_id, const std::string& client_secret,
             const std::string& scope);
int RunExplain(const ClientOptions& c, const std::string& token, const std::string& method, const std::string& path,
               const std::string& context_id);

// "HOST:PORT" / "[v6]:PORT" → host, port. False if malformed.
bool ParseHostPort(const std::string& s, std::string& host, uint16_t& port);
// "FIRST-LAST" → the RTP port range.
bool ParseRtpRange(const std::string& s, uint16_t& first, uint16_t& last);
// Resolves the server base URL for client commands.
std::string ServerUrl(const ClientOptions& c);
// --key-encryption-key-file, or <data_dir>/kek.
std::string KekPath(const std::string& data_dir, const std::string& flag);
// Creates the data (and media) directory 0700 and tightens what verbatim keeps
// there to 0700/0600 (docs/secrets-at-rest.md); ReportTightened says so.
Status PrepareDataDir(const std::string& data_dir, const std::string& media_dir, TightenReport& report);
// This node's id, kept in DATA_DIR/node-id (created on first use): the same
// across restarts, so a node starting again knows what its last run held
// (docs/deployment.md, "Media sessions and node failure").
Result<std::string> NodeIdOf(const std::string& data_dir);
// Where one-off notices go: a JSON log line (serve), or "<command>: ..." on stderr.
struct Notice {
  const char* command;
  bool log = false;
};
void ReportTightened(const TightenReport& report, const std::string& data_dir, const Notice& notice);
// OpenSecretsAtRest for the data dir's database, telling the operator about a
// created key, a finished rotation or migrated secrets. `db_name` names the
// database in messages (default <data_dir>/verbatim.db; see StoreName).
Result<api::SecretsAtRest> BindSecrets(store::Store& store, const std::string& data_dir, const std::string& kek_flag,
                                       const Notice& notice, const std::string& db_name = "");
// The store a command works on (cli/store_open.cc): PostgreSQL when
// `database_url` is set, else <data_dir>/verbatim.db.
Result<std::unique_ptr<store::Store>> OpenConfiguredStore(const std::string& data_dir,
                                                          const std::string& database_url, store::SyncMode sync);
// The same for the offline commands (trunks, users): with `create`, a missing
// data directory and database are created; without, NotFound "store.missing".
Result<std::unique_ptr<store::Store>> OpenOfflineStore(const std::string& data_dir, bool create,
                                                      const std::string& database_url);
// That store's name for messages and logs: the SQLite path, or the URL
// without its password.
std::string StoreName(const std::string& data_dir, const std::string& database_url);
// Writes `content` to `path` atomically (tmp + rename) with the given mode.
bool WriteFileAtomically(const std::string& path, const std::string& content, unsigned mode);

}  // namespace verbatim::cli
