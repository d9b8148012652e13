// Per-stream jitter buffer: turns decoded RTP packets (any order, duplicated,
// lost, SSRC changes) into a gap-free sample stream in timestamp order.
//
// Model. Every packet is placed at a stream *position* (int64 samples):
//   position = pos_base + (extended RTP timestamp - ts_base)
// where the base is anchored on arrival time: the least-delayed packet before
// playout starts lands at (arrival - origin) * clock_rate, so with origin =
// session start positions are already on the session timeline. A new SSRC (or a same-SSRC discontinuity) is
// re-anchored at the current stream position, so it continues where the old
// one is in real time. Sequence numbers say *whether* something is missing;
// timestamps say *how long* the gap is.
// Playout. Pull(now) emits, in position order, every packet that is sequence-
// contiguous with the last one played (at once, no added latency), or has waited
// max_depth for its predecessors, or when more than max_depth of audio is held.
// Skipped positions are reported to the sink as gaps (lost → silence). A packet
// whose slot was already played is dropped as late. Flush() plays out the rest.
//
// Time is injected (Nanos since any epoch, e.g. steady_clock); no clock reads,
// no threads: a deterministic data structure. Not thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

namespace verbatim::media::rtp {

using Nanos = std::chrono::nanoseconds;

struct JitterConfig {
  uint32_t clock_rate = 8000;
  Nanos max_depth = std::chrono::milliseconds(200);      // longest wait for a missing packet
  Nanos resync_threshold = std::chrono::seconds(1);      // farther ahead of real time = discontinuity
  std::optional<Nanos> origin;                           // arrival time of position 0 (default: first arrival)
  // Clock drift: a sender whose clock runs slow falls behind real time (50 ppm
  // is 180 ms an hour) until the recorder drops its audio as late. When even the
  // least-delayed packet of a drift_window arrives more than drift_tolerance
  // later than the reference, the stream slips forward by that much (silence).
  // A fast sender runs ahead instead, which costs nothing. 0 disables.
  Nanos drift_window = std::chrono::seconds(20);
  Nanos drift_tolerance = std::chrono::milliseconds(150);
  size_t max_packets = 256;                              // hard bound on buffered packets
  size_t max_packet_samples = 0;                         // 0 = clock_rate / 2 (500 ms)
};

enum class PushOutcome {
  kAccepted,      // buffered
  kReordered,     // buffered; arrived after a higher sequence number
  kNewSource,     // SSRC changed: re-anchored at the current position, buffered
  kResync,        // same SSRC, sequence or timestamp discontinuity: re-anchored, buffered
  kNonAudio,      // sequence number recorded, nothing to play (telephone-event, empty)
  kDuplicate,     // sequence number already received: dropped
  kLate,          // its slot was already played out: dropped
  kStale,         // the previous SSRC, shortly after a switch: dropped
  kBadSequence,   // jump beyond RFC 3550 A.1 limits, waiting for confirmation: dropped
  kBadTimestamp,  // an old sequence number far ahead of real time: dropped
  kTooLarge,      // more than max_packet_samples: dropped
};
const char* ToString(PushOutcome o);  // "accepted", "reordered", ...

struct JitterStats {
  uint64_t received = 0;        // Push calls
  uint64_t duplicates = 0;
  uint64_t late = 0;
  uint64_t reordered = 0;
  uint64_t lost_packets = 0;    // sequence numbers never received, declared at playout
  uint64_t lost_samples = 0;    // silence emitted where packets were missing
  uint64_t silence_samples = 0; // silence for timestamp gaps with nothing missing (DTX, source switch)
  uint64_t played_samples = 0;  // audio samples emitted (not counting silence)
  uint64_t ssrc_changes = 0;
  uint64_t resyncs = 0;
  uint64_t drift_slips = 0;     // forward slips for a slow sender clock (their silence is in silence_samples)
  uint64_t non_audio = 0;
  uint64_t discarded = 0;       // stale + bad sequence + bad timestamp + too large
};

struct JitterInput {
  uint32_t ssrc = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  Nanos arrival{0};
  std::span<const int16_t> samples;  // decoded, mono, at clock_rate; copied
  bool audio = true;                 // false: telephone-event etc., only the sequence number counts
};

// Receives playout in increasing, non-overlapping positions.
class JitterSink {
 public:
  virtual ~JitterSink() = default;
  virtual void OnSamples(int64_t position, std::span<const int16_t> samples) = 0;
  // `count` samples of silence at `position`; lost = packets were missing.
  virtual void OnGap(int64_t position, int64_t count, bool lost) = 0;
};

class JitterBuffer {
 public:
  explicit JitterBuffer(JitterConfig config = {});

  PushOutcome Push(const JitterInput& in);
  void Pull(Nanos now, JitterSink& sink);
  void Flush(JitterSink& sink);  // end of stream: play everything, gaps as lost

  const JitterStats& stats() const { return stats_; }
  std::optional<int64_t> play_position() const { return play_; }  // next position to emit
  size_t buffered_packets() const { return packets_.size(); }

 private:
  struct Source {
    uint32_t ssrc = 0;
    uint32_t generation = 0;  // sequence numbers compare only within one generation
    int64_t max_seq = 0;      // extended, highest received
    int64_t max_ts = 0;       // extended timestamp of the highest-sequence audio packet
    int64_t ts_base = 0;      // position = pos_base + (ext_ts - ts_base)
    int64_t pos_base = 0;
    int64_t lead = 0;         // max(position - arrival position): where an undelayed packet lands
    std::optional<uint16_t> probation;  // sequence that would confirm a big jump
    std::optional<Nanos> window_start;  // drift window: start and its best (max) offset
    int64_t window_lead = 0;
  };
  struct Buffered {
    int64_t position = 0;
    int64_t seq = 0;
    uint32_t generation = 0;
    Nanos arrival{0};
    std::vector<int16_t> samples;
  };
  struct Slot {  // one received sequence number of the current generation
    int64_t seq = INT64_MIN;
    bool audio = false;
  };
  struct Played {
    uint32_t generation;
    int64_t seq;
  };
  static constexpr size_t kRing = 1024;  // > RFC 3550 MAX_MISORDER; sizes the duplicate window

  int64_t SamplesAt(Nanos t) const;  // arrival time → position, clamped
  int64_t CurrentPosition(int64_t now_pos) const;
  void StartSource(const JitterInput& in, int64_t position, int64_t now_pos);
  PushOutcome Insert(const JitterInput& in, int64_t position, int64_t seq, PushOutcome outcome);
  bool Seen(int64_t seq) const;
  bool Contiguous(const Buffered& b) const;
  void Rebase(int64_t delta);  // shifts every position by -delta (before first playout)
  void TrackDrift(Source& s, Nanos arrival, int64_t offset);
  uint64_t Missing(const Buffered& b) const;
  void Release(Nanos now, bool flush, JitterSink& sink);

  // Constant after construction.
  JitterConfig config_;
  int64_t depth_samples_;
  int64_t resync_samples_;
  int64_t drift_tolerance_samples_;
  size_t max_packet_samples_;

  std::optional<Nanos> origin_;
  std::optional<Source> src_;
  uint32_t generation_ = 0;
  std::optional<uint32_t> prev_ssrc_;  // for dropping stragglers right after a switch
  Nanos switched_at_{0};
  std::array<Slot, kRing> ring_{};
  // Keyed by (position, generation, seq): timestamp order, ties kept apart.
  std::map<std::tuple<int64_t, uint32_t, int64_t>, Buffered> packets_;
  std::optional<int64_t> highest_end_;  // max position + length ever buffered
  std::optional<int64_t> play_;
  std::optional<Played> last_;
  JitterStats stats_;
};

// Materializes playout (gaps as zeros) into one vector: for tests, tools, fuzzing.
class CollectingSink final : public JitterSink {
 public:
  void OnSamples(int64_t position, std::span<const int16_t> samples) override;
  void OnGap(int64_t position, int64_t count, bool lost) override;

  struct Gap {
    int64_t position;
    int64_t count;
    bool lost;
  };
  std::optional<int64_t> start;   // position of samples[0]
  std::vector<int16_t> samples;
  std::vector<Gap> gaps;
  int64_t max_gap_materialized = int64_t{1} << 24;  // bound memory on huge gaps
};

}  // namespace verbatim::media::rtp
