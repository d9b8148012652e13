#include "media/capture/hub.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <thread>
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

// Records what the hub asks of the rest of verbatim. Catalog rows arrive on
// the hub's background thread: read `files` after hub.Flush() or hub.Stop().
class FakeControl : public ConversationControl {
 public:
  RecordingState initial_state = RecordingState::kActive;
  std::string pause_behavior = "silence";
  std::filesystem::path media_root;  // set: check that a "complete" row follows its file's rename
  std::vector<std::string> detached;
  std::map<int, MediaFileInfo> files;
  std::vector<std::string> complete_before_rename;
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
  void MediaFileUpdated(const std::string&, const MediaFileInfo& f) override {
    if (f.complete && !media_root.empty()) {
      const auto path = media_root / f.relative_path;
      if (!std::filesystem::exists(path) || std::filesystem::exists(path.string() + wav::kPartSuffix))
        complete_before_rename.push_back(f.relative_path);
    }
    files[f.segment] = f;
  }
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
  hub.Flush();

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
  hub.Flush();
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
  control.media_root = dir.path();
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
  hub.Flush();
  EXPECT_TRUE(control.complete_before_rename.empty()) << control.complete_before_rename[0];
  ASSERT_TRUE(control.files.count(1));
  ASSERT_TRUE(control.files.count(2));
  EXPECT_TRUE(control.files[1].complete);
  EXPECT_TRUE(control.files[2].complete);
  EXPECT_EQ(control.files[2].relative_path, (*session)->conversation_id() + "/segment-2.wav");
  EXPECT_NEAR(static_cast<double>(control.files[1].frames), 4000.0, 160.0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / control.files[1].relative_path));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / control.files[2].relative_path));
}

// A store stuck behind a slow disk: the final catalog row of one conversation
// hangs until the test releases it.
class StuckCatalog final : public FakeControl {
 public:
  std::string stuck_conversation;
  std::promise<void> stuck;            // the hanging write has begun
  std::shared_future<void> release;

  void MediaFileUpdated(const std::string& id, const MediaFileInfo& f) override {
    if (id == stuck_conversation && f.complete) {
      stuck.set_value();
      release.wait();
    }
    FakeControl::MediaFileUpdated(id, f);
  }
};

// Ending one call must not hold up the audio of the others, however long its
// file finalization and catalog writes take: the thread that ends call A (a
// transport's) goes straight on to deliver call B's audio, and all of it is
// recorded, without gaps, while A's catalog write is still hanging.
TEST(CaptureHub, EndingACallNeverHoldsUpAnotherCallsAudio) {
  TempDir dir;
  StuckCatalog control;
  control.media_root = dir.path();
  control.stuck_conversation = "conv-a";
  std::promise<void> release;
  control.release = release.get_future().share();
  Clock clock;
  HubOptions opts;
  opts.media_root = dir.path();
  MediaHub hub(opts, control, [&] { return clock.now; });
  SessionSpec spec_a = TwoParty(), spec_b = TwoParty();
  spec_a.conversation_id = "conv-a";
  spec_b.conversation_id = "conv-b";
  spec_b.external_id = "call-2";
  auto a = hub.Open(spec_a);
  auto b = hub.Open(spec_b);
  ASSERT_TRUE(a.ok() && b.ok());

  uint32_t ts = 0;
  uint16_t seq = 0;
  for (int t = 0; t < 1000; t += 20, ts += 160, ++seq) {  // 1 s of both calls
    for (auto* s : {a->get(), b->get()}) {
      s->PushPcm(0, seq, ts, Sine(440, 8000, 160, 8000, ts), clock.now);
      s->PushPcm(1, seq, ts, Sine(880, 8000, 160, 8000, ts), clock.now);
    }
    clock.now += milliseconds(20);
    hub.TickOnce();
  }

  std::promise<void> b_delivered;
  std::thread transport([&] {
    hub.Close(*a, "bye");
    Stream(hub, **b, clock, 2000, ts, seq);  // 2 s more of call B
    b_delivered.set_value();
  });
  auto stuck = control.stuck.get_future();
  const bool a_stuck = stuck.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  // A deadline, not synchronization: on failure the transport is still waiting for the store.
  const bool b_in_time = b_delivered.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  EXPECT_TRUE(a_stuck) << "call A's final catalog row was never written";
  EXPECT_TRUE(b_in_time) << "call B's audio waited for call A's catalog write";
  const uint64_t b_frames_while_stuck = (*b)->Stats().frames_written;
  release.set_value();
  transport.join();
  // While A was stuck, B's recording had caught up with its audio (all but the
  // recorder's 300 ms of tolerated lag).
  EXPECT_GE(b_frames_while_stuck, uint64_t{3 * 8000 - 2400 - 160});

  hub.Close(*b, "bye");
  hub.Stop();  // drains the background work
  EXPECT_TRUE(control.complete_before_rename.empty()) << control.complete_before_rename[0];
  EXPECT_EQ(control.detached, (std::vector<std::string>{"conv-a", "conv-b"}));
  auto pcm = wav::ReadPcm16(dir.path() / "conv-b" / "segment-1.wav");
  ASSERT_TRUE(pcm.ok()) << pcm.status().ToString();
  auto left = Deinterleave(pcm->samples, 2, 0);
  auto right = Deinterleave(pcm->samples, 2, 1);
  ASSERT_NEAR(static_cast<double>(left.size()), 24000.0, 160.0);
  for (size_t at = 0; at + 800 <= left.size(); at += 800) {  // every 100 ms: the call's audio, no gap
    EXPECT_TRUE(HasTone(std::span<const int16_t>(left).subspan(at, 800), 440, 8000)) << "left at " << at;
    EXPECT_TRUE(HasTone(std::span<const int16_t>(right).subspan(at, 800), 880, 8000)) << "right at " << at;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "conv-a" / "segment-1.wav"));
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
