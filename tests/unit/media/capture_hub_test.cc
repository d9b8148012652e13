#include "media/capture/hub.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "media/codec/g711.h"
#include "media/wav/wav_reader.h"
#include "unit/media/audio_test_util.h"

namespace verbatim::media::capture {
namespace {

using testing::Deinterleave;
using testing::HasTone;
using testing::IsDigitalSilence;
using testing::Sine;
using testing::TempDir;
using std::chrono::milliseconds;

// Records what the hub asks of the rest of verbatim.
class FakeControl final : public ConversationControl {
 public:
  RecordingState initial_state = RecordingState::kActive;
  std::string pause_behavior = "silence";
  std::vector<std::string> detached;
  std::map<int, MediaFileInfo> files;
  int attach_calls = 0;

  Result<Attachment> Attach(const SessionSpec& spec) override {
    ++attach_calls;
    Attachment a;
    a.conversation_id = spec.conversation_id.value_or("c0ffee00-0000-4000-8000-000000000001");
    a.created = !spec.conversation_id.has_value();
    a.state = initial_state;
    a.current_segment = initial_state == RecordingState::kActive ? 1 : 0;
    a.next_segment = a.current_segment + 1;
    a.pause_behavior = pause_behavior;
    return a;
  }
  void Detach(const std::string& id, bool, const std::string&) override { detached.push_back(id); }
  Status RequestAction(const std::string&, RecordingAction, const std::string&) override { return Status::Ok(); }
  void MediaFileUpdated(const std::string&, const MediaFileInfo& f) override { files[f.segment] = f; }
};

struct Clock {
  Nanos now{std::chrono::seconds(1000)};
};

SessionSpec TwoParty() {
  SessionSpec s;
  s.source = "siprec";
  s.external_id = "call-1";
  s.participants = {{"", "Alice", "customer"}, {"", "Bob", "agent"}};
  return s;
}

// Pushes `ms` of 20 ms frames for both channels, advancing time like a live call.
void Stream(MediaHub& hub, RecordingSession& s, Clock& clock, int ms, uint32_t& ts, uint16_t& seq) {
  for (int t = 0; t < ms; t += 20) {
    auto a = Sine(440, 8000, 160, 8000, ts);
    auto b = Sine(880, 8000, 160, 8000, ts);
    s.PushPcm(0, seq, ts, a, clock.now);
    s.PushPcm(1, seq, ts, b, clock.now);
    ts += 160;
    ++seq;
    clock.now += milliseconds(20);
    hub.TickOnce();
  }
}

TEST(CaptureHub, RecordsTwoAlignedChannelsAndSilenceWhilePaused) {
  TempDir dir;
  FakeControl control;
  Clock clock;
  HubOptions opts;
  opts.media_root = dir.path();
  MediaHub hub(opts, control, [&] { return clock.now; });
  auto session = hub.Open(TwoParty());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  auto& s = **session;

  uint32_t ts = 0;
  uint16_t seq = 0;
  Stream(hub, s, clock, 1000, ts, seq);
  hub.OnRecordingChanged(s.conversation_id(), RecordingState::kPaused);
  Stream(hub, s, clock, 1000, ts, seq);
  hub.OnRecordingChanged(s.conversation_id(), RecordingState::kActive);
  Stream(hub, s, clock, 1000, ts, seq);
  hub.Close(*session, "bye");

  ASSERT_EQ(control.detached.size(), 1u);
  ASSERT_TRUE(control.files.count(1));
  EXPECT_TRUE(control.files[1].complete);
  auto pcm = wav::ReadPcm16(dir.path() / control.files[1].relative_path);
  ASSERT_TRUE(pcm.ok()) << pcm.status().ToString();
  ASSERT_EQ(pcm->info.channels, 2);
  auto left = Deinterleave(pcm->samples, 2, 0);
  auto right = Deinterleave(pcm->samples, 2, 1);
  EXPECT_NEAR(static_cast<double>(left.size()), 24000.0, 160.0);  // 3 s

  auto window = [](const std::vector<int16_t>& v, double from_s, double to_s) {
    return std::span<const int16_t>(v).subspan(static_cast<size_t>(from_s * 8000),
                                              static_cast<size_t>((to_s - from_s) * 8000));
  };
  EXPECT_TRUE(HasTone(window(left, 0.1, 0.9), 440, 8000));
  EXPECT_TRUE(HasTone(window(right, 0.1, 0.9), 880, 8000));
  EXPECT_TRUE(IsDigitalSilence(window(left, 1.05, 1.95)));
  EXPECT_TRUE(IsDigitalSilence(window(right, 1.05, 1.95)));
  EXPECT_TRUE(HasTone(window(left, 2.1, 2.9), 440, 8000));
  EXPECT_TRUE(HasTone(window(right, 2.1, 2.9), 880, 8000));
}

TEST(CaptureHub, LostPacketsOnOneChannelAreSilenceOnlyThere) {
  TempDir dir;
  FakeControl control;
  Clock clock;
  HubOptions opts;
  opts.media_root = dir.path();
  MediaHub hub(opts, control, [&] { return clock.now; });
  auto session = hub.Open(TwoParty());
  ASSERT_TRUE(session.ok());
  auto& s = **session;
  uint32_t ts = 0;
  for (uint16_t seq = 0; seq < 100; ++seq, ts += 160) {
    s.PushPcm(0, seq, ts, Sine(440, 8000, 160, 8000, ts), clock.now);
    if (seq < 40 || seq >= 60) s.PushPcm(1, seq, ts, Sine(880, 8000, 160, 8000, ts), clock.now);  // 400 ms lost
    clock.now += milliseconds(20);
    hub.TickOnce();
  }
  hub.Close(*session, "bye");
  auto pcm = wav::ReadPcm16(dir.path() / control.files[1].relative_path);
  ASSERT_TRUE(pcm.ok());
  auto left = Deinterleave(pcm->samples, 2, 0);
  auto right = Deinterleave(pcm->samples, 2, 1);
  std::span<const int16_t> lost(right.data() + 40 * 160, 20 * 160);
  EXPECT_TRUE(IsDigitalSilence(lost));
  EXPECT_TRUE(HasTone(std::span<const int16_t>(left.data() + 40 * 160, 20 * 160), 440, 8000));
  EXPECT_TRUE(HasTone(std::span<const int16_t>(right.data() + 60 * 160, 20 * 160), 880, 8000));
}

TEST(CaptureHub, StopThenStartOpensASecondSegmentFile) {
  TempDir dir;
  FakeControl control;
  Clock clock;
  HubOptions opts;
  opts.media_root = dir.path();
  MediaHub hub(opts, control, [&] { return clock.now; });
  auto session = hub.Open(TwoParty());
  ASSERT_TRUE(session.ok());
  uint32_t ts = 0;
  uint16_t seq = 0;
  Stream(hub, **session, clock, 500, ts, seq);
  hub.OnRecordingChanged((*session)->conversation_id(), RecordingState::kStopped);
  Stream(hub, **session, clock, 300, ts, seq);
  hub.OnRecordingChanged((*session)->conversation_id(), RecordingState::kActive);
  Stream(hub, **session, clock, 500, ts, seq);
  hub.Close(*session, "bye");
  ASSERT_TRUE(control.files.count(1));
  ASSERT_TRUE(control.files.count(2));
  EXPECT_TRUE(control.files[1].complete);
  EXPECT_TRUE(control.files[2].complete);
  EXPECT_EQ(control.files[2].relative_path, (*session)->conversation_id() + "/segment-2.wav");
  EXPECT_NEAR(static_cast<double>(control.files[1].frames), 4000.0, 160.0);
}

TEST(CaptureHub, RefusesASecondSessionForTheSameConversationAndBeyondCapacity) {
  TempDir dir;
  FakeControl control;
  Clock clock;
  HubOptions opts;
  opts.media_root = dir.path();
  opts.max_sessions = 1;
  MediaHub hub(opts, control, [&] { return clock.now; });
  SessionSpec spec = TwoParty();
  spec.conversation_id = "c0ffee00-0000-4000-8000-000000000009";
  auto first = hub.Open(spec);
  ASSERT_TRUE(first.ok());
  auto second = hub.Open(spec);
  EXPECT_EQ(second.status().code(), "media.capacity");
  HubOptions roomy = opts;
  roomy.max_sessions = 10;
  MediaHub hub2(roomy, control, [&] { return clock.now; });
  ASSERT_TRUE(hub2.Open(spec).ok());
  EXPECT_EQ(hub2.Open(spec).status().code(), "media.busy");
}

TEST(CaptureHub, RecoverPartialsReportsCrashLeftoversAsComplete) {
  TempDir dir;
  FakeControl control;
  std::filesystem::create_directories(dir.path() / "conv-1");
  {
    auto w = wav::WavWriter::Create(dir.path() / "conv-1" / "segment-3.wav", 2, 8000);
    ASSERT_TRUE(w.ok());
    std::vector<int16_t> frames(2 * 8000, 7);
    ASSERT_TRUE((*w)->Write(frames).ok());
    ASSERT_TRUE((*w)->Checkpoint().ok());
    // Simulate the crash: leave the .part behind without Close(). The writer is
    // never destroyed (that would Close() it) but stays reachable from a static,
    // so LeakSanitizer does not report it as a leak.
    static auto* crashed = new std::vector<std::unique_ptr<wav::WavWriter>>;
    crashed->push_back(std::move(*w));
  }
  HubOptions opts;
  opts.media_root = dir.path();
  MediaHub hub(opts, control);
  EXPECT_EQ(hub.RecoverPartials(), 1u);
  ASSERT_TRUE(control.files.count(3));
  EXPECT_TRUE(control.files[3].complete);
  EXPECT_EQ(control.files[3].frames, 8000);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "conv-1" / "segment-3.wav"));
}

}  // namespace
}  // namespace verbatim::media::capture
