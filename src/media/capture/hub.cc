#include "media/capture/hub.h"

#include <sys/statvfs.h>

#include <charconv>

#include "core/log.h"
#include "media/wav/wav_reader.h"

namespace verbatim::media::capture {

Nanos SteadyNow() {
  return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
}

std::optional<uint64_t> FreeBytesOf(const std::filesystem::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

namespace {
HubOptions WithDefaults(HubOptions o) {
  if (!o.free_bytes) o.free_bytes = [root = o.media_root] { return FreeBytesOf(root); };
  return o;
}
}  // namespace

MediaHub::MediaHub(HubOptions opts, ConversationControl& control, NowFn now)
    : opts_(WithDefaults(std::move(opts))), control_(control), now_(std::move(now)) {}

MediaHub::~MediaHub() { Stop(); }

size_t MediaHub::RecoverPartials() {
  std::error_code ec;
  if (!std::filesystem::exists(opts_.media_root, ec)) return 0;
  auto recovered = wav::RecoverPartials(opts_.media_root);
  if (!recovered.ok()) {
    Log(LogLevel::kError, "media recovery failed", {{"error", recovered.status().message()}});
    return 0;
  }
  size_t n = 0;
  for (const auto& r : *recovered) {
    if (!r.status.ok()) {
      Log(LogLevel::kError, "media file not recovered", {{"file", r.part.string()}, {"error", r.status.message()}});
      continue;
    }
    // <root>/<conversation>/segment-<N>.wav
    std::string conversation = r.path.parent_path().filename().string();
    std::string name = r.path.stem().string();  // segment-N
    int segment = 0;
    if (name.rfind("segment-", 0) == 0) std::from_chars(name.data() + 8, name.data() + name.size(), segment);
    auto info = wav::ReadWavInfo(r.path);
    if (!info.ok() || segment <= 0) continue;
    MediaFileInfo f;
    f.segment = segment;
    f.relative_path = conversation + "/" + r.path.filename().string();
    f.channels = info->channels;
    f.sample_rate = static_cast<int>(info->sample_rate);
    f.frames = static_cast<int64_t>(info->frames());
    f.bytes = static_cast<int64_t>(info->data_offset + info->data_size);
    f.complete = true;
    control_.MediaFileUpdated(conversation, f);
    Log(LogLevel::kWarn, "recovered media after a crash",
        {{"conversationId", conversation}, {"segment", segment}, {"frames", f.frames},
         {"truncatedBytes", r.truncated_bytes}});
    ++n;
  }
  return n;
}

void MediaHub::Start() {
  MutexLock lock(mu_);
  if (ticker_.joinable()) return;
  stop_ = false;
  ticker_ = std::thread([this] { Run(); });
}

void MediaHub::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  std::map<std::string, std::shared_ptr<RecordingSession>> left;
  {
    MutexLock lock(mu_);
    left.swap(sessions_);
    owners_.clear();
  }
  for (auto& [id, s] : left) {
    s->Finish(now_());
    // The server is stopping, not the call: the conversation stays as it is.
  }
  background_.Drain();  // every file finalized and cataloged before the process exits
}

Status MediaHub::CheckFreeDisk() const {
  if (opts_.min_free_bytes == 0) return Status::Ok();
  const std::optional<uint64_t> free = opts_.free_bytes();
  const uint64_t want_mb = opts_.min_free_bytes >> 20;
  if (!free)
    return Status::ResourceExhausted("media.disk.low", "The free space of the media directory cannot be read; new "
                                                       "sessions are refused until it can (watermark " +
                                                           std::to_string(want_mb) + " MB, --media-min-free-mb).");
  if (*free < opts_.min_free_bytes)
    return Status::ResourceExhausted("media.disk.low", "Only " + std::to_string(*free >> 20) +
                                                           " MB are free on the media filesystem, below the "
                                                           "watermark of " +
                                                           std::to_string(want_mb) + " MB (--media-min-free-mb).");
  return Status::Ok();
}

Result<std::shared_ptr<RecordingSession>> MediaHub::Open(const SessionSpec& spec) {
  {
    MutexLock lock(mu_);
    if (sessions_.size() >= opts_.max_sessions)
      return Status::ResourceExhausted("media.capacity", "The recorder is at capacity (" +
                                                             std::to_string(opts_.max_sessions) + " sessions).");
    if (spec.conversation_id && sessions_.count(*spec.conversation_id)) {
      // Ownership first: whether another source's conversation is live is not that source's business.
      if (owners_[*spec.conversation_id] != spec.owner)
        return Status::PermissionDenied("conversation.not.owned",
                                        "Conversation " + *spec.conversation_id +
                                            " belongs to another media source; a session may join only a "
                                            "conversation its own trunk or integration owns.");
      return Status::FailedPrecondition("media.busy",
                                        "Conversation " + *spec.conversation_id + " already has a live media session.");
    }
  }
  if (Status disk = CheckFreeDisk(); !disk.ok()) return disk;
  auto attached = control_.Attach(spec);
  if (!attached.ok()) return attached.status();
  const Attachment& a = *attached;

  recorder::RecorderConfig rc;
  rc.root = opts_.media_root;
  rc.conversation_id = a.conversation_id;
  rc.sample_rate = spec.sample_rate;
  rc.pause_behavior = recorder::ParsePauseBehavior(a.pause_behavior).value_or(recorder::PauseBehavior::kSilence);
  rc.first_segment = a.current_segment > 0 ? a.current_segment : a.next_segment;
  rc.max_lag = std::chrono::milliseconds(300);  // bounds what a kill -9 can lose to ~1 s in total
  rc.wav = opts_.wav;
  rc.defer_finalize = true;  // fsync and rename happen on background_, see Publish()
  auto rec = recorder::SegmentRecorder::Create(rc);
  if (!rec.ok()) {
    control_.Detach(a.conversation_id, a.created, "recorder could not start");
    return rec.status();
  }
  std::vector<std::string> labels;
  for (const auto& p : spec.participants) labels.push_back(p.name);
  auto session = std::make_shared<RecordingSession>(
      a.conversation_id, a, std::move(labels), std::move(*rec), spec.sample_rate, now_(),
      [this, id = a.conversation_id](FileWork work) { Publish(id, std::move(work)); });
  {
    MutexLock lock(mu_);
    if (!sessions_.emplace(a.conversation_id, session).second) {
      const bool same_owner = owners_[a.conversation_id] == spec.owner;
      // Lost a race with another session for the same conversation. No
      // Detach: the conversation's claim is the winner's (and the bridge's
      // claim refuses the second Attach before it gets here).
      if (!same_owner)
        return Status::PermissionDenied("conversation.not.owned",
                                        "Conversation " + a.conversation_id + " belongs to another media source.");
      return Status::FailedPrecondition("media.busy",
                                        "Conversation " + a.conversation_id + " already has a live media session.");
    }
    owners_[a.conversation_id] = spec.owner;
    ++opened_;
  }
  Log(LogLevel::kInfo, "media session opened",
      {{"conversationId", a.conversation_id}, {"source", spec.source}, {"channels", spec.participants.size()},
       {"state", ToString(a.state)}});
  return session;
}

void MediaHub::Close(const std::shared_ptr<RecordingSession>& session, const std::string& reason) {
  {
    MutexLock lock(mu_);
    auto it = sessions_.find(session->conversation_id());
    if (it == sessions_.end() || it->second != session) return;
    sessions_.erase(it);
    owners_.erase(session->conversation_id());
    SessionStats st = session->Stats();
    closed_totals_.packets += st.packets;
    closed_totals_.lost_packets += st.lost_packets;
    closed_totals_.late_packets += st.late_packets;
    closed_totals_.decode_errors += st.decode_errors;
  }
  session->Finish(now_());  // the file is finalized and cataloged in the background
  control_.Detach(session->conversation_id(), session->attachment().created, reason);
  Log(LogLevel::kInfo, "media session closed", {{"conversationId", session->conversation_id()}, {"reason", reason}});
}

void MediaHub::OnRecordingChanged(const std::string& conversation_id, RecordingState state) {
  std::shared_ptr<RecordingSession> s;
  {
    MutexLock lock(mu_);
    auto it = sessions_.find(conversation_id);
    if (it == sessions_.end()) return;
    s = it->second;
  }
  s->SetState(state, now_());
}

Status MediaHub::RequestAction(const std::string& conversation_id, RecordingAction action, const std::string& reason) {
  return control_.RequestAction(conversation_id, action, reason);
}

void MediaHub::Publish(const std::string& conversation_id, FileWork work) {
  std::vector<MediaFileInfo> final_rows;
  for (auto& f : work.updates) {
    if (f.complete) {
      final_rows.push_back(std::move(f));
      continue;
    }
    const int segment = f.segment;
    bool already_queued;
    {
      MutexLock lock(rows_mu_);
      already_queued = !latest_rows_.insert_or_assign({conversation_id, segment}, std::move(f)).second;
    }
    // Queued before any final row of this segment (the session's lock orders
    // our calls), so "recording" never overwrites "complete".
    if (!already_queued)
      background_.Post([this, conversation_id, segment] { WriteLatestRow(conversation_id, segment); });
  }
  if (work.finalize.empty() && final_rows.empty()) return;
  // std::function needs a copyable task; the writers are move-only.
  auto job = std::make_shared<FileWork>(FileWork{std::move(work.finalize), std::move(final_rows)});
  background_.Post([this, conversation_id, job] {
    for (auto& writer : job->finalize) {
      // On failure the .part stays (a valid WAV): RecoverPartials finishes it at the next start.
      if (Status s = writer->Close(); !s.ok())
        Log(LogLevel::kError, "media segment not finalized",
            {{"conversationId", conversation_id}, {"file", writer->part_path().string()}, {"error", s.message()}});
    }
    job->finalize.clear();
    for (const auto& f : job->updates) control_.MediaFileUpdated(conversation_id, f);
  });
}

void MediaHub::WriteLatestRow(const std::string& conversation_id, int segment) {
  MediaFileInfo row;
  {
    MutexLock lock(rows_mu_);
    auto it = latest_rows_.find({conversation_id, segment});
    if (it == latest_rows_.end()) return;
    row = std::move(it->second);
    latest_rows_.erase(it);
  }
  control_.MediaFileUpdated(conversation_id, row);
}

void MediaHub::Flush() { background_.Drain(); }

void MediaHub::TickOnce() {
  std::vector<std::shared_ptr<RecordingSession>> live;
  {
    MutexLock lock(mu_);
    live.reserve(sessions_.size());
    for (auto& [id, s] : sessions_) live.push_back(s);
  }
  const Nanos now = now_();
  const bool catalog = now - last_catalog_ >= opts_.catalog_interval;
  if (catalog) last_catalog_ = now;
  for (auto& s : live) s->Tick(now, catalog);
}

void MediaHub::Run() {
  MutexLock lock(mu_);
  while (!stop_) {
    // A frame clock, not synchronization: the tick is the recorder's write cadence.
    wake_.wait_for(lock.native(), opts_.tick, [&] { mu_.AssertHeld(); return stop_; });
    if (stop_) break;
    lock.Unlock();
    TickOnce();
    lock.Lock();
  }
}

std::vector<std::string> MediaHub::LiveConversations() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  out.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) out.push_back(id);
  return out;
}

HubStats MediaHub::Stats() const {
  std::vector<std::shared_ptr<RecordingSession>> live;
  HubStats out;
  {
    MutexLock lock(mu_);
    out = closed_totals_;
    out.active_sessions = sessions_.size();
    out.sessions_opened = opened_;
    for (auto& [id, s] : sessions_) live.push_back(s);
  }
  for (auto& s : live) {
    auto st = s->Stats();
    out.packets += st.packets;
    out.lost_packets += st.lost_packets;
    out.late_packets += st.late_packets;
    out.decode_errors += st.decode_errors;
  }
  return out;
}

}  // namespace verbatim::media::capture
