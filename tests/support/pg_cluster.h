// A private PostgreSQL for tests: initdb + pg_ctl start into a temp dir, on a
// free loopback port, stopped and deleted at the end. Runs the server as an
// unprivileged user when the tests run as root (CI does; initdb refuses
// root): $VERBATIM_TEST_PG_USER, else "postgres" (created by Debian's
// postgresql package), else "nobody".
//
// Settings are for tests: trust authentication on 127.0.0.1 only, no unix
// socket, fsync off (the tests exercise verbatim, not the disk; a process
// crash of PostgreSQL itself still loses nothing committed, the kernel has
// the WAL).
//
// One cluster per test binary (SharedPgCluster), one schema per test
// (CreateSchema: a CREATE DATABASE costs half a second, a schema nothing;
// the store's URL then sets search_path to it), or a whole database where a
// test needs one (CreateDatabase). Under ctest the cluster is shared by every test process:
// the pg_cluster fixture (tests/CMakeLists.txt) starts it once with
// `pg_test_cluster start DIR` and names DIR in $VERBATIM_TEST_PG_STATE.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace verbatim::testing {

class PgCluster {
 public:
  // /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, newest version
  // first ($VERBATIM_TEST_PG_BIN overrides); nullopt if PostgreSQL is not installed.
  static std::optional<std::string> FindBinDir();

  // A new cluster in a fresh temp dir, started and accepting connections.
  static Result<std::unique_ptr<PgCluster>> Start(const std::string& bin_dir);
  // The cluster a `pg_test_cluster start` left running, from its state dir.
  static Result<std::unique_ptr<PgCluster>> Attach(const std::string& state_dir);

  ~PgCluster();  // stops and deletes an owned cluster
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Writes what Attach needs into `state_dir` and gives up ownership: the
  // cluster outlives this object (ended by StopFromState).
  Status Detach(const std::string& state_dir);
  static Status StopFromState(const std::string& state_dir);

  // pg_ctl stop / start on the same port and data (outage tests). `mode`:
  // smart | fast | immediate.
  Status StopServer(const std::string& mode = "fast");
  Status StartServer();

  int port() const { return port_; }
  // postgresql://verbatim@127.0.0.1:PORT/DATABASE
  std::string Url(const std::string& database) const;
  // A new empty database (named from `prefix`, the pid and a counter).
  Result<std::string> CreateDatabase(const std::string& prefix = "t");
  Status DropDatabase(const std::string& name);
  // A new empty schema in the shared database "verbatim_tests", and the URL
  // of a store that lives in it (search_path set by the URL's options).
  Result<std::string> CreateSchema(const std::string& prefix = "t");
  std::string SchemaUrl(const std::string& schema) const;
  Status DropSchema(const std::string& schema);

 private:
  PgCluster() = default;

  std::string bin_dir_;
  std::string dir_;   // temp dir: data/, log
  std::string user_;  // runs the server ("" = the current user)
  int port_ = 0;
  bool owned_ = true;
};

// The cluster of this test process, started on first use (or attached, under
// ctest); nullptr with `why_not` set when there is none (PostgreSQL missing).
PgCluster* SharedPgCluster(std::string* why_not);

}  // namespace verbatim::testing

// In a test that needs PostgreSQL: skips it (with the reason) when PostgreSQL
// is not installed, unless CI=true, where that is a failure.
#define VERBATIM_REQUIRE_PG(cluster_var)                                                                 \
  std::string verbatim_pg_why_;                                                                          \
  ::verbatim::testing::PgCluster* cluster_var = ::verbatim::testing::SharedPgCluster(&verbatim_pg_why_); \
  if (cluster_var == nullptr) {                                                                          \
    if (::verbatim::testing::PgRequired()) FAIL() << "PostgreSQL: " << verbatim_pg_why_;                 \
    GTEST_SKIP() << "PostgreSQL half skipped: " << verbatim_pg_why_;                                     \
  }

namespace verbatim::testing {
bool PgRequired();  // CI=true
}  // namespace verbatim::testing
