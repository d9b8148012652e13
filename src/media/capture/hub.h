// MediaHub: owns the live recording sessions. Transports (SIPREC, AudioHook)
// Open() a session per call/connection and push audio into it; a ticker thread
// plays out every session's jitter buffers on a 20 ms frame clock; recording
// state changes from the control API arrive through OnRecordingChanged(); file
// progress goes back to the catalog through ConversationControl.
//
// Threads. Nothing a transport calls to deliver audio, and nothing the ticker
// does, waits for fsync or for the store: a background queue owned by the hub
// finalizes closed segment files (fdatasync, rename, directory fsync) and then
// writes their catalog rows, in that order, along with the rows of growing
// files (coalesced per segment, so a slow store cannot make the queue grow
// without bound). Open() (Attach) and Close() (Detach) still talk to the store
// synchronously, on the caller's thread: a SIP dialog's answer depends on them,
// so the transport calls them from its signalling thread, never from the one
// that reads audio. Stop() drains the queue: nothing finished is lost at exit.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <optional>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/mutex.h"
#include "media/capture/background_queue.h"
#include "media/capture/control.h"
#include "media/capture/session.h"
#include "media/wav/wav_writer.h"

namespace verbatim::media::capture {

struct HubOptions {
  std::filesystem::path media_root;
  std::chrono::milliseconds tick{20};
  std::chrono::milliseconds catalog_interval{1000};  // how often growing files are re-reported
  size_t max_sessions = 4000;                         // beyond: ResourceExhausted (SIP 503)
  wav::WriterOptions wav;
  // Free-disk watermark: below it, Open() refuses new sessions (ongoing ones
  // go on). 0 = no check. `free_bytes` reads the media filesystem's free
  // space (default: statvfs of media_root); nullopt = unreadable = refuse.
  uint64_t min_free_bytes = 512ull << 20;
  std::function<std::optional<uint64_t>()> free_bytes;
};

// Free bytes for unprivileged users on the filesystem of `path` (statvfs).
std::optional<uint64_t> FreeBytesOf(const std::filesystem::path& path);

struct HubStats {
  size_t active_sessions = 0;
  uint64_t sessions_opened = 0;
  uint64_t packets = 0;
  uint64_t lost_packets = 0;
  uint64_t late_packets = 0;
  uint64_t decode_errors = 0;
};

Nanos SteadyNow();

class MediaHub {
 public:
  using NowFn = std::function<Nanos()>;
  MediaHub(HubOptions opts, ConversationControl& control, NowFn now = SteadyNow);
  ~MediaHub();

  // Start-up, before any session: turns leftover .part files (a crash) into
  // valid WAVs and reports them to the catalog. Returns how many.
  size_t RecoverPartials();
  void Start();  // the ticker thread
  void Stop();   // finishes every session

  // Errors: ResourceExhausted "media.capacity" or "media.disk.low" (below the
  // free-disk watermark), PermissionDenied "conversation.not.owned" (it has
  // live media of another owner), FailedPrecondition "media.busy" (live media
  // of the same owner), and whatever ConversationControl::Attach returns.
  Result<std::shared_ptr<RecordingSession>> Open(const SessionSpec& spec);
  void Close(const std::shared_ptr<RecordingSession>& session, const std::string& reason);
  void OnRecordingChanged(const std::string& conversation_id, RecordingState state);
  // A media peer asks for an action (SIPREC re-INVITE a=inactive → pause).
  Status RequestAction(const std::string& conversation_id, RecordingAction action, const std::string& reason);

  void TickOnce();  // one ticker round, synchronously (tests)
  // Returns once the file finalization and catalog rows queued so far are done.
  void Flush();
  Nanos Now() const { return now_(); }
  HubStats Stats() const;
  // The conversations with a live session here (several nodes: which recordings
  // this node must follow when another node changes them).
  std::vector<std::string> LiveConversations() const;
  const HubOptions& options() const { return opts_; }

 private:
  void Run();
  Status CheckFreeDisk() const;
  // Queues a session's file work; called under that session's lock.
  void Publish(const std::string& conversation_id, FileWork work);
  void WriteLatestRow(const std::string& conversation_id, int segment);

  // Constant after construction.
  const HubOptions opts_;
  ConversationControl& control_;
  const NowFn now_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<RecordingSession>> sessions_ GUARDED_BY(mu_);  // by conversation id
  std::map<std::string, std::string> owners_ GUARDED_BY(mu_);  // conversation id → owner of its live session
  uint64_t opened_ GUARDED_BY(mu_) = 0;
  HubStats closed_totals_ GUARDED_BY(mu_);  // packets etc. of sessions already closed
  bool stop_ GUARDED_BY(mu_) = false;
  std::condition_variable wake_;
  std::thread ticker_;
  Nanos last_catalog_{0};

  // Rows of segments still recording, waiting for the queue: a newer row
  // replaces an older one instead of queueing another store write.
  Mutex rows_mu_;
  std::map<std::pair<std::string, int>, MediaFileInfo> latest_rows_ GUARDED_BY(rows_mu_);  // by (conversation, segment)

  // Last: its tasks use the members above, so it is drained and joined first.
  BackgroundQueue background_;
};

}  // namespace verbatim::media::capture
