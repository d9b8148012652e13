#include "support/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace verbatim::testing {
namespace fs = std::filesystem;
namespace {

constexpr char kSuperuser[] = "verbatim";

// A free TCP port on 127.0.0.1 right now (the kernel's pick for port 0).
int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

// Who runs the server: nobody but root needs to change.
std::string ServerUser() {
  if (geteuid() != 0) return "";
  if (const char* u = std::getenv("VERBATIM_TEST_PG_USER"); u && *u) return u;
  for (const char* u : {"postgres", "nobody"})
    if (getpwnam(u) != nullptr) return u;
  return "";
}

// Runs argv (as `user` when given) with stdout/stderr appended to `log`;
// returns its exit status (-1 if it could not run).
int Run(const std::vector<std::string>& argv, const std::string& user, const std::string& log) {
  uid_t uid = 0;
  gid_t gid = 0;
  if (!user.empty()) {
    const passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr) return -1;
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    if (!user.empty() && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) _exit(126);
    // The tests' directory may be closed to that user (a checkout under /root).
    if (chdir("/") != 0) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
}

constexpr char kSchemaDatabase[] = "verbatim_tests";

// One statement on `database` (the maintenance one by default), as the superuser.
Status Admin(int port, const std::string& sql, const std::string& database = "postgres") {
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) + " user=" + kSuperuser +
                               " dbname=" + database + " connect_timeout=5";
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c);
    PQfinish(c);
    return Status::Unavailable("pg.test", "connect: " + err);
  }
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);  // "drop cascades to …"
  PGresult* r = PQexec(c, sql.c_str());
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
                 ? Status::Ok()
                 : Status::Internal(sql + ": " + PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
  return s;
}

// Polls until the server accepts connections (or the deadline passes).
Status WaitReady(int port, std::chrono::seconds deadline) {
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres connect_timeout=2";
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return Status::Ok();
    if (std::chrono::steady_clock::now() > until)
      return Status::Unavailable("pg.test", "PostgreSQL on port " + std::to_string(port) + " not ready");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval, not synchronization
  }
}

}  // namespace

bool PgRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::optional<std::string> PgCluster::FindBinDir() {
  if (const char* b = std::getenv("VERBATIM_TEST_PG_BIN"); b && *b) return std::string(b);
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = e.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl")) continue;
    found.emplace_back(std::atoi(e.path().filename().c_str()), bin.string());
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.rbegin(), found.rend());
  return found.front().second;
}

Result<std::unique_ptr<PgCluster>> PgCluster::Start(const std::string& bin_dir) {
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->bin_dir_ = bin_dir;
  c->user_ = ServerUser();
  // The server's user must reach its directory: a private $TMPDIR would not do.
  fs::path base = fs::temp_directory_path();
  if (!c->user_.empty() && (fs::status(base).permissions() & fs::perms::others_exec) == fs::perms::none)
    base = "/tmp";
  std::string tmpl = (base / "verbatim-pg-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return Status::Internal("mkdtemp failed");
  c->dir_ = tmpl;
  if (!c->user_.empty()) {
    const passwd* pw = getpwnam(c->user_.c_str());
    if (pw == nullptr || chown(c->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      return Status::Internal("cannot give " + c->dir_ + " to " + c->user_);
  }
  const std::string data = c->dir_ + "/data", log = c->dir_ + "/log";
  if (Run({bin_dir + "/initdb", "-D", data, "-U", kSuperuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
          c->user_, c->dir_ + "/initdb.log") != 0)
    return Status::Internal("initdb failed: " + Tail(c->dir_ + "/initdb.log"));
  for (int attempt = 0; attempt < 5; ++attempt) {
    c->port_ = FreePort();
    {
      // postgresql.auto.conf: read last, so these win over postgresql.conf.
      std::ofstream conf(data + "/postgresql.auto.conf", std::ios::trunc);
      conf << "listen_addresses = '127.0.0.1'\nport = " << c->port_
           << "\nunix_socket_directories = ''\nfsync = off\nfull_page_writes = off\nmax_connections = 200\n"
              "shared_buffers = 32MB\nlog_min_messages = warning\n";
    }
    if (Run({bin_dir + "/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start"}, c->user_,
            c->dir_ + "/pg_ctl.log") == 0) {
      VERBATIM_RETURN_IF_ERROR(WaitReady(c->port_, std::chrono::seconds(30)));
      return c;
    }
    // Most likely someone took the port between FreePort() and the bind: another.
  }
  return Status::Internal("pg_ctl start failed: " + Tail(log) + Tail(c->dir_ + "/pg_ctl.log"));
}

Result<std::unique_ptr<PgCluster>> PgCluster::Attach(const std::string& state_dir) {
  std::ifstream in(state_dir + "/state");
  std::unique_ptr<PgCluster> c(new PgCluster());
  if (!(in >> c->port_ >> c->bin_dir_ >> c->dir_)) return Status::NotFound("pg.test", "no cluster in " + state_dir);
  std::string user;
  if (in >> user && user != "-") c->user_ = user;
  c->owned_ = false;
  VERBATIM_RETURN_IF_ERROR(WaitReady(c->port_, std::chrono::seconds(2)));
  return c;
}

Status PgCluster::Detach(const std::string& state_dir) {
  fs::create_directories(state_dir);
  std::ofstream out(state_dir + "/state", std::ios::trunc);
  out << port_ << "\n" << bin_dir_ << "\n" << dir_ << "\n" << (user_.empty() ? "-" : user_) << "\n";
  if (!out) return Status::Internal("cannot write " + state_dir + "/state");
  owned_ = false;
  return Status::Ok();
}

Status PgCluster::StopFromState(const std::string& state_dir) {
  std::ifstream in(state_dir + "/state");
  PgCluster c;
  if (!(in >> c.port_ >> c.bin_dir_ >> c.dir_)) return Status::Ok();  // nothing was started
  std::string user;
  if (in >> user && user != "-") c.user_ = user;
  c.owned_ = true;  // the destructor stops and deletes it
  in.close();
  fs::remove(state_dir + "/state");
  return Status::Ok();
}

PgCluster::~PgCluster() {
  if (!owned_ || dir_.empty()) return;
  (void)StopServer("immediate");
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Status PgCluster::StopServer(const std::string& mode) {
  if (Run({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", mode, "-w", "stop"}, user_, dir_ + "/pg_ctl.log") != 0)
    return Status::Internal("pg_ctl stop failed: " + Tail(dir_ + "/pg_ctl.log"));
  return Status::Ok();
}

Status PgCluster::StartServer() {
  if (Run({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/log", "-w", "-t", "60", "start"}, user_,
          dir_ + "/pg_ctl.log") != 0)
    return Status::Internal("pg_ctl start failed: " + Tail(dir_ + "/log"));
  return WaitReady(port_, std::chrono::seconds(30));
}

std::string PgCluster::Url(const std::string& database) const {
  return "postgresql://" + std::string(kSuperuser) + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PgCluster::CreateDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  VERBATIM_RETURN_IF_ERROR(Admin(port_, "CREATE DATABASE \"" + name + "\""));
  return name;
}

Status PgCluster::DropDatabase(const std::string& name) {
  return Admin(port_, "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
}

Result<std::string> PgCluster::CreateSchema(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  Status s = Admin(port_, "CREATE SCHEMA \"" + name + "\"", kSchemaDatabase);
  if (!s.ok()) {  // the shared database does not exist yet (or another process is making it)
    Status made = Admin(port_, std::string("CREATE DATABASE ") + kSchemaDatabase);
    if (!made.ok() && made.message().find("already exists") == std::string::npos) return made;
    VERBATIM_RETURN_IF_ERROR(Admin(port_, "CREATE SCHEMA \"" + name + "\"", kSchemaDatabase));
  }
  return name;
}

std::string PgCluster::SchemaUrl(const std::string& schema) const {
  return Url(kSchemaDatabase) + "?options=-csearch_path%3D" + schema;
}

Status PgCluster::DropSchema(const std::string& schema) {
  return Admin(port_, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE", kSchemaDatabase);
}

PgCluster* SharedPgCluster(std::string* why_not) {
  static std::mutex mu;
  static std::unique_ptr<PgCluster> cluster;
  static std::string failure;
  static bool tried = false;
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    if (const char* state = std::getenv("VERBATIM_TEST_PG_STATE"); state && *state) {
      auto attached = PgCluster::Attach(state);
      if (attached.ok()) cluster = std::move(*attached);
    }
    if (!cluster) {
      auto bin = PgCluster::FindBinDir();
      if (!bin) {
        failure = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; scripts/deps.sh installs it)";
      } else {
        auto started = PgCluster::Start(*bin);
        if (started.ok()) {
          cluster = std::move(*started);
          // Stopped when the test program ends (static destruction).
        } else {
          failure = started.status().message();
        }
      }
    }
  }
  if (!cluster && why_not) *why_not = failure;
  return cluster.get();
}

}  // namespace verbatim::testing
