// pg_test_cluster start|stop STATE_DIR: the ctest fixture that gives every
// test process of a ctest run one shared private PostgreSQL (see
// support/pg_cluster.h). `start` leaves the server running and writes
// STATE_DIR/state; `stop` stops it and deletes its data. Without PostgreSQL
// installed, `start` succeeds and writes nothing (the tests then skip their
// PostgreSQL half, or fail with CI=true).
#include <iostream>
#include <string>

#include "support/pg_cluster.h"

using verbatim::testing::PgCluster;

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::cerr << "usage: pg_test_cluster start|stop STATE_DIR\n";
    return 1;
  }
  const std::string state = argv[2];
  // A cluster left by an interrupted run goes first.
  if (auto s = PgCluster::StopFromState(state); !s.ok()) std::cerr << s.ToString() << "\n";
  if (std::string(argv[1]) == "stop") return 0;

  auto bin = PgCluster::FindBinDir();
  if (!bin) {
    std::cerr << "pg_test_cluster: PostgreSQL is not installed; PostgreSQL tests will skip\n";
    return verbatim::testing::PgRequired() ? 1 : 0;
  }
  auto cluster = PgCluster::Start(*bin);
  if (!cluster.ok()) {
    std::cerr << "pg_test_cluster: " << cluster.status().message() << "\n";
    return 1;
  }
  if (auto s = (*cluster)->Detach(state); !s.ok()) {
    std::cerr << "pg_test_cluster: " << s.message() << "\n";
    return 1;
  }
  std::cout << "pg_test_cluster: PostgreSQL on 127.0.0.1:" << (*cluster)->port() << "\n";
  return 0;
}
