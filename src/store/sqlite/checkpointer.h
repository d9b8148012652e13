// Copies the WAL back into the database file on a background thread, so that
// a request never pays for a checkpoint (page copies plus two fsyncs, tens of
// milliseconds) while it holds the writer. Installed as the writer's WAL hook,
// which replaces SQLite's inline autocheckpoint.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "core/status.h"
#include "store/sqlite/sqlite_db.h"

namespace verbatim::store::sqlite {

class Checkpointer {
 public:
  static constexpr int kWakePages = 1000;     // SQLite's default autocheckpoint threshold
  static constexpr int kInlinePages = 20000;  // ~80 MB: the writer checkpoints itself if we fall behind

  // `writer` must outlive the Checkpointer and not be in use during Start()
  // or the destructor (both change its WAL hook).
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path, const ConnOptions& opts, Db& writer);
  ~Checkpointer();  // uninstalls the hook, stops and joins the thread

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  Checkpointer(std::unique_ptr<Db> conn, Db& writer) : conn_(std::move(conn)), writer_(writer) {}
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);  // writer thread
  void Run();

  // Constant after construction.
  std::unique_ptr<Db> conn_;  // used only by thread_
  Db& writer_;

  Mutex mu_;
  std::condition_variable wake_;
  bool wanted_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;

  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace verbatim::store::sqlite
