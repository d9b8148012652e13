#include "media/recorder/segment_recorder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "media/codec/decoder.h"
#include "media/codec/g711.h"
#include "media/rtp/jitter_buffer.h"
#include "media/rtp/packet.h"
#include "media/wav/wav_reader.h"
#include "unit/media/audio_test_util.h"

namespace verbatim::media::recorder {
namespace {

namespace fs = std::filesystem;
using media::testing::Deinterleave;
using media::testing::HasTone;
using media::testing::IsDigitalSilence;
using media::testing::Sine;
using media::testing::TempDir;
using S = RecordingState;

constexpr uint32_t kRate = 8000;
constexpr int64_t kChunk = 160;  // 20 ms

std::vector<int16_t> Tone(double hz, int64_t position, int64_t n) {
  return Sine(hz, kRate, static_cast<size_t>(n), 8000.0, position);
}

class RecorderTest : public ::testing::Test {
 protected:
  std::unique_ptr<SegmentRecorder> Make(PauseBehavior pause = PauseBehavior::kSilence, bool defer_finalize = false) {
    RecorderConfig c;
    c.root = dir_.path();
    c.conversation_id = "conv-1";
    c.sample_rate = kRate;
    c.pause_behavior = pause;
    c.defer_finalize = defer_finalize;
    auto r = SegmentRecorder::Create(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  // Both channels deliver [from, to) in 20 ms chunks, as two RTP streams would;
  // `hook(position)` runs before each chunk (to change state at exact positions).
  void Feed(SegmentRecorder& r, int64_t from, int64_t to, const std::function<void(int64_t)>& hook = {}) {
    for (int64_t p = from; p < to; p += kChunk) {
      if (hook) hook(p);
      ASSERT_TRUE(r.PushSamples(0, p, Tone(440, p, kChunk)).ok());
      ASSERT_TRUE(r.PushSamples(1, p, Tone(880, p, kChunk)).ok());
      ASSERT_TRUE(r.AdvanceTo(p + kChunk).ok());
    }
  }

  media::wav::Pcm16 Read(int segment) {
    auto pcm = media::wav::ReadPcm16(dir_.path() / "conv-1" / ("segment-" + std::to_string(segment) + ".wav"));
    EXPECT_TRUE(pcm.ok()) << pcm.status().ToString();
    return pcm.ok() ? *pcm : media::wav::Pcm16{};
  }

  TempDir dir_;
};

// Checks one channel block by block (20 ms): a tone where expected, exact zeros elsewhere.
void ExpectBlocks(const std::vector<int16_t>& ch, double hz, int64_t silent_from, int64_t silent_to) {
  for (int64_t b = 0; b + kChunk <= static_cast<int64_t>(ch.size()); b += kChunk) {
    std::span<const int16_t> block(ch.data() + b, kChunk);
    if (b >= silent_from && b + kChunk <= silent_to) {
      EXPECT_TRUE(IsDigitalSilence(block)) << hz << " Hz block at " << b;
    } else if (b + kChunk <= silent_from || b >= silent_to) {
      EXPECT_TRUE(HasTone(block, hz, kRate)) << hz << " Hz block at " << b;
    }
  }
}

TEST_F(RecorderTest, TwoChannelsAreWrittenAlignedSampleForSample) {
  auto r = Make();
  EXPECT_EQ(r->AddChannel("agent"), 0u);
  EXPECT_EQ(r->AddChannel("customer"), 1u);
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  Feed(*r, 0, 16000);
  EXPECT_EQ(r->current_path(), dir_.path() / "conv-1" / "segment-1.wav");
  EXPECT_EQ(r->current_frames(), 16000u);
  EXPECT_DOUBLE_EQ(r->current_duration_seconds(), 2.0);
  ASSERT_TRUE(r->Finish().ok());
  auto pcm = Read(1);
  EXPECT_EQ(pcm.info.channels, 2);
  EXPECT_EQ(pcm.info.frames(), 16000u);
  EXPECT_EQ(Deinterleave(pcm.samples, 2, 0), Tone(440, 0, 16000));
  EXPECT_EQ(Deinterleave(pcm.samples, 2, 1), Tone(880, 0, 16000));
  ExpectBlocks(Deinterleave(pcm.samples, 2, 0), 440, 0, 0);
  ExpectBlocks(Deinterleave(pcm.samples, 2, 1), 880, 0, 0);
  EXPECT_EQ(r->Stats().frames_written, 16000u);
  EXPECT_EQ(r->Stats().channels[1].label, "customer");
}

TEST_F(RecorderTest, PauseWritesExactDigitalSilenceInBothChannels) {
  auto r = Make();
  r->AddChannel("a");
  r->AddChannel("b");
  // Transitions queued ahead of the audio apply at their exact positions.
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  ASSERT_TRUE(r->SetState(S::kPaused, 8000 + 37).ok());
  ASSERT_TRUE(r->SetState(S::kActive, 16000 + 11).ok());
  ASSERT_TRUE(r->SetState(S::kStopped, 24000).ok());
  Feed(*r, 0, 32000);
  EXPECT_FALSE(r->current_path().has_value());
  auto pcm = Read(1);
  ASSERT_EQ(pcm.info.frames(), 24000u);
  for (size_t c = 0; c < 2; ++c) {
    const double hz = c == 0 ? 440 : 880;
    const auto ch = Deinterleave(pcm.samples, 2, c);
    const auto tone = Tone(hz, 0, 24000);
    for (int64_t i = 0; i < 24000; ++i) {
      const bool paused = i >= 8037 && i < 16011;
      ASSERT_EQ(ch[static_cast<size_t>(i)], paused ? 0 : tone[static_cast<size_t>(i)]) << "channel " << c << " frame " << i;
    }
    ExpectBlocks(ch, hz, 8037, 16011);
  }
  EXPECT_EQ(r->Stats().silence_frames, 16011u - 8037u);
  EXPECT_EQ(r->Stats().frames_written, 24000u);
  ASSERT_EQ(r->Stats().segments.size(), 1u);
  EXPECT_TRUE(r->Stats().segments[0].closed);
}

TEST_F(RecorderTest, PauseRequestedWhileAChannelLagsStillLandsOnItsPosition) {
  auto r = Make();
  r->AddChannel("a");
  r->AddChannel("b");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  // Channel a joined 300 ms late and runs 300 ms ahead of b, so the write position follows b.
  for (int64_t p = 0; p < 16000; p += kChunk) {
    if (p == 8000) {
      EXPECT_EQ(r->write_position(), 8000);
      ASSERT_TRUE(r->SetState(S::kPaused, 9600).ok());  // "now" for channel a
    }
    ASSERT_TRUE(r->PushSamples(0, p + 2400, Tone(440, p + 2400, kChunk)).ok());
    ASSERT_TRUE(r->PushSamples(1, p, Tone(880, p, kChunk)).ok());
  }
  ASSERT_TRUE(r->Finish().ok());  // writes up to a's end (18400), b missing → silence
  auto pcm = Read(1);
  ASSERT_EQ(pcm.info.frames(), 18400u);
  const auto b = Deinterleave(pcm.samples, 2, 1);
  EXPECT_EQ(std::vector<int16_t>(b.begin(), b.begin() + 9600), Tone(880, 0, 9600));
  EXPECT_TRUE(IsDigitalSilence(std::span(b).subspan(9600)));
  const auto a = Deinterleave(pcm.samples, 2, 0);
  EXPECT_TRUE(IsDigitalSilence(std::span(a).first(2400)));
  EXPECT_EQ(std::vector<int16_t>(a.begin() + 2400, a.begin() + 9600), Tone(440, 2400, 7200));
  EXPECT_TRUE(IsDigitalSilence(std::span(a).subspan(9600)));
  EXPECT_EQ(r->Stats().channels[0].gap_samples, 2400u);  // a's late join
  EXPECT_EQ(r->Stats().channels[0].late_samples, 0u);
}

TEST_F(RecorderTest, SkipModeShortensTheFileByThePausedDuration) {
  auto r = Make(PauseBehavior::kSkip);
  r->AddChannel("a");
  r->AddChannel("b");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  Feed(*r, 0, 24000, [&](int64_t p) {
    if (p == 8000) {
      ASSERT_TRUE(r->SetState(S::kPaused, p).ok());
    }
    if (p == 16000) {
      ASSERT_TRUE(r->SetState(S::kActive, p).ok());
    }
  });
  ASSERT_TRUE(r->Finish().ok());
  auto pcm = Read(1);
  ASSERT_EQ(pcm.info.frames(), 16000u);
  const auto a = Deinterleave(pcm.samples, 2, 0);
  EXPECT_EQ(std::vector<int16_t>(a.begin(), a.begin() + 8000), Tone(440, 0, 8000));
  EXPECT_EQ(std::vector<int16_t>(a.begin() + 8000, a.end()), Tone(440, 16000, 8000));
  EXPECT_EQ(r->Stats().skipped_frames, 8000u);
  EXPECT_EQ(r->Stats().silence_frames, 0u);
}

TEST_F(RecorderTest, StartAfterStopOpensTheNextSegment) {
  auto r = Make();
  r->AddChannel("a");
  r->AddChannel("b");
  Feed(*r, 0, 24000, [&](int64_t p) {
    if (p == 0) {
      ASSERT_TRUE(r->SetState(S::kActive, p).ok());
    }
    if (p == 8000) {
      ASSERT_TRUE(r->SetState(S::kStopped, p).ok());
    }
    if (p == 12000) {
      ASSERT_TRUE(r->SetState(S::kActive, p).ok());
    }
    if (p == 12000 + kChunk) {
      EXPECT_EQ(r->current_path(), dir_.path() / "conv-1" / "segment-2.wav");
    }
    if (p == 20000) {
      ASSERT_TRUE(r->SetState(S::kStopped, p).ok());
    }
  });
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_TRUE(fs::exists(dir_.path() / "conv-1" / "segment-1.wav"));
  EXPECT_TRUE(fs::exists(dir_.path() / "conv-1" / "segment-2.wav"));
  EXPECT_FALSE(fs::exists(dir_.path() / "conv-1" / "segment-3.wav"));
  auto s1 = Read(1), s2 = Read(2);
  EXPECT_EQ(s1.info.frames(), 8000u);
  ASSERT_EQ(s2.info.frames(), 8000u);
  EXPECT_EQ(Deinterleave(s2.samples, 2, 1), Tone(880, 12000, 8000));
  const auto& segs = r->Stats().segments;
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[1].index, 2);
  EXPECT_EQ(segs[1].start_position, 12000);
  EXPECT_EQ(segs[1].frames, 8000u);
}

TEST_F(RecorderTest, ExistingSegmentFilesAreNeverOverwritten) {
  fs::create_directories(dir_.path() / "conv-1");
  std::ofstream(dir_.path() / "conv-1" / "segment-1.wav") << "from an earlier run";
  auto r = Make();
  r->AddChannel("a");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  EXPECT_EQ(r->current_path(), dir_.path() / "conv-1" / "segment-2.wav");
}

TEST_F(RecorderTest, RecordingsArePrivateWhateverTheUmask) {
  const mode_t old = ::umask(0);  // the loosest umask: the modes come from the recorder itself
  auto r = Make();
  r->AddChannel("a");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  ::umask(old);
  auto mode = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode(dir_.path() / "conv-1"), 0700u);
  EXPECT_EQ(mode(dir_.path() / "conv-1" / "segment-1.wav.part"), 0600u);
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_EQ(mode(dir_.path() / "conv-1" / "segment-1.wav"), 0600u) << "rename keeps the mode";
}

TEST_F(RecorderTest, LossOnOneChannelIsSilenceThereWhileTheOtherKeepsItsTone) {
  auto r = Make();
  r->AddChannel("a");
  r->AddChannel("b");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  for (int64_t p = 0; p < 16000; p += kChunk) {
    ASSERT_TRUE(r->PushSamples(0, p, Tone(440, p, kChunk)).ok());
    if (p < 4000 || p >= 6080) {
      ASSERT_TRUE(r->PushSamples(1, p, Tone(880, p, kChunk)).ok());
    }
    ASSERT_TRUE(r->AdvanceTo(p + kChunk).ok());
  }
  ASSERT_TRUE(r->Finish().ok());
  auto pcm = Read(1);
  ASSERT_EQ(pcm.info.frames(), 16000u);
  ExpectBlocks(Deinterleave(pcm.samples, 2, 0), 440, 0, 0);
  ExpectBlocks(Deinterleave(pcm.samples, 2, 1), 880, 4000, 6080);
  const auto b = Deinterleave(pcm.samples, 2, 1);
  EXPECT_TRUE(IsDigitalSilence(std::span(b).subspan(4000, 2080)));
  EXPECT_EQ(r->Stats().channels[0].gap_samples, 0u);
  EXPECT_EQ(r->Stats().channels[1].gap_samples, 2080u);
}

TEST_F(RecorderTest, ASilentChannelDoesNotStallTheOthersBeyondMaxLag) {
  auto r = Make();
  r->AddChannel("a");
  r->AddChannel("b");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  for (int64_t p = 0; p < 24000; p += kChunk) {
    ASSERT_TRUE(r->PushSamples(0, p, Tone(440, p, kChunk)).ok());
    if (p < 8000) {
      ASSERT_TRUE(r->PushSamples(1, p, Tone(880, p, kChunk)).ok());
    }
    ASSERT_TRUE(r->AdvanceTo(p + kChunk).ok());
    // b went silent at 8000: writing trails real time by at most max_lag (400 ms).
    EXPECT_GE(r->write_position(), p + kChunk - 3200);
  }
  EXPECT_EQ(r->write_position(), 24000 - 3200);
  // b's audio for already-written positions is late; it cannot rewrite the file.
  ASSERT_TRUE(r->PushSamples(1, 8000, Tone(880, 8000, 1000)).ok());
  EXPECT_EQ(r->Stats().channels[1].late_samples, 1000u);
  ASSERT_TRUE(r->CloseChannel(1).ok());
  EXPECT_EQ(r->write_position(), 24000) << "a closed channel no longer holds the others";
  ASSERT_TRUE(r->Finish().ok());
  auto pcm = Read(1);
  ASSERT_EQ(pcm.info.frames(), 24000u);
  ExpectBlocks(Deinterleave(pcm.samples, 2, 0), 440, 0, 0);
  ExpectBlocks(Deinterleave(pcm.samples, 2, 1), 880, 8000, 24000);
}

// With defer_finalize, stopping never syncs or renames on the recorder's
// thread: the closed segment is a valid .part holding all of its audio (what a
// kill -9 would leave) until the caller Close()s the writer it took.
TEST_F(RecorderTest, DeferredFinalizeLeavesAValidPartForTheCallerToClose) {
  auto r = Make(PauseBehavior::kSilence, /*defer_finalize=*/true);
  r->AddChannel("a");
  r->AddChannel("b");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  Feed(*r, 0, 8000 + 3 * kChunk);  // not a checkpoint boundary: some audio is still buffered
  ASSERT_TRUE(r->SetState(S::kStopped, r->write_position()).ok());
  ASSERT_TRUE(r->SetState(S::kActive, r->write_position()).ok());  // opens segment 2 meanwhile
  Feed(*r, 8000 + 3 * kChunk, 12000);
  ASSERT_EQ(r->Stats().segments.size(), 2u);
  EXPECT_TRUE(r->Stats().segments[0].closed);

  const fs::path wav1 = dir_.path() / "conv-1" / "segment-1.wav";
  const fs::path part1 = dir_.path() / "conv-1" / "segment-1.wav.part";
  auto unfinalized = r->TakeUnfinalized();
  ASSERT_EQ(unfinalized.size(), 1u);
  EXPECT_TRUE(r->TakeUnfinalized().empty()) << "handed over once";
  EXPECT_FALSE(fs::exists(wav1));
  auto part = media::wav::ReadPcm16(part1);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(part->info.frames(), 8000u + 3 * kChunk) << "the .part already describes all of the segment's audio";
  EXPECT_EQ(Deinterleave(part->samples, 2, 0), Tone(440, 0, 8000 + 3 * kChunk));

  ASSERT_TRUE(unfinalized[0]->Close().ok());
  EXPECT_TRUE(fs::exists(wav1));
  EXPECT_FALSE(fs::exists(part1));
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_EQ(r->TakeUnfinalized().size(), 1u) << "segment 2, closed by Finish()";
  EXPECT_EQ(Read(1).info.frames(), 8000u + 3 * kChunk);
}

TEST_F(RecorderTest, AChannelAddedMidSegmentJoinsTheNextOne) {
  auto r = Make();
  r->AddChannel("a");
  ASSERT_TRUE(r->SetState(S::kActive, 0).ok());
  for (int64_t p = 0; p < 4000; p += kChunk) ASSERT_TRUE(r->PushSamples(0, p, Tone(440, p, kChunk)).ok());
  const size_t b = r->AddChannel("b");
  for (int64_t p = 4000; p < 8000; p += kChunk) {
    ASSERT_TRUE(r->PushSamples(0, p, Tone(440, p, kChunk)).ok());
    ASSERT_TRUE(r->PushSamples(b, p, Tone(880, p, kChunk)).ok());
  }
  ASSERT_TRUE(r->SetState(S::kStopped, 8000).ok());
  ASSERT_TRUE(r->SetState(S::kActive, 8000).ok());
  Feed(*r, 8000, 9600);
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_EQ(Read(1).info.channels, 1);
  EXPECT_EQ(Read(2).info.channels, 2);
  EXPECT_EQ(Read(2).info.frames(), 1600u);
}

TEST_F(RecorderTest, RejectsUnsafeConfigurationAndBadChannels) {
  for (const char* id : {"", ".", "..", "a/b", "a\\b", "x y"}) {
    RecorderConfig c;
    c.root = dir_.path();
    c.conversation_id = id;
    EXPECT_EQ(SegmentRecorder::Create(c).status().code(), "recorder.bad.config") << id;
  }
  RecorderConfig c;
  c.root = dir_.path();
  c.conversation_id = "ok";
  c.sample_rate = 1000;
  EXPECT_EQ(SegmentRecorder::Create(c).status().code(), "recorder.bad.config");
  auto r = Make();
  const int16_t s[1] = {0};
  EXPECT_EQ(r->PushSamples(3, 0, s).code(), "recorder.bad.channel");
  EXPECT_EQ(ParsePauseBehavior("skip"), PauseBehavior::kSkip);
  EXPECT_EQ(ParsePauseBehavior("silence"), PauseBehavior::kSilence);
  EXPECT_FALSE(ParsePauseBehavior("mute").has_value());
  EXPECT_STREQ(ToString(PauseBehavior::kSkip), "skip");
}

// The whole path below signaling: RTP bytes → parse → G.711 decode → jitter
// buffer (reordering, duplicates, loss) → recorder → WAV, for two participants.
class ToRecorder final : public rtp::JitterSink {
 public:
  ToRecorder(SegmentRecorder& r, size_t ch) : r_(r), ch_(ch) {}
  void OnSamples(int64_t position, std::span<const int16_t> s) override { EXPECT_TRUE(r_.PushSamples(ch_, position, s).ok()); }
  void OnGap(int64_t, int64_t, bool) override {}  // the recorder fills holes with silence

 private:
  SegmentRecorder& r_;
  size_t ch_;
};

TEST_F(RecorderTest, RtpPipelineRecordsTwoPartiesAligned) {
  auto rec = Make();
  rec->AddChannel("agent");
  rec->AddChannel("customer");
  ASSERT_TRUE(rec->SetState(S::kActive, 0).ok());
  auto pcmu = codec::Decoder::Select(0, "PCMU", 8000).value();
  rtp::JitterConfig jc;
  jc.origin = std::chrono::nanoseconds(0);  // the session starts at t = 0
  rtp::JitterBuffer jb[2] = {rtp::JitterBuffer(jc), rtp::JitterBuffer(jc)};
  ToRecorder sinks[2] = {ToRecorder(*rec, 0), ToRecorder(*rec, 1)};
  const double hz[2] = {440, 880};
  std::vector<int16_t> decoded;

  struct Arrival {
    int64_t ms;
    int party;
    std::vector<std::byte> bytes;
  };
  std::vector<Arrival> wire;
  const int kPackets = 150;  // 3 s
  for (int k = 0; k < kPackets; ++k) {
    for (int party = 0; party < 2; ++party) {
      // The customer's stream starts 100 ms later and loses packets 50..59.
      if (party == 1 && k >= 50 && k < 60) continue;
      auto pcm = Tone(hz[party], k * kChunk, kChunk);
      std::vector<std::byte> payload(kChunk);
      codec::EncodeMulaw(pcm, payload);
      rtp::PacketSpec spec;
      spec.sequence = static_cast<uint16_t>(65500 + k);  // wraps mid-call
      spec.timestamp = static_cast<uint32_t>(1000 * party + k * kChunk);
      spec.ssrc = 0xA0 + party;
      spec.payload = payload;
      // Every even agent packet is delayed 30 ms (arrives after the next one);
      // every 7th customer packet is duplicated.
      const int64_t ms = k * 20 + 100 * party + (party == 0 && k % 2 == 0 ? 30 : 0);
      wire.push_back({ms, party, rtp::BuildPacket(spec)});
      if (party == 1 && k % 7 == 0) wire.push_back({ms + 5, party, rtp::BuildPacket(spec)});
    }
  }
  std::stable_sort(wire.begin(), wire.end(), [](const Arrival& a, const Arrival& b) { return a.ms < b.ms; });
  for (const Arrival& a : wire) {
    auto parsed = rtp::ParsePacket(a.bytes);
    ASSERT_TRUE(parsed.ok());
    decoded.clear();
    ASSERT_TRUE(pcmu.Decode(parsed->payload, decoded).ok());
    const auto now = std::chrono::milliseconds(a.ms);
    jb[a.party].Push({parsed->ssrc, parsed->sequence, parsed->timestamp, now, decoded});
    jb[a.party].Pull(now, sinks[a.party]);
    ASSERT_TRUE(rec->AdvanceTo(a.ms * 8).ok());  // the frame clock, in session samples
  }
  for (int party = 0; party < 2; ++party) jb[party].Flush(sinks[party]);
  ASSERT_TRUE(rec->Finish().ok());

  EXPECT_EQ(jb[0].stats().reordered, 75u);
  EXPECT_EQ(jb[1].stats().duplicates, 21u);
  EXPECT_EQ(jb[1].stats().lost_packets, 10u);
  auto wav = Read(1);
  const auto agent = Deinterleave(wav.samples, 2, 0);
  const auto customer = Deinterleave(wav.samples, 2, 1);
  // Agent from position 0, customer from 800 (its first packet arrived 100 ms later).
  ASSERT_EQ(agent.size(), 800u + 150u * kChunk);
  ExpectBlocks(std::vector<int16_t>(agent.begin(), agent.begin() + 150 * kChunk), 440, 0, 0);
  ExpectBlocks(std::vector<int16_t>(customer.begin() + 800, customer.end()), 880, 50 * kChunk, 60 * kChunk);
  EXPECT_TRUE(IsDigitalSilence(std::span(customer).first(800)));
}

}  // namespace
}  // namespace verbatim::media::recorder
