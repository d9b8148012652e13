// PgChangeWatch: hears what other nodes commit (docs/deployment.md "Several
// nodes"). Schema step 6 makes every commit that changes clients, users,
// roles, revocations, signing keys, trunks or a conversation send a
// NOTIFY on channel "verbatim_changes.<schema>"; this keeps one connection LISTENing and
// hands each batch of notifications to the handler, on its own thread.
//
// A notification sent while the connection was down is lost, so after every
// (re)connection the first call is a kResync: reload everything. The
// connection is re-opened with backoff (first, doubling to max) while the
// database is unreachable; a dead peer is noticed by the connection's TCP
// user timeout (pg_conn.h).
//
// Thread-safety: the destructor stops the thread and waits for it.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "store/postgres/pg_conn.h"
#include "store/store.h"

namespace verbatim::store::pg {

inline constexpr char kChangesChannel[] = "verbatim_changes.";  // + the schema (current_schema())

// The Change a notification's payload names ("directory", "conversation:<id>"), or nullopt.
std::optional<Change> ParseChangePayload(std::string_view payload);

class PgChangeWatch final : public ChangeWatch {
 public:
  PgChangeWatch(ConnectOptions connect, ChangeHandler handler, std::chrono::milliseconds backoff_first,
                std::chrono::milliseconds backoff_max);
  ~PgChangeWatch() override;

 private:
  void Run();
  // Listens on one connection until it breaks or stop_; true if it got to LISTEN.
  bool ListenOnce();
  // Waits `d`, or less if stopped. False when stopped.
  bool Pause(std::chrono::milliseconds d);

  const ConnectOptions connect_;
  const ChangeHandler handler_;
  const std::chrono::milliseconds backoff_first_;
  const std::chrono::milliseconds backoff_max_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace verbatim::store::pg
