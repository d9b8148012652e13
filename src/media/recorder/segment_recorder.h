// SegmentRecorder: N participant streams → one N-channel WAV per recording segment.
//
// Model. Positions are sample indices on one session timeline (at sample_rate).
// Each channel buffers samples from the write position on; PushSamples places
// them at their position (holes → silence; data behind the write position is late).
// Frames are written up to the lowest position every live channel has reached,
// and at least up to AdvanceTo(now) - max_lag, so a silent or lost channel never
// stalls the others: whatever it has not delivered by then is written as silence.
// SetState(state, at) takes effect exactly at position `at` (or at the write
// position if that is already past): active → audio; paused → silence
// (kSilence) or nothing (kSkip); stopped/none → nothing, and the open segment
// is finalized (.part renamed). Active after stopped opens segment N+1 at
// <root>/<conversationId>/segment-<N>.wav. A segment's channel count is fixed
// when it opens; channels added later appear from the next segment on.
// Finalizing a file (fdatasync, rename, directory fsync) can take seconds on a
// busy disk; with defer_finalize the recorder only checkpoints a closed segment
// (a valid WAV of all its audio, still named .part) and hands its writer to the
// caller (TakeUnfinalized), who Close()s it where waiting does no harm.
// No threads, no clock: the caller drives it. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/recording_state.h"
#include "core/status.h"
#include "media/wav/wav_writer.h"

namespace verbatim::media::recorder {

enum class PauseBehavior { kSilence, kSkip };
const char* ToString(PauseBehavior b);  // "silence" | "skip" (the org setting pauseBehavior)
std::optional<PauseBehavior> ParsePauseBehavior(std::string_view s);

struct RecorderConfig {
  std::filesystem::path root;       // storage root; files go to root/<conversation_id>/
  std::string conversation_id;      // [A-Za-z0-9._-]{1,128}, not "." or ".."
  uint32_t sample_rate = 8000;
  PauseBehavior pause_behavior = PauseBehavior::kSilence;
  std::chrono::milliseconds max_lag{400};     // how far behind AdvanceTo writing may fall
  std::chrono::milliseconds max_ahead{10000}; // how far past the write position a channel may buffer
  int first_segment = 1;            // existing segment files are never overwritten: skipped
  bool defer_finalize = false;      // closed segments go to TakeUnfinalized() instead of Close()
  wav::WriterOptions wav;
};

struct ChannelStats {
  std::string label;
  uint64_t pushed_samples = 0;
  uint64_t gap_samples = 0;      // positions the channel skipped or never delivered: silence
  uint64_t late_samples = 0;     // arrived after their position was written: dropped
  uint64_t dropped_samples = 0;  // overlapping what was already buffered, or too far ahead
};

struct SegmentInfo {
  int index = 0;
  std::filesystem::path path;    // final .wav path (the .part while open)
  int64_t start_position = 0;    // timeline position where it opened
  uint16_t channels = 0;
  uint64_t frames = 0;
  bool closed = false;           // no more audio; with defer_finalize, maybe not renamed yet
};

struct RecorderStats {
  uint64_t frames_written = 0;   // all frames in files (audio + paused silence)
  uint64_t silence_frames = 0;   // written as silence because paused
  uint64_t skipped_frames = 0;   // paused with kSkip: not written
  std::vector<ChannelStats> channels;
  std::vector<SegmentInfo> segments;
};

class SegmentRecorder {
 public:
  // InvalidArgument "recorder.bad.config" for a bad conversation id or sample rate.
  static Result<std::unique_ptr<SegmentRecorder>> Create(RecorderConfig config);
  ~SegmentRecorder();  // Finish(), errors dropped
  SegmentRecorder(const SegmentRecorder&) = delete;
  SegmentRecorder& operator=(const SegmentRecorder&) = delete;

  size_t AddChannel(std::string label);
  // No more data from this channel: it stops holding the others back.
  Status CloseChannel(size_t channel);
  // Errors: InvalidArgument "recorder.bad.channel"; any I/O error (sticky).
  Status PushSamples(size_t channel, int64_t position, std::span<const int16_t> samples);
  Status SetState(RecordingState state, int64_t at_position);
  Status AdvanceTo(int64_t position);
  // End of input: writes what is buffered, applies queued transitions, closes the segment.
  Status Finish();
  // With defer_finalize: the writers of segments closed since the last call,
  // oldest first, checkpointed but not Close()d. Whoever takes them must
  // Close() them (a writer destroyed unclosed closes itself, blocking).
  std::vector<std::unique_ptr<wav::WavWriter>> TakeUnfinalized();

  const RecorderStats& Stats() const { return stats_; }
  RecordingState state() const { return state_; }
  int64_t write_position() const { return write_pos_; }
  std::optional<std::filesystem::path> current_path() const;  // the open segment's final path
  uint64_t current_frames() const;
  double current_duration_seconds() const;

 private:
  struct Channel {
    std::vector<int16_t> pending;  // samples for positions write_pos_ .. write_pos_ + size - head
    size_t head = 0;
    bool closed = false;
  };
  struct Change {
    RecordingState state;
    int64_t at;
  };

  explicit SegmentRecorder(RecorderConfig config);
  int64_t Reached(const Channel& c) const;
  int64_t Target() const;
  Status Drain(int64_t target);
  Status WriteFrames(int64_t n);
  void Consume(int64_t n, bool count_gaps);
  Status ApplyDueChanges();
  Status Transition(RecordingState to);
  Status OpenSegment();
  Status CloseSegment();
  Status Fail(Status s);

  // Constant after construction.
  const RecorderConfig config_;
  const int64_t max_lag_;    // samples
  const int64_t max_ahead_;  // samples

  std::vector<Channel> channels_;
  std::deque<Change> changes_;  // ascending `at`
  RecordingState state_ = RecordingState::kNone;
  int64_t write_pos_ = 0;
  std::optional<int64_t> advance_;
  std::unique_ptr<wav::WavWriter> writer_;
  std::vector<std::unique_ptr<wav::WavWriter>> unfinalized_;  // defer_finalize: closed, not yet taken
  size_t segment_channels_ = 0;
  int next_segment_;
  std::vector<int16_t> scratch_;  // interleaving buffer
  RecorderStats stats_;
  Status failed_;  // sticky
};

}  // namespace verbatim::media::recorder
