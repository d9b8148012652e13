#include "media/capture/session.h"

namespace verbatim::media::capture {

struct RecordingSession::Channel {
  explicit Channel(rtp::JitterConfig cfg) : jitter(cfg) {}
  rtp::JitterBuffer jitter;
};

// One round of playout between the two locks: taken out of the jitter buffers
// under input_mu_, handed to the recorder once that is released. Gaps need
// nothing: the recorder writes silence wherever a channel has no samples.
struct RecordingSession::Playout final : public rtp::JitterSink {
  struct Block {
    size_t channel;
    int64_t position;
    size_t offset;  // into samples
    size_t size;
  };
  size_t channel = 0;  // the channel being pulled
  std::vector<Block> blocks;
  std::vector<int16_t> samples;  // kept between rounds: no allocation per tick

  void OnSamples(int64_t position, std::span<const int16_t> s) override {
    blocks.push_back({channel, position, samples.size(), s.size()});
    samples.insert(samples.end(), s.begin(), s.end());
  }
  void OnGap(int64_t, int64_t, bool) override {}
  void Clear() {
    blocks.clear();
    samples.clear();
  }
};

RecordingSession::RecordingSession(std::string conversation_id, Attachment attachment,
                                   std::vector<std::string> channel_labels,
                                   std::unique_ptr<recorder::SegmentRecorder> recorder, uint32_t sample_rate,
                                   Nanos origin, FileWorkSink publish)
    : conversation_id_(std::move(conversation_id)),
      attachment_(std::move(attachment)),
      labels_(std::move(channel_labels)),
      sample_rate_(sample_rate),
      origin_(origin),
      publish_(std::move(publish)),
      recorder_(std::move(recorder)),
      playout_(std::make_unique<Playout>()) {
  for (const auto& label : labels_) {
    rtp::JitterConfig cfg;
    cfg.clock_rate = sample_rate_;
    cfg.origin = origin_;  // one origin for all channels: one timeline
    channels_.push_back(std::make_unique<Channel>(cfg));
    recorder_->AddChannel(label);
  }
  // The state the control API had when the media arrived applies from position 0.
  Status s = recorder_->SetState(attachment_.state, 0);
  if (!s.ok()) error_ = s;
}

RecordingSession::~RecordingSession() = default;

int64_t RecordingSession::PositionAt(Nanos t) const {
  if (t <= origin_) return 0;
  return static_cast<int64_t>((t - origin_).count() * static_cast<__int128>(sample_rate_) / 1'000'000'000);
}

void RecordingSession::PushRtp(size_t channel, const rtp::Packet& packet, const codec::Decoder& decoder,
                               Nanos arrival) {
  MutexLock lock(input_mu_);
  if (input_closed_ || channel >= channels_.size()) return;
  ++stats_.packets;
  scratch_.clear();
  if (decoder.is_audio()) {
    auto n = decoder.Decode(packet.payload, scratch_);
    if (!n.ok() || decoder.clock_rate() != sample_rate_) {
      ++stats_.decode_errors;
      return;
    }
  }
  rtp::JitterInput in;
  in.ssrc = packet.ssrc;
  in.sequence = packet.sequence;
  in.timestamp = packet.timestamp;
  in.arrival = arrival;
  in.samples = scratch_;
  in.audio = decoder.is_audio() && !scratch_.empty();
  channels_[channel]->jitter.Push(in);
}

void RecordingSession::PushPcm(size_t channel, uint16_t sequence, uint32_t timestamp,
                               std::span<const int16_t> samples, Nanos arrival) {
  MutexLock lock(input_mu_);
  if (input_closed_ || channel >= channels_.size()) return;
  ++stats_.packets;
  rtp::JitterInput in;
  in.ssrc = 1;
  in.sequence = sequence;
  in.timestamp = timestamp;
  in.arrival = arrival;
  in.samples = samples;
  in.audio = !samples.empty();
  channels_[channel]->jitter.Push(in);
}

void RecordingSession::DrainLocked(Nanos now, bool flush) {
  Playout& out = *playout_;
  out.Clear();
  {
    MutexLock lock(input_mu_);
    if (flush) input_closed_ = true;  // atomically with the last playout: nothing pushed after it is lost silently
    for (size_t i = 0; i < channels_.size(); ++i) {
      out.channel = i;
      if (flush) {
        channels_[i]->jitter.Flush(out);
      } else {
        channels_[i]->jitter.Pull(now, out);
      }
    }
  }
  // The writes happen here, with input_mu_ released: pushes never wait for the disk.
  for (const auto& b : out.blocks) {
    Status s = recorder_->PushSamples(b.channel, b.position, std::span(out.samples).subspan(b.offset, b.size));
    if (!s.ok() && error_.ok()) error_ = s;
  }
  Status s = recorder_->AdvanceTo(PositionAt(now));
  if (!s.ok() && error_.ok()) error_ = s;
}

void RecordingSession::SetState(RecordingState state, Nanos at) {
  MutexLock lock(record_mu_);
  if (finished_) return;
  Status s = recorder_->SetState(state, PositionAt(at));
  if (!s.ok() && error_.ok()) error_ = s;
  PublishLocked(false);
}

void RecordingSession::Tick(Nanos now, bool report_growth) {
  MutexLock lock(record_mu_);
  if (finished_) return;
  DrainLocked(now, false);
  PublishLocked(report_growth);
}

void RecordingSession::Finish(Nanos now) {
  MutexLock lock(record_mu_);
  if (finished_) return;
  DrainLocked(now, true);
  Status s = recorder_->Finish();
  if (!s.ok() && error_.ok()) error_ = s;
  finished_ = true;
  PublishLocked(true);
  playout_->samples.shrink_to_fit();
}

void RecordingSession::PublishLocked(bool include_growth) {
  FileWork work;
  work.finalize = recorder_->TakeUnfinalized();
  work.updates = FileUpdatesLocked(include_growth);
  if (work.finalize.empty() && work.updates.empty()) return;
  // Without a sink the writers Close() themselves as `work` goes: late, but nothing is lost.
  if (publish_) publish_(std::move(work));
}

std::vector<MediaFileInfo> RecordingSession::FileUpdatesLocked(bool include_growth) {
  std::vector<MediaFileInfo> out;
  const auto& stats = recorder_->Stats();
  for (const auto& seg : stats.segments) {
    size_t i = static_cast<size_t>(seg.index);
    if (reported_frames_.size() <= i) {
      reported_frames_.resize(i + 1, UINT64_MAX);
      reported_closed_.resize(i + 1, false);
    }
    bool is_new = reported_frames_[i] == UINT64_MAX;
    bool closed_now = seg.closed && !reported_closed_[i];
    bool grew = include_growth && seg.frames != reported_frames_[i];
    if (!is_new && !closed_now && !grew) continue;
    reported_frames_[i] = seg.frames;
    reported_closed_[i] = seg.closed;
    MediaFileInfo f;
    f.segment = seg.index;
    std::string name = seg.path.filename().string();
    if (name.size() > 5 && name.ends_with(".part")) name.resize(name.size() - 5);
    f.relative_path = conversation_id_ + "/" + name;
    f.channels = seg.channels;
    f.sample_rate = static_cast<int>(sample_rate_);
    f.frames = static_cast<int64_t>(seg.frames);
    f.bytes = 44 + f.frames * seg.channels * 2;
    f.complete = seg.closed;
    f.channel_labels.assign(labels_.begin(), labels_.begin() + std::min<size_t>(labels_.size(), seg.channels));
    out.push_back(std::move(f));
  }
  return out;
}

SessionStats RecordingSession::Stats() const {
  SessionStats s;
  {
    MutexLock lock(input_mu_);
    s = stats_;
    for (const auto& c : channels_) {
      const auto& j = c->jitter.stats();
      s.lost_packets += j.lost_packets;
      s.late_packets += j.late;
      s.duplicates += j.duplicates;
    }
  }
  MutexLock lock(record_mu_);
  s.frames_written = recorder_->Stats().frames_written;
  return s;
}

Status RecordingSession::error() const {
  MutexLock lock(record_mu_);
  return error_;
}

}  // namespace verbatim::media::capture
