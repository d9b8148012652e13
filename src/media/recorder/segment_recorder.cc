#include "media/recorder/segment_recorder.h"

#include <algorithm>
#include <climits>
#include <utility>

namespace verbatim::media::recorder {
namespace {

constexpr int64_t kChunkFrames = 1024;  // bounds the interleaving buffer
// Caller positions are clamped so that no arithmetic on them overflows.
constexpr int64_t kPositionLimit = int64_t{1} << 60;

int64_t ClampPosition(int64_t p) { return std::clamp(p, -kPositionLimit, kPositionLimit); }

bool ValidConversationId(std::string_view id) {
  // It becomes a directory name: no separators, no "..", nothing exotic.
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

int64_t MsToSamples(std::chrono::milliseconds ms, uint32_t rate) {
  return std::max<int64_t>(0, ms.count()) * rate / 1000;
}

}  // namespace

const char* ToString(PauseBehavior b) {
  switch (b) {
    case PauseBehavior::kSilence: return "silence";
    case PauseBehavior::kSkip: return "skip";
  }
  return "silence";
}

std::optional<PauseBehavior> ParsePauseBehavior(std::string_view s) {
  if (s == "silence") return PauseBehavior::kSilence;
  if (s == "skip") return PauseBehavior::kSkip;
  return std::nullopt;
}

Result<std::unique_ptr<SegmentRecorder>> SegmentRecorder::Create(RecorderConfig config) {
  if (!ValidConversationId(config.conversation_id)) {
    return Status::InvalidArgument("recorder.bad.config", "conversation id is not a safe directory name");
  }
  if (config.sample_rate < 8000 || config.sample_rate > 48000) {
    return Status::InvalidArgument("recorder.bad.config", "sample rate must be 8000..48000");
  }
  return std::unique_ptr<SegmentRecorder>(new SegmentRecorder(std::move(config)));
}

SegmentRecorder::SegmentRecorder(RecorderConfig config)
    : config_(std::move(config)),
      max_lag_(MsToSamples(config_.max_lag, config_.sample_rate)),
      max_ahead_(std::max<int64_t>(kChunkFrames, MsToSamples(config_.max_ahead, config_.sample_rate))),
      next_segment_(std::max(1, config_.first_segment)) {}

SegmentRecorder::~SegmentRecorder() { (void)Finish(); }

size_t SegmentRecorder::AddChannel(std::string label) {
  channels_.emplace_back();
  stats_.channels.push_back(ChannelStats{std::move(label)});
  return channels_.size() - 1;
}

Status SegmentRecorder::CloseChannel(size_t channel) {
  if (channel >= channels_.size()) return Status::InvalidArgument("recorder.bad.channel", "no such channel");
  channels_[channel].closed = true;
  if (!failed_.ok()) return failed_;
  return Drain(Target());
}

int64_t SegmentRecorder::Reached(const Channel& c) const {
  return write_pos_ + static_cast<int64_t>(c.pending.size() - c.head);
}

int64_t SegmentRecorder::Target() const {
  std::optional<int64_t> lowest;
  for (const Channel& c : channels_) {
    if (!c.closed) lowest = std::min(lowest.value_or(INT64_MAX), Reached(c));
  }
  int64_t target = lowest.value_or(write_pos_);
  if (advance_) target = std::max(target, *advance_ - max_lag_);
  return target;
}

Status SegmentRecorder::PushSamples(size_t channel, int64_t position, std::span<const int16_t> samples) {
  if (channel >= channels_.size()) return Status::InvalidArgument("recorder.bad.channel", "no such channel");
  if (!failed_.ok()) return failed_;
  position = ClampPosition(position);
  Channel& c = channels_[channel];
  ChannelStats& st = stats_.channels[channel];
  st.pushed_samples += samples.size();

  const int64_t n = static_cast<int64_t>(samples.size());
  if (position < write_pos_) {  // already written: too late
    const int64_t late = std::min(n, write_pos_ - position);
    st.late_samples += static_cast<uint64_t>(late);
    samples = samples.subspan(static_cast<size_t>(late));
    position = write_pos_;
  }
  const int64_t reached = Reached(c);
  if (position < reached) {  // overlaps what this channel already delivered: first wins
    const int64_t overlap = std::min<int64_t>(static_cast<int64_t>(samples.size()), reached - position);
    st.dropped_samples += static_cast<uint64_t>(overlap);
    samples = samples.subspan(static_cast<size_t>(overlap));
    position = reached;
  }
  // Bounded memory: a channel may not run more than max_ahead past the write position.
  const int64_t limit = write_pos_ + max_ahead_;
  if (position >= limit) {
    st.dropped_samples += samples.size();
    return Drain(Target());
  }
  const int64_t keep = std::min<int64_t>(static_cast<int64_t>(samples.size()), limit - position);
  st.dropped_samples += samples.size() - static_cast<size_t>(keep);
  if (position > reached) {
    st.gap_samples += static_cast<uint64_t>(position - reached);
    c.pending.resize(c.pending.size() + static_cast<size_t>(position - reached), 0);
  }
  c.pending.insert(c.pending.end(), samples.begin(), samples.begin() + keep);
  return Drain(Target());
}

Status SegmentRecorder::AdvanceTo(int64_t position) {
  if (!failed_.ok()) return failed_;
  position = ClampPosition(position);
  advance_ = std::max(advance_.value_or(position), position);
  return Drain(Target());
}

Status SegmentRecorder::SetState(RecordingState state, int64_t at_position) {
  if (!failed_.ok()) return failed_;
  // Transitions apply in call order, never to frames already written.
  int64_t at = std::max(ClampPosition(at_position), write_pos_);
  if (!changes_.empty()) at = std::max(at, changes_.back().at);
  changes_.push_back(Change{state, at});
  return ApplyDueChanges();
}

Status SegmentRecorder::Finish() {
  if (!failed_.ok()) return failed_;
  int64_t end = Target();
  for (const Channel& c : channels_) end = std::max(end, Reached(c));
  VERBATIM_RETURN_IF_ERROR(Drain(end));
  while (!changes_.empty()) {
    const Change c = changes_.front();
    changes_.pop_front();
    VERBATIM_RETURN_IF_ERROR(Transition(c.state));
  }
  if (writer_) VERBATIM_RETURN_IF_ERROR(CloseSegment());
  state_ = RecordingState::kStopped;  // a later SetState(kActive) opens a new segment
  return Status::Ok();
}

Status SegmentRecorder::Fail(Status s) {
  if (!s.ok() && failed_.ok()) failed_ = s;
  return s;
}

Status SegmentRecorder::Drain(int64_t target) {
  VERBATIM_RETURN_IF_ERROR(ApplyDueChanges());
  while (write_pos_ < target) {
    // Frames that go nowhere (stopped, none, skipped pause) are passed in one step.
    const bool writes = writer_ && (state_ == RecordingState::kActive ||
                                    config_.pause_behavior == PauseBehavior::kSilence);
    int64_t end = writes && target - write_pos_ > kChunkFrames ? write_pos_ + kChunkFrames : target;
    if (!changes_.empty()) end = std::min(end, changes_.front().at);
    const int64_t n = end - write_pos_;
    VERBATIM_RETURN_IF_ERROR(WriteFrames(n));
    write_pos_ = end;
    VERBATIM_RETURN_IF_ERROR(ApplyDueChanges());
  }
  return Status::Ok();
}

Status SegmentRecorder::WriteFrames(int64_t n) {
  switch (state_) {
    case RecordingState::kActive: {
      if (!writer_) {  // only after a failed segment open
        Consume(n, false);
        return Status::Ok();
      }
      const size_t k = segment_channels_;
      scratch_.assign(static_cast<size_t>(n) * k, 0);
      for (size_t ch = 0; ch < k && ch < channels_.size(); ++ch) {
        const Channel& c = channels_[ch];
        const int64_t have = std::min<int64_t>(n, static_cast<int64_t>(c.pending.size() - c.head));
        const int16_t* src = c.pending.data() + c.head;
        for (int64_t f = 0; f < have; ++f) scratch_[static_cast<size_t>(f) * k + ch] = src[f];
      }
      Consume(n, true);
      stats_.frames_written += static_cast<uint64_t>(n);
      stats_.segments.back().frames += static_cast<uint64_t>(n);
      return Fail(writer_->Write(scratch_));
    }
    case RecordingState::kPaused:
      Consume(n, false);
      if (!writer_) return Status::Ok();
      if (config_.pause_behavior == PauseBehavior::kSkip) {
        stats_.skipped_frames += static_cast<uint64_t>(n);
        return Status::Ok();
      }
      stats_.silence_frames += static_cast<uint64_t>(n);
      stats_.frames_written += static_cast<uint64_t>(n);
      stats_.segments.back().frames += static_cast<uint64_t>(n);
      return Fail(writer_->WriteSilence(static_cast<uint64_t>(n)));
    case RecordingState::kNone:
    case RecordingState::kStopped:
      Consume(n, false);
      return Status::Ok();
  }
  return Status::Ok();
}

void SegmentRecorder::Consume(int64_t n, bool count_gaps) {
  for (size_t i = 0; i < channels_.size(); ++i) {
    Channel& c = channels_[i];
    const int64_t have = static_cast<int64_t>(c.pending.size() - c.head);
    const int64_t take = std::min(n, have);
    // Only a shortfall that ends up in the file counts as this channel's gap.
    if (count_gaps && i < segment_channels_ && take < n && !c.closed) {
      stats_.channels[i].gap_samples += static_cast<uint64_t>(n - take);
    }
    c.head += static_cast<size_t>(take);
    if (c.head == c.pending.size()) {
      c.pending.clear();
      c.head = 0;
    } else if (c.head >= 4096 && c.head * 2 >= c.pending.size()) {
      c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<std::ptrdiff_t>(c.head));
      c.head = 0;
    }
  }
}

Status SegmentRecorder::ApplyDueChanges() {
  while (!changes_.empty() && changes_.front().at <= write_pos_) {
    const Change c = changes_.front();
    changes_.pop_front();
    VERBATIM_RETURN_IF_ERROR(Transition(c.state));
  }
  return Status::Ok();
}

Status SegmentRecorder::Transition(RecordingState to) {
  if (to == state_) return Status::Ok();
  switch (to) {
    case RecordingState::kActive:
      if (!writer_) VERBATIM_RETURN_IF_ERROR(OpenSegment());
      break;
    case RecordingState::kPaused:
      break;  // keeps the segment open; none → paused opens nothing
    case RecordingState::kStopped:
    case RecordingState::kNone:
      if (writer_) VERBATIM_RETURN_IF_ERROR(CloseSegment());
      break;
  }
  state_ = to;
  return Status::Ok();
}

Status SegmentRecorder::OpenSegment() {
  const std::filesystem::path dir = config_.root / config_.conversation_id;
  std::error_code ec;
  // 0700 whatever the umask: recordings are for this user only (docs/secrets-at-rest.md).
  if (std::filesystem::create_directories(dir, ec) && !ec)
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (ec) return Fail(Status::Internal("create " + dir.string() + ": " + ec.message()));
  // Never overwrite: a file from an earlier run (or its .part) keeps its number.
  // A WAV needs at least one channel; with no participants yet it records silence.
  segment_channels_ = std::min<size_t>(std::max<size_t>(1, channels_.size()), 64);
  std::filesystem::path path;
  Result<std::unique_ptr<wav::WavWriter>> writer = Status::Internal("unreachable");
  for (;; ++next_segment_) {
    path = dir / ("segment-" + std::to_string(next_segment_) + ".wav");
    if (std::filesystem::exists(path, ec) || std::filesystem::exists(path.string() + wav::kPartSuffix, ec)) continue;
    writer = wav::WavWriter::Create(path, static_cast<uint16_t>(segment_channels_), config_.sample_rate, config_.wav);
    // Taken in between: an earlier session's segment being renamed from .part
    // by its (deferred) finalization, which neither check above saw.
    if (!writer.ok() && writer.status().kind() == Status::Kind::kAlreadyExists) continue;
    break;
  }
  if (!writer.ok()) return Fail(writer.status());
  writer_ = std::move(writer).value();
  stats_.segments.push_back(SegmentInfo{next_segment_, path, write_pos_, static_cast<uint16_t>(segment_channels_)});
  ++next_segment_;
  return Status::Ok();
}

Status SegmentRecorder::CloseSegment() {
  Status s;
  if (config_.defer_finalize) {
    // Everything written is on disk (page cache) under a header that says so:
    // a kill -9 before the caller's Close() loses nothing.
    s = writer_->Checkpoint();
    unfinalized_.push_back(std::move(writer_));
  } else {
    s = writer_->Close();
  }
  stats_.segments.back().closed = true;
  writer_.reset();
  return Fail(s);
}

std::vector<std::unique_ptr<wav::WavWriter>> SegmentRecorder::TakeUnfinalized() {
  return std::exchange(unfinalized_, {});
}

std::optional<std::filesystem::path> SegmentRecorder::current_path() const {
  if (!writer_) return std::nullopt;
  return writer_->path();
}

uint64_t SegmentRecorder::current_frames() const { return writer_ ? writer_->frames() : 0; }

double SegmentRecorder::current_duration_seconds() const { return writer_ ? writer_->duration_seconds() : 0.0; }

}  // namespace verbatim::media::recorder
