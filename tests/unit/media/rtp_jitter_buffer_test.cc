#include "media/rtp/jitter_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace verbatim::media::rtp {
namespace {

using std::chrono::milliseconds;

constexpr size_t kFrame = 160;  // 20 ms at 8 kHz

// Non-zero content that encodes its own stream position, so any misplacement shows.
int16_t ValueAt(int64_t pos) { return static_cast<int16_t>(1 + ((pos % 20000) + 20000) % 20000); }
std::vector<int16_t> Ramp(int64_t pos, size_t n) {
  std::vector<int16_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = ValueAt(pos + static_cast<int64_t>(i));
  return v;
}

struct Pkt {
  uint32_t ssrc = 0x1111;
  uint16_t seq = 0;
  uint32_t ts = 0;
  int64_t arrival_ms = 0;
  std::vector<int16_t> samples;
  bool audio = true;
};

// Packet k of a regular 20 ms stream: content Ramp(k * 160) so that the output
// at position p must equal ValueAt(p) when the stream starts at position 0.
Pkt Regular(int k, uint16_t seq0 = 1000, uint32_t ts0 = 50000, uint32_t ssrc = 0x1111) {
  Pkt p;
  p.ssrc = ssrc;
  p.seq = static_cast<uint16_t>(seq0 + k);
  p.ts = ts0 + static_cast<uint32_t>(k * kFrame);
  p.arrival_ms = k * 20;
  p.samples = Ramp(k * static_cast<int64_t>(kFrame), kFrame);
  return p;
}

class Harness {
 public:
  explicit Harness(JitterConfig config = {}) : jb(config) {}
  PushOutcome Push(const Pkt& p) {
    return jb.Push(JitterInput{p.ssrc, p.seq, p.ts, milliseconds(p.arrival_ms), p.samples, p.audio});
  }
  // Push, then pull at the packet's arrival time, as a receive loop would.
  PushOutcome PushPull(const Pkt& p) {
    PushOutcome o = Push(p);
    jb.Pull(milliseconds(p.arrival_ms), sink);
    return o;
  }
  void PullAt(int64_t ms) { jb.Pull(milliseconds(ms), sink); }
  void Flush() { jb.Flush(sink); }

  JitterBuffer jb;
  CollectingSink sink;
};

void ExpectRamp(const CollectingSink& s, int64_t from, int64_t to) {
  ASSERT_TRUE(s.start.has_value());
  for (int64_t p = from; p < to; ++p) {
    const size_t i = static_cast<size_t>(p - *s.start);
    ASSERT_LT(i, s.samples.size()) << p;
    ASSERT_EQ(s.samples[i], ValueAt(p)) << "position " << p;
  }
}

void ExpectSilence(const CollectingSink& s, int64_t from, int64_t to) {
  for (int64_t p = from; p < to; ++p) {
    const size_t i = static_cast<size_t>(p - *s.start);
    ASSERT_LT(i, s.samples.size()) << p;
    ASSERT_EQ(s.samples[i], 0) << "position " << p;
  }
}

TEST(JitterBuffer, InOrderStreamPlaysContiguouslyAfterTheStartupWait) {
  Harness h;
  for (int k = 0; k < 50; ++k) {
    EXPECT_EQ(h.PushPull(Regular(k)), PushOutcome::kAccepted);
    if (k < 10) {
      // The first packet waits max_depth for possibly reordered predecessors.
      EXPECT_FALSE(h.jb.play_position().has_value()) << k;
    } else {
      // From then on every contiguous packet is played the moment it arrives.
      EXPECT_EQ(h.jb.play_position(), (k + 1) * static_cast<int64_t>(kFrame)) << k;
    }
  }
  h.Flush();
  EXPECT_EQ(h.sink.start, 0);
  EXPECT_EQ(h.sink.samples.size(), 50 * kFrame);
  EXPECT_TRUE(h.sink.gaps.empty());
  ExpectRamp(h.sink, 0, 50 * kFrame);
  const JitterStats& st = h.jb.stats();
  EXPECT_EQ(st.received, 50u);
  EXPECT_EQ(st.lost_packets, 0u);
  EXPECT_EQ(st.played_samples, 50 * kFrame);
}

TEST(JitterBuffer, ReorderedPacketsAreRestored) {
  Harness h;
  std::vector<Pkt> ps;
  for (int k = 0; k < 40; ++k) ps.push_back(Regular(k));
  // Arrival times are physical (never before sending): packets are only delayed.
  ps[15].arrival_ms = ps[16].arrival_ms + 5;  // 16 arrives before 15
  for (int k = 30; k < 33; ++k) ps[k].arrival_ms = ps[33].arrival_ms + (k - 29);  // 30..32 after 33
  std::stable_sort(ps.begin(), ps.end(), [](const Pkt& a, const Pkt& b) { return a.arrival_ms < b.arrival_ms; });
  int reordered = 0;
  for (const Pkt& p : ps) reordered += h.PushPull(p) == PushOutcome::kReordered;
  h.Flush();
  EXPECT_EQ(reordered, 4);  // 15, then 30, 31, 32 arrive after 33
  EXPECT_EQ(h.jb.stats().reordered, 4u);
  EXPECT_EQ(h.jb.stats().lost_packets, 0u);
  EXPECT_TRUE(h.sink.gaps.empty());
  EXPECT_EQ(h.sink.samples.size(), 40 * kFrame);
  ExpectRamp(h.sink, 0, 40 * kFrame);
}

TEST(JitterBuffer, DuplicatesAreDroppedAndCounted) {
  Harness h;
  for (int k = 0; k < 20; ++k) {
    h.PushPull(Regular(k));
    if (k == 3) {
      EXPECT_EQ(h.Push(Regular(3)), PushOutcome::kDuplicate);  // still buffered
    }
  }
  Pkt again = Regular(12);
  again.arrival_ms = 400;
  EXPECT_EQ(h.Push(again), PushOutcome::kDuplicate);  // long played
  h.Flush();
  EXPECT_EQ(h.jb.stats().duplicates, 2u);
  EXPECT_EQ(h.sink.samples.size(), 20 * kFrame);
  ExpectRamp(h.sink, 0, 20 * kFrame);
}

TEST(JitterBuffer, LossBecomesSilenceOfExactlyTheMissingDuration) {
  Harness h;
  for (int k = 0; k < 30; ++k) {
    if (k == 5 || k == 6 || k == 20) continue;
    h.PushPull(Regular(k));
  }
  h.Flush();
  const JitterStats& st = h.jb.stats();
  EXPECT_EQ(st.lost_packets, 3u);
  EXPECT_EQ(st.lost_samples, 3 * kFrame);
  EXPECT_EQ(h.sink.samples.size(), 30 * kFrame);
  ExpectRamp(h.sink, 0, 5 * kFrame);
  ExpectSilence(h.sink, 5 * kFrame, 7 * kFrame);
  ExpectRamp(h.sink, 7 * kFrame, 20 * kFrame);
  ExpectSilence(h.sink, 20 * kFrame, 21 * kFrame);
  ExpectRamp(h.sink, 21 * kFrame, 30 * kFrame);
  ASSERT_EQ(h.sink.gaps.size(), 2u);
  EXPECT_EQ(h.sink.gaps[0].position, 5 * static_cast<int64_t>(kFrame));
  EXPECT_EQ(h.sink.gaps[0].count, 2 * static_cast<int64_t>(kFrame));
  EXPECT_TRUE(h.sink.gaps[0].lost);
}

TEST(JitterBuffer, GapLengthComesFromTimestampsNotPacketCounts) {
  // Packets of varying size (10, 30, 20 ms ...): losing one 30 ms packet is 240 samples.
  Harness h;
  const size_t sizes[] = {80, 240, 160, 80, 240, 160, 80, 240, 160, 80, 240, 160, 80, 240, 160};
  int64_t pos = 0;
  int64_t lost_at = -1, lost_len = 0;
  for (int k = 0; k < 15; ++k) {
    Pkt p;
    p.seq = static_cast<uint16_t>(k);
    p.ts = 7 + static_cast<uint32_t>(pos);
    p.arrival_ms = pos / 8;
    p.samples = Ramp(pos, sizes[k]);
    if (k == 7) {
      lost_at = pos;
      lost_len = static_cast<int64_t>(sizes[k]);
    } else {
      h.PushPull(p);
    }
    pos += static_cast<int64_t>(sizes[k]);
  }
  h.Flush();
  EXPECT_EQ(h.jb.stats().lost_samples, 240u);
  EXPECT_EQ(lost_len, 240);
  EXPECT_EQ(static_cast<int64_t>(h.sink.samples.size()), pos);
  ExpectRamp(h.sink, 0, lost_at);
  ExpectSilence(h.sink, lost_at, lost_at + lost_len);
  ExpectRamp(h.sink, lost_at + lost_len, pos);
}

TEST(JitterBuffer, A200msGapIsWaitedForThenDeclaredLost) {
  Harness h;
  for (int k = 0; k <= 14; ++k) {
    if (k != 12) h.PushPull(Regular(k));
  }
  EXPECT_EQ(h.jb.play_position(), 12 * static_cast<int64_t>(kFrame));  // 13, 14 wait for 12
  h.PullAt(13 * 20 + 199);
  EXPECT_EQ(h.jb.play_position(), 12 * static_cast<int64_t>(kFrame));
  h.PullAt(13 * 20 + 200);  // 13 has waited max_depth
  EXPECT_EQ(h.jb.play_position(), 15 * static_cast<int64_t>(kFrame));
  Pkt late = Regular(12);
  late.arrival_ms = 13 * 20 + 201;
  EXPECT_EQ(h.Push(late), PushOutcome::kLate);
  EXPECT_EQ(h.jb.stats().late, 1u);
  EXPECT_EQ(h.jb.stats().lost_packets, 1u);
  h.Flush();
  ExpectSilence(h.sink, 12 * kFrame, 13 * kFrame);
  ExpectRamp(h.sink, 13 * kFrame, 15 * kFrame);
}

TEST(JitterBuffer, DepthBoundPlaysOutWithoutWaitingForTime) {
  // With no Pull in between, holding more than max_depth of audio behind a hole
  // forces playout on the next Pull even if the clock has not moved.
  Harness h;
  for (int k = 0; k < 10; ++k) h.PushPull(Regular(k));
  h.PullAt(200);
  ASSERT_EQ(h.jb.play_position(), 10 * static_cast<int64_t>(kFrame));
  for (int k = 11; k <= 22; ++k) h.Push(Regular(k));  // 10 lost; 240 ms held
  h.PullAt(11 * 20);
  EXPECT_EQ(h.jb.play_position(), 23 * static_cast<int64_t>(kFrame));
  EXPECT_EQ(h.jb.stats().lost_packets, 1u);
}

TEST(JitterBuffer, SequenceNumbersWrapAt65535) {
  Harness h;
  std::vector<Pkt> ps;
  for (int k = 0; k < 30; ++k) ps.push_back(Regular(k, 65520));
  ps[15].arrival_ms = ps[16].arrival_ms + 5;  // 65535 is delayed: 0 arrives first
  std::swap(ps[15], ps[16]);
  ps.erase(ps.begin() + 20);  // seq 4 lost after the wrap
  for (const Pkt& p : ps) {
    EXPECT_NE(h.PushPull(p), PushOutcome::kBadSequence);
  }
  h.Flush();
  EXPECT_EQ(h.jb.stats().reordered, 1u);
  EXPECT_EQ(h.jb.stats().lost_packets, 1u);
  EXPECT_EQ(h.jb.stats().resyncs, 0u);
  EXPECT_EQ(h.sink.samples.size(), 30 * kFrame);
  ExpectRamp(h.sink, 0, 20 * kFrame);
  ExpectSilence(h.sink, 20 * kFrame, 21 * kFrame);
  ExpectRamp(h.sink, 21 * kFrame, 30 * kFrame);
}

TEST(JitterBuffer, TimestampsWrapAt2Pow32) {
  Harness h;
  const uint32_t ts0 = 0xFFFFFFFFu - 10 * kFrame + 1;  // wraps between packet 9 and 10
  std::vector<Pkt> ps;
  for (int k = 0; k < 30; ++k) ps.push_back(Regular(k, 1, ts0));
  ps[9].arrival_ms = ps[10].arrival_ms + 5;  // reordered across the wrap
  std::swap(ps[9], ps[10]);
  ps.erase(ps.begin() + 11);  // packet 11 (ts 160 after the wrap) lost
  for (const Pkt& p : ps) {
    const PushOutcome o = h.PushPull(p);
    EXPECT_TRUE(o == PushOutcome::kAccepted || o == PushOutcome::kReordered) << ToString(o);
  }
  h.Flush();
  EXPECT_EQ(h.jb.stats().resyncs, 0u);
  EXPECT_EQ(h.sink.samples.size(), 30 * kFrame);
  ExpectRamp(h.sink, 0, 11 * kFrame);
  ExpectSilence(h.sink, 11 * kFrame, 12 * kFrame);
  ExpectRamp(h.sink, 12 * kFrame, 30 * kFrame);
}

TEST(JitterBuffer, SilenceSuppressionGapIsPlayedAtOnceAndNotCountedAsLoss) {
  Harness h;
  for (int k = 0; k < 20; ++k) h.PushPull(Regular(k));
  // One second of DTX: sequence continues, timestamp and arrival jump by 1 s.
  Pkt p = Regular(20 + 50);
  p.seq = static_cast<uint16_t>(1000 + 20);
  h.PushPull(p);
  EXPECT_EQ(h.jb.play_position(), 71 * static_cast<int64_t>(kFrame));  // no waiting
  h.Flush();
  EXPECT_EQ(h.jb.stats().lost_packets, 0u);
  EXPECT_EQ(h.jb.stats().lost_samples, 0u);
  EXPECT_EQ(h.jb.stats().silence_samples, 50 * kFrame);
  ASSERT_EQ(h.sink.gaps.size(), 1u);
  EXPECT_FALSE(h.sink.gaps[0].lost);
  ExpectSilence(h.sink, 20 * kFrame, 70 * kFrame);
  ExpectRamp(h.sink, 70 * kFrame, 71 * kFrame);
}

TEST(JitterBuffer, TelephoneEventsKeepTheSequenceButNeverBecomeAudio) {
  Harness h;
  for (int k = 0; k < 15; ++k) h.PushPull(Regular(k));
  // Events take seq 1015..1019 while the sender sends no audio for 100 ms.
  for (int e = 0; e < 5; ++e) {
    Pkt ev;
    ev.seq = static_cast<uint16_t>(1015 + e);
    ev.ts = 50000 + 15 * kFrame;  // RFC 4733: the event's start, repeated
    ev.arrival_ms = (15 + e) * 20;
    ev.samples = {};
    ev.audio = false;
    EXPECT_EQ(h.PushPull(ev), PushOutcome::kNonAudio);
  }
  Pkt p = Regular(20);
  p.seq = 1020;
  h.PushPull(p);
  EXPECT_EQ(h.jb.play_position(), 21 * static_cast<int64_t>(kFrame));  // contiguous: no wait
  h.Flush();
  EXPECT_EQ(h.jb.stats().non_audio, 5u);
  EXPECT_EQ(h.jb.stats().lost_packets, 0u);
  ExpectSilence(h.sink, 15 * kFrame, 20 * kFrame);
  ExpectRamp(h.sink, 20 * kFrame, 21 * kFrame);
}

TEST(JitterBuffer, SsrcChangeContinuesAtTheCurrentPosition) {
  Harness h;
  for (int k = 0; k < 20; ++k) h.PushPull(Regular(k));
  // A new source with unrelated seq/ts starts right after, then one after a 1 s pause.
  for (int k = 20; k < 40; ++k) {
    Pkt p = Regular(k, 777, 0x12345678, 0x2222);
    EXPECT_EQ(h.PushPull(p), k == 20 ? PushOutcome::kNewSource : PushOutcome::kAccepted) << k;
  }
  for (int k = 90; k < 100; ++k) {
    Pkt p = Regular(k, 40000, 99, 0x3333);
    h.PushPull(p);
  }
  h.Flush();
  const JitterStats& st = h.jb.stats();
  EXPECT_EQ(st.ssrc_changes, 2u);
  EXPECT_EQ(st.lost_packets, 0u);
  EXPECT_EQ(st.lost_samples, 0u);
  ExpectRamp(h.sink, 0, 40 * kFrame);  // seamless switch
  ExpectSilence(h.sink, 40 * kFrame, 90 * kFrame);  // the real-time pause, as silence
  ExpectRamp(h.sink, 90 * kFrame, 100 * kFrame);
  EXPECT_EQ(st.silence_samples, 50 * kFrame);
}

TEST(JitterBuffer, StragglersOfThePreviousSourceAreDropped) {
  Harness h;
  for (int k = 0; k < 20; ++k) h.PushPull(Regular(k));
  h.PushPull(Regular(20, 5, 5, 0x2222));
  Pkt straggler = Regular(21);
  EXPECT_EQ(h.PushPull(straggler), PushOutcome::kStale);
  EXPECT_EQ(h.jb.stats().ssrc_changes, 1u);
  EXPECT_EQ(h.jb.stats().discarded, 1u);
  // Long after the switch the old SSRC is a genuine new source again.
  Pkt back = Regular(60);
  EXPECT_EQ(h.PushPull(back), PushOutcome::kNewSource);
}

TEST(JitterBuffer, TimestampJumpWithinOneSsrcReanchors) {
  Harness h;
  for (int k = 0; k < 20; ++k) h.PushPull(Regular(k));
  for (int k = 20; k < 30; ++k) {
    Pkt p = Regular(k);
    p.ts += 8000u * 3600;  // the sender's clock jumped an hour
    EXPECT_EQ(h.PushPull(p), k == 20 ? PushOutcome::kResync : PushOutcome::kAccepted);
  }
  for (int k = 30; k < 40; ++k) {
    Pkt p = Regular(k);
    p.ts -= 8000u * 60;  // and back a minute: behind what is already played
    EXPECT_EQ(h.PushPull(p), k == 30 ? PushOutcome::kResync : PushOutcome::kAccepted);
  }
  h.Flush();
  EXPECT_EQ(h.jb.stats().resyncs, 2u);
  EXPECT_EQ(h.sink.samples.size(), 40 * kFrame);
  ExpectRamp(h.sink, 0, 40 * kFrame);
}

TEST(JitterBuffer, BigSequenceJumpNeedsConfirmation) {
  Harness h;
  for (int k = 0; k < 20; ++k) h.PushPull(Regular(k));
  Pkt stray = Regular(20, static_cast<uint16_t>(1000 + 20000));
  EXPECT_EQ(h.PushPull(stray), PushOutcome::kBadSequence);
  EXPECT_EQ(h.PushPull(Regular(21)), PushOutcome::kAccepted);  // stream goes on; 20 is lost
  // A real restart: two consecutive packets after the jump.
  EXPECT_EQ(h.PushPull(Regular(22, 30000)), PushOutcome::kBadSequence);
  EXPECT_EQ(h.PushPull(Regular(23, 30000)), PushOutcome::kResync);
  EXPECT_EQ(h.PushPull(Regular(24, 30000)), PushOutcome::kAccepted);
  h.Flush();
  EXPECT_EQ(h.jb.stats().resyncs, 1u);
}

TEST(JitterBuffer, OriginPlacesTheFirstPacketOnTheSessionTimeline) {
  JitterConfig c;
  c.origin = milliseconds(-1000);  // session started 1 s before the first packet
  Harness h(c);
  for (int k = 0; k < 12; ++k) h.PushPull(Regular(k));
  h.Flush();
  EXPECT_EQ(h.sink.start, 8000);
}

TEST(JitterBuffer, StartupAnchorsOnTheLeastDelayedPacket) {
  JitterConfig c;
  c.origin = milliseconds(0);
  Harness h(c);
  // The first three packets were held up (50, 35, 20 ms); the rest arrive on time.
  const int64_t arrivals[] = {50, 55, 60};
  for (int k = 0; k < 20; ++k) {
    Pkt p = Regular(k);
    if (k < 3) p.arrival_ms = arrivals[k];
    h.PushPull(p);
  }
  h.Flush();
  EXPECT_EQ(h.sink.start, 0) << "not 400: packet 0 was sent at 0 ms, it only arrived at 50";
  ExpectRamp(h.sink, 0, 20 * kFrame);
}

TEST(JitterBuffer, ASlowSenderClockSlipsForwardInsteadOfFallingBehind) {
  JitterConfig c;
  c.origin = milliseconds(0);
  c.drift_window = std::chrono::seconds(2);  // short, so that two minutes show several slips
  JitterBuffer jb(c);
  CollectingSink sink;
  // The sender's clock runs 0.5 % slow: a 20 ms packet every 20.1 ms of real time.
  int64_t arrival_us = 0;
  for (int k = 0; k < 6000; ++k) {
    arrival_us = k * 20100;
    const Pkt p = Regular(k);
    const auto at = std::chrono::microseconds(arrival_us);
    jb.Push(JitterInput{p.ssrc, p.seq, p.ts, at, p.samples});
    jb.Pull(at, sink);
  }
  // Uncorrected, the stream would end 600 ms behind real time.
  const int64_t real_end = arrival_us * 8 / 1000 + static_cast<int64_t>(kFrame);
  EXPECT_LE(real_end - *jb.play_position(), 200 * 8);
  EXPECT_GE(jb.stats().drift_slips, 3u);
  EXPECT_EQ(jb.stats().lost_packets, 0u);
  EXPECT_EQ(jb.stats().played_samples, 6000 * kFrame) << "a slip inserts silence, it drops nothing";
  EXPECT_GT(jb.stats().silence_samples, 400u * 8);
}

TEST(JitterBuffer, AFastSenderClockIsLeftAhead) {
  Harness h;
  for (int k = 0; k < 6000; ++k) {  // 0.5 % fast: every 19.9 ms
    Pkt p = Regular(k);
    h.Push(p);
    h.jb.Pull(std::chrono::microseconds(k * 19900), h.sink);
  }
  h.Flush();
  EXPECT_EQ(h.jb.stats().drift_slips, 0u);
  EXPECT_EQ(h.jb.stats().resyncs, 0u);
  EXPECT_EQ(h.sink.samples.size(), 6000 * kFrame);
  ExpectRamp(h.sink, 0, 6000 * kFrame);
}

TEST(JitterBuffer, OversizedPacketsAreRefused) {
  Harness h;
  Pkt p = Regular(0);
  p.samples.assign(4001, 1);
  EXPECT_EQ(h.Push(p), PushOutcome::kTooLarge);
  EXPECT_EQ(h.jb.buffered_packets(), 0u);
}

TEST(JitterBuffer, OutcomeStringsAreStable) {
  EXPECT_STREQ(ToString(PushOutcome::kAccepted), "accepted");
  EXPECT_STREQ(ToString(PushOutcome::kLate), "late");
  EXPECT_STREQ(ToString(PushOutcome::kNewSource), "new.source");
  EXPECT_STREQ(ToString(PushOutcome::kBadSequence), "bad.sequence");
}

TEST(JitterBuffer, RandomJitterLossAndDuplicationKeepsEverySampleInPlace) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 20; ++round) {
    Harness h;
    const int n = 500;
    std::vector<Pkt> ps;
    std::vector<bool> sent(n, false);
    for (int k = 0; k < n; ++k) {
      if (rng() % 20 == 0) continue;  // 5 % loss
      Pkt p = Regular(k, static_cast<uint16_t>(rng()), static_cast<uint32_t>(rng()));
      p.seq = static_cast<uint16_t>(65000 + k);  // crosses the wrap
      p.arrival_ms = k * 20 + static_cast<int64_t>(rng() % 120);  // up to 120 ms jitter
      ps.push_back(p);
      if (rng() % 30 == 0) {
        Pkt dup = p;
        dup.arrival_ms += rng() % 100;
        ps.push_back(dup);
      }
      sent[k] = true;
    }
    // Fix the timestamp base once: Regular() above drew random ts per packet.
    for (Pkt& p : ps) p.ts = 1000 + static_cast<uint32_t>((p.seq - 65000) & 0xFFFF) * kFrame;
    std::stable_sort(ps.begin(), ps.end(), [](const Pkt& a, const Pkt& b) { return a.arrival_ms < b.arrival_ms; });
    for (const Pkt& p : ps) h.PushPull(p);
    h.Flush();
    const JitterStats& st = h.jb.stats();
    EXPECT_EQ(st.late, 0u) << "jitter below max_depth never makes a packet late";
    EXPECT_EQ(st.resyncs + st.ssrc_changes + st.discarded, 0u);
    // The stream is anchored on its least-delayed early packet: recover that
    // shift from the first sample played (packet k0 starts with ValueAt(k0 * 160)).
    ASSERT_TRUE(h.sink.start.has_value());
    const int64_t k0_pos = h.sink.samples[0] - 1;  // k0 < 125, so no modulo ambiguity
    const int64_t shift = k0_pos - *h.sink.start;
    EXPECT_LE(std::abs(shift - (static_cast<int64_t>(ps.front().ts) - 1000)), 120 * 8);
    for (int k = 0; k < n; ++k) {
      const int64_t pos = k * static_cast<int64_t>(kFrame) - shift;
      const int64_t i = pos - *h.sink.start;
      if (i < 0 || i + static_cast<int64_t>(kFrame) > static_cast<int64_t>(h.sink.samples.size())) continue;
      for (size_t j = 0; j < kFrame; ++j) {
        const int16_t want = sent[k] ? ValueAt(k * static_cast<int64_t>(kFrame) + static_cast<int64_t>(j)) : 0;
        ASSERT_EQ(h.sink.samples[static_cast<size_t>(i) + j], want) << "round " << round << " packet " << k;
      }
    }
  }
}

}  // namespace
}  // namespace verbatim::media::rtp
