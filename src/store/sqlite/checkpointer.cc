#include "store/sqlite/checkpointer.h"

namespace verbatim::store::sqlite {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path, const ConnOptions& opts,
                                                          Db& writer) {
  ConnOptions conn_opts = opts;
  conn_opts.read_only = false;  // a checkpoint writes the database file
  STORE_ASSIGN_OR_RETURN(auto conn, Db::Open(path, conn_opts));
  std::unique_ptr<Checkpointer> cp(new Checkpointer(std::move(conn), writer));
  cp->thread_ = std::thread([raw = cp.get()] { raw->Run(); });
  sqlite3_wal_hook(writer.raw(), &Checkpointer::OnCommit, cp.get());
  return cp;
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.raw(), nullptr, nullptr);
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int Checkpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) {
  auto* cp = static_cast<Checkpointer*>(self);
  if (wal_pages >= kInlinePages) {
    // Fallen far behind (e.g. readers kept pinning old frames): bound the WAL
    // like SQLite's own autocheckpoint would, on this thread.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (wal_pages >= kWakePages) {
    {
      MutexLock lock(cp->mu_);
      cp->wanted_ = true;
    }
    cp->wake_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::Run() {
  MutexLock lock(mu_);
  for (;;) {
    wake_.wait(lock.native(), [&] { mu_.AssertHeld(); return wanted_ || stop_; });
    if (stop_) return;
    wanted_ = false;
    lock.Unlock();
    // PASSIVE never blocks the writer or readers. SQLITE_BUSY (another
    // checkpoint running) or partial progress is fine: a later commit asks again.
    sqlite3_wal_checkpoint_v2(conn_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.Lock();
  }
}

}  // namespace verbatim::store::sqlite
