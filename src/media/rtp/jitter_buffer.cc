#include "media/rtp/jitter_buffer.h"

#include <algorithm>
#include <climits>

namespace verbatim::media::rtp {
namespace {

// RFC 3550 A.1: larger sequence jumps are a restart, not loss or reordering.
constexpr int32_t kMaxDropout = 3000;
constexpr int32_t kMaxMisorder = 100;
// Positions and times are clamped here so that no arithmetic on them can
// overflow, whatever the caller (or a fuzzer) passes: 2^52 samples is 17 000
// years at 8 kHz.
constexpr int64_t kPositionLimit = int64_t{1} << 52;

int64_t Clamp(__int128 v) {
  return static_cast<int64_t>(std::clamp<__int128>(v, -kPositionLimit, kPositionLimit));
}

int64_t ToSamples(Nanos d, uint32_t rate) {
  return Clamp(static_cast<__int128>(d.count()) * rate / 1'000'000'000);
}

// a - b >= d, without overflow.
bool AtLeast(Nanos a, Nanos b, Nanos d) {
  return static_cast<__int128>(a.count()) - b.count() >= d.count();
}

}  // namespace

const char* ToString(PushOutcome o) {
  switch (o) {
    case PushOutcome::kAccepted: return "accepted";
    case PushOutcome::kReordered: return "reordered";
    case PushOutcome::kNewSource: return "new.source";
    case PushOutcome::kResync: return "resync";
    case PushOutcome::kNonAudio: return "non.audio";
    case PushOutcome::kDuplicate: return "duplicate";
    case PushOutcome::kLate: return "late";
    case PushOutcome::kStale: return "stale";
    case PushOutcome::kBadSequence: return "bad.sequence";
    case PushOutcome::kBadTimestamp: return "bad.timestamp";
    case PushOutcome::kTooLarge: return "too.large";
  }
  return "unknown";
}

JitterBuffer::JitterBuffer(JitterConfig config)
    : config_(config),
      depth_samples_(ToSamples(config.max_depth, config.clock_rate)),
      resync_samples_(ToSamples(config.resync_threshold, config.clock_rate)),
      drift_tolerance_samples_(ToSamples(config.drift_tolerance, config.clock_rate)),
      max_packet_samples_(config.max_packet_samples != 0 ? config.max_packet_samples : config.clock_rate / 2) {
  if (config_.max_packets == 0) config_.max_packets = 1;
}

int64_t JitterBuffer::SamplesAt(Nanos t) const {
  return Clamp((static_cast<__int128>(t.count()) - origin_->count()) * config_.clock_rate / 1'000'000'000);
}

int64_t JitterBuffer::CurrentPosition(int64_t now_pos) const {
  // Where the stream is in real time, never behind what is already held or played.
  int64_t pos = src_ ? Clamp(static_cast<__int128>(src_->lead) + now_pos) : now_pos;
  if (highest_end_) pos = std::max(pos, *highest_end_);
  if (play_) pos = std::max(pos, *play_);
  return pos;
}

void JitterBuffer::StartSource(const JitterInput& in, int64_t position, int64_t now_pos) {
  Source s;
  s.ssrc = in.ssrc;
  s.generation = ++generation_;
  s.max_seq = in.sequence;
  s.max_ts = in.timestamp;
  s.ts_base = in.timestamp;
  s.pos_base = position;
  s.lead = Clamp(static_cast<__int128>(position) - now_pos);
  src_ = s;
  ring_.fill(Slot{});  // a new sequence space
}

bool JitterBuffer::Seen(int64_t seq) const { return ring_[static_cast<uint64_t>(seq) % kRing].seq == seq; }

PushOutcome JitterBuffer::Insert(const JitterInput& in, int64_t position, int64_t seq, PushOutcome outcome) {
  const bool audio = in.audio && !in.samples.empty();
  ring_[static_cast<uint64_t>(seq) % kRing] = Slot{seq, audio};
  if (!audio) {
    ++stats_.non_audio;
    return outcome == PushOutcome::kAccepted || outcome == PushOutcome::kReordered ? PushOutcome::kNonAudio
                                                                                   : outcome;
  }
  const int64_t end = position + static_cast<int64_t>(in.samples.size());
  highest_end_ = highest_end_ ? std::max(*highest_end_, end) : end;
  Buffered b;
  b.position = position;
  b.seq = seq;
  b.generation = src_->generation;
  b.arrival = in.arrival;
  b.samples.assign(in.samples.begin(), in.samples.end());
  packets_.insert_or_assign(std::make_tuple(position, b.generation, seq), std::move(b));
  return outcome;
}

PushOutcome JitterBuffer::Push(const JitterInput& in) {
  ++stats_.received;
  if (in.samples.size() > max_packet_samples_) {
    ++stats_.discarded;
    return PushOutcome::kTooLarge;
  }
  if (!origin_) origin_ = config_.origin.value_or(in.arrival);
  const int64_t now_pos = SamplesAt(in.arrival);
  const bool audio = in.audio && !in.samples.empty();

  if (!src_) {
    StartSource(in, now_pos, now_pos);
    return Insert(in, now_pos, src_->max_seq, PushOutcome::kAccepted);
  }
  if (in.ssrc != src_->ssrc) {
    // Packets of the old source still in flight must not flip the stream back.
    if (prev_ssrc_ == in.ssrc && !AtLeast(in.arrival, switched_at_, config_.max_depth)) {
      ++stats_.discarded;
      return PushOutcome::kStale;
    }
    ++stats_.ssrc_changes;
    prev_ssrc_ = src_->ssrc;
    switched_at_ = in.arrival;
    const int64_t pos = CurrentPosition(now_pos);
    StartSource(in, pos, now_pos);
    return Insert(in, pos, src_->max_seq, PushOutcome::kNewSource);
  }

  Source& s = *src_;
  const int32_t dseq = static_cast<int16_t>(static_cast<uint16_t>(in.sequence - static_cast<uint16_t>(s.max_seq)));
  if (dseq > kMaxDropout || dseq < -kMaxMisorder) {
    // A sender restart shows as two consecutive packets after the jump (RFC 3550 A.1).
    if (s.probation == in.sequence) {
      ++stats_.resyncs;
      const int64_t pos = CurrentPosition(now_pos);
      StartSource(in, pos, now_pos);
      return Insert(in, pos, src_->max_seq, PushOutcome::kResync);
    }
    s.probation = static_cast<uint16_t>(in.sequence + 1);
    ++stats_.discarded;
    return PushOutcome::kBadSequence;
  }
  s.probation.reset();
  const int64_t seq = s.max_seq + dseq;
  if (Seen(seq)) {
    ++stats_.duplicates;
    return PushOutcome::kDuplicate;
  }
  if (!audio) {
    if (dseq > 0) s.max_seq = seq;
    return Insert(in, 0, seq, PushOutcome::kAccepted);
  }

  const int32_t dts = static_cast<int32_t>(in.timestamp - static_cast<uint32_t>(s.max_ts));
  const int64_t ext_ts = s.max_ts + dts;
  const int64_t pos = Clamp(static_cast<__int128>(s.pos_base) + (ext_ts - s.ts_base));
  const int64_t end = pos + static_cast<int64_t>(in.samples.size());
  const bool ahead = static_cast<__int128>(pos) - s.lead - now_pos > resync_samples_;
  const bool played = play_ && end <= *play_;
  if (dseq > 0 && (ahead || played)) {
    // A newer packet far in the future, or behind what is already played: the
    // sender's timestamps jumped. Continue at the current position instead.
    ++stats_.resyncs;
    const int64_t at = CurrentPosition(now_pos);
    StartSource(in, at, now_pos);
    return Insert(in, at, src_->max_seq, PushOutcome::kResync);
  }
  if (ahead) {
    ++stats_.discarded;
    return PushOutcome::kBadTimestamp;
  }
  if (played) {
    ++stats_.late;
    return PushOutcome::kLate;
  }
  PushOutcome outcome = PushOutcome::kAccepted;
  if (dseq > 0) {
    s.max_seq = seq;
    s.max_ts = ext_ts;
  } else {
    ++stats_.reordered;
    outcome = PushOutcome::kReordered;
  }
  const int64_t offset = Clamp(static_cast<__int128>(pos) - now_pos);
  s.lead = std::max(s.lead, offset);
  PushOutcome result = Insert(in, pos, seq, outcome);
  if (play_) TrackDrift(s, in.arrival, offset);
  return result;
}

void JitterBuffer::TrackDrift(Source& s, Nanos arrival, int64_t offset) {
  if (config_.drift_window.count() <= 0 || drift_tolerance_samples_ <= 0) return;
  if (!s.window_start) {
    s.window_start = arrival;
    s.window_lead = offset;
    return;
  }
  s.window_lead = std::max(s.window_lead, offset);
  if (!AtLeast(arrival, *s.window_start, config_.drift_window)) return;
  // Even the best packet of the window arrived this much later than the reference.
  const int64_t behind = s.lead - s.window_lead;
  if (behind > drift_tolerance_samples_) {
    s.pos_base += behind;  // later packets land further on: the gap plays as silence
    ++stats_.drift_slips;
  }
  s.window_start.reset();
}

bool JitterBuffer::Contiguous(const Buffered& b) const {
  if (!last_ || last_->generation != b.generation) return false;
  if (b.seq <= last_->seq + 1) return true;
  if (b.seq - last_->seq > static_cast<int64_t>(kRing)) return false;
  // Sequence numbers in between that carried no audio (events) do not count as missing.
  for (int64_t s = last_->seq + 1; s < b.seq; ++s) {
    const Slot& slot = ring_[static_cast<uint64_t>(s) % kRing];
    if (slot.seq != s || slot.audio) return false;
  }
  return true;
}

uint64_t JitterBuffer::Missing(const Buffered& b) const {
  if (!last_ || last_->generation != b.generation || b.seq <= last_->seq + 1) return 0;
  const int64_t span = b.seq - last_->seq - 1;
  if (span > static_cast<int64_t>(kRing)) return static_cast<uint64_t>(span);
  uint64_t missing = 0;
  for (int64_t s = last_->seq + 1; s < b.seq; ++s) {
    if (!Seen(s)) ++missing;
  }
  return missing;
}

void JitterBuffer::Rebase(int64_t delta) {
  src_->pos_base -= delta;
  src_->lead -= delta;
  *highest_end_ -= delta;
  decltype(packets_) shifted;
  for (auto& [key, b] : packets_) {
    b.position -= delta;
    shifted.emplace(std::make_tuple(b.position, b.generation, b.seq), std::move(b));
  }
  packets_ = std::move(shifted);
}

void JitterBuffer::Release(Nanos now, bool flush, JitterSink& sink) {
  // Before anything is played, anchor on the least-delayed packet seen so far
  // rather than on the first one: if that was held up in the network, the
  // stream would otherwise sit late on the session timeline for good.
  // Never before position 0: a stream starting right at the origin would
  // otherwise land a few samples before the session began and lose them.
  if (!play_ && src_ && src_->lead > 0 && !packets_.empty()) {
    const int64_t delta = std::min(src_->lead, std::max<int64_t>(0, packets_.begin()->second.position));
    if (delta > 0) Rebase(delta);
  }
  while (!packets_.empty()) {
    auto it = packets_.begin();
    Buffered& b = it->second;
    const int64_t start = play_.value_or(b.position);
    const bool contiguous = Contiguous(b);
    const bool ready = flush || contiguous || AtLeast(now, b.arrival, config_.max_depth) ||
                       *highest_end_ - start > depth_samples_ || packets_.size() > config_.max_packets;
    if (!ready) break;

    if (b.position > start) {
      const int64_t count = b.position - start;
      // Missing packets of the same source are loss; a timestamp jump with
      // nothing missing is silence suppression or a source switch.
      const bool lost = !contiguous && last_ && last_->generation == b.generation;
      (lost ? stats_.lost_samples : stats_.silence_samples) += static_cast<uint64_t>(count);
      sink.OnGap(start, count, lost);
    }
    if (!contiguous) stats_.lost_packets += Missing(b);
    const int64_t n = static_cast<int64_t>(b.samples.size());
    const int64_t skip = std::max<int64_t>(0, start - b.position);  // overlap already played
    if (skip < n) {
      std::span<const int16_t> s(b.samples);
      sink.OnSamples(b.position + skip, s.subspan(static_cast<size_t>(skip)));
      stats_.played_samples += static_cast<uint64_t>(n - skip);
    }
    play_ = std::max(start, b.position + n);
    if (!last_ || last_->generation != b.generation || b.seq > last_->seq) last_ = Played{b.generation, b.seq};
    packets_.erase(it);
  }
}

void JitterBuffer::Pull(Nanos now, JitterSink& sink) { Release(now, false, sink); }

void JitterBuffer::Flush(JitterSink& sink) { Release(Nanos{0}, true, sink); }

void CollectingSink::OnSamples(int64_t position, std::span<const int16_t> s) {
  if (!start) start = position;
  samples.insert(samples.end(), s.begin(), s.end());
}

void CollectingSink::OnGap(int64_t position, int64_t count, bool lost) {
  gaps.push_back(Gap{position, count, lost});
  if (!start) start = position;
  samples.resize(samples.size() + static_cast<size_t>(std::clamp<int64_t>(count, 0, max_gap_materialized)), 0);
}

}  // namespace verbatim::media::rtp
