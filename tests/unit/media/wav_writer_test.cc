#include "media/wav/wav_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "media/wav/wav_reader.h"
#include "unit/media/audio_test_util.h"

namespace verbatim::media::wav {
namespace {

namespace fs = std::filesystem;
using media::testing::TempDir;

// Deterministic stereo test signal: frame f of a 440 Hz / 880 Hz pair.
std::vector<int16_t> Stereo(int64_t first_frame, size_t frames) {
  auto l = media::testing::Sine(440.0, 8000, frames, 8000.0, first_frame);
  auto r = media::testing::Sine(880.0, 8000, frames, 8000.0, first_frame);
  std::vector<int16_t> out(frames * 2);
  for (size_t i = 0; i < frames; ++i) {
    out[2 * i] = l[i];
    out[2 * i + 1] = r[i];
  }
  return out;
}

std::vector<std::byte> ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  std::memcpy(out.data(), c.data(), c.size());
  return out;
}

TEST(WavWriter, CloseLeavesAValidWavWithEverySample) {
  TempDir dir;
  const fs::path path = dir.path() / "a.wav";
  auto w = WavWriter::Create(path, 2, 8000);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(fs::exists(dir.path() / "a.wav.part"));
  EXPECT_FALSE(fs::exists(path));
  const auto audio = Stereo(0, 8000);
  for (size_t off = 0; off < audio.size(); off += 320) {
    ASSERT_TRUE((*w)->Write(std::span(audio).subspan(off, 320)).ok());
  }
  EXPECT_EQ((*w)->frames(), 8000u);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_TRUE((*w)->closed());
  EXPECT_FALSE(fs::exists(dir.path() / "a.wav.part"));
  auto pcm = ReadPcm16(path);
  ASSERT_TRUE(pcm.ok()) << pcm.status().ToString();
  EXPECT_EQ(pcm->info.channels, 2);
  EXPECT_EQ(pcm->info.sample_rate, 8000u);
  EXPECT_EQ(pcm->info.trailing_bytes, 0u);
  EXPECT_EQ(pcm->samples, audio);
  EXPECT_TRUE((*w)->Close().ok());  // idempotent
  EXPECT_EQ((*w)->Write(audio).code(), "wav.closed");
}

TEST(WavWriter, HeaderIsValidAfterEveryCheckpoint) {
  TempDir dir;
  WriterOptions o;
  o.checkpoint_interval = std::chrono::milliseconds(100);  // 800 frames
  auto w = WavWriter::Create(dir.path() / "c.wav", 2, 8000, o).value();
  const fs::path part = w->part_path();
  uint64_t written = 0;
  for (int chunk = 0; chunk < 60; ++chunk) {
    ASSERT_TRUE(w->Write(Stereo(static_cast<int64_t>(written), 160)).ok());
    written += 160;
    // A copy taken at any moment is a strictly valid WAV of whole checkpoints.
    const auto bytes = ReadAll(part);
    auto info = ParseWav(bytes);
    ASSERT_TRUE(info.ok()) << chunk << ": " << info.status().ToString();
    EXPECT_EQ(info->frames(), written / 800 * 800) << chunk;
    EXPECT_EQ(w->checkpoints(), written / 800);
    // And its audio is exactly what was written.
    std::vector<int16_t> got(info->data_size / 2);
    if (!got.empty()) std::memcpy(got.data(), bytes.data() + info->data_offset, info->data_size);
    EXPECT_EQ(got, Stereo(0, info->frames()));
  }
  ASSERT_TRUE(w->Write(Stereo(static_cast<int64_t>(written), 100)).ok());
  ASSERT_TRUE(w->Checkpoint().ok());  // explicit: now everything is described
  auto info = ReadWavInfo(part);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->frames(), written + 100);
}

TEST(WavWriter, LongWritesStillCheckpointOnTime) {
  TempDir dir;
  WriterOptions o;
  o.buffer_bytes = 1000;  // smaller than one checkpoint: data reaches the file early
  auto w = WavWriter::Create(dir.path() / "l.wav", 1, 8000, o).value();
  ASSERT_TRUE(w->WriteSilence(8000 * 3 + 7).ok());
  EXPECT_EQ(w->checkpoints(), 6u);
  EXPECT_EQ(ReadWavInfo(w->part_path())->frames(), 24000u);
  // Data past the last checkpoint already sits in the file (the buffer is small).
  EXPECT_GE(fs::file_size(w->part_path()), 44u + 2 * 24000);
}

TEST(WavWriter, RejectsPartialFramesExistingFilesAndBadFormats) {
  TempDir dir;
  auto w = WavWriter::Create(dir.path() / "p.wav", 2, 8000).value();
  const int16_t three[3] = {1, 2, 3};
  EXPECT_EQ(w->Write(three).code(), "wav.partial.frame");
  EXPECT_EQ(WavWriter::Create(dir.path() / "p.wav", 2, 8000).status().code(), "wav.exists");  // .part exists
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(WavWriter::Create(dir.path() / "p.wav", 2, 8000).status().code(), "wav.exists");
  EXPECT_EQ(WavWriter::Create(dir.path() / "q.wav", 0, 8000).status().code(), "wav.bad.channels");
  EXPECT_EQ(WavWriter::Create(dir.path() / "q.wav", 1, 0).status().code(), "wav.bad.sample.rate");
  EXPECT_FALSE(WavWriter::Create(dir.path() / "missing" / "q.wav", 1, 8000).ok());
}

TEST(WavWriter, PeriodicSyncAndNoSyncBothProduceTheSameFile) {
  TempDir dir;
  WriterOptions sync;
  sync.sync_interval = std::chrono::milliseconds(1000);
  WriterOptions none;
  none.sync_on_close = false;
  for (const auto& [name, o] : {std::pair{"s.wav", sync}, std::pair{"n.wav", none}}) {
    auto w = WavWriter::Create(dir.path() / name, 2, 8000, o).value();
    ASSERT_TRUE(w->Write(Stereo(0, 20000)).ok());
    ASSERT_TRUE(w->Close().ok());
    EXPECT_EQ(ReadPcm16(dir.path() / name)->samples, Stereo(0, 20000));
  }
}

TEST(WavWriter, DestructorClosesAnOpenWriter) {
  TempDir dir;
  {
    auto w = WavWriter::Create(dir.path() / "d.wav", 1, 8000).value();
    ASSERT_TRUE(w->WriteSilence(123).ok());
  }
  EXPECT_EQ(ReadWavInfo(dir.path() / "d.wav")->frames(), 123u);
}

// The real thing: a child process writes 3 s and a bit, then SIGKILLs itself.
TEST(WavWriter, SurvivesKillDashNineAndRecoversAtStartup) {
  TempDir dir;
  const fs::path path = dir.path() / "conv" / "segment-1.wav";
  fs::create_directories(path.parent_path());
  constexpr int64_t kFrames = 8000 * 3 + 8000 / 10 * 3;  // 3.3 s: 300 ms after the last checkpoint
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = WavWriter::Create(path, 2, 8000);
    if (!w.ok()) ::_exit(2);
    for (int64_t f = 0; f < kFrames; f += 160) {
      if (!(*w)->Write(Stereo(f, 160)).ok()) ::_exit(3);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(4);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_TRUE(fs::exists(path.string() + ".part"));

  auto rec = RecoverPartials(dir.path());
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  ASSERT_EQ(rec->size(), 1u);
  const Recovered& r = (*rec)[0];
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.path, path);
  EXPECT_FALSE(fs::exists(path.string() + ".part"));

  auto pcm = ReadPcm16(path);
  ASSERT_TRUE(pcm.ok()) << pcm.status().ToString();
  EXPECT_EQ(pcm->info.trailing_bytes, 0u);
  const uint64_t frames = pcm->info.frames();
  EXPECT_EQ(frames, r.frames);
  EXPECT_GE(frames, 8000u * 3) << "at most the audio after the last checkpoint is lost";
  EXPECT_LE(frames, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(pcm->samples, Stereo(0, frames));
}

TEST(WavWriter, RecoveryCutsATornFrameAndFixesTheHeader) {
  TempDir dir;
  const fs::path part = dir.path() / "x.wav.part";
  {
    auto h = BuildHeader(2, 8000, 0);  // killed before the first checkpoint
    std::ofstream out(part, std::ios::binary);
    out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size()));
    const auto audio = Stereo(0, 1000);
    out.write(reinterpret_cast<const char*>(audio.data()), static_cast<std::streamsize>(audio.size() * 2));
    out.write("\x01\x02\x03", 3);  // a torn frame
  }
  fs::create_directories(dir.path() / "sub");
  std::ofstream(dir.path() / "sub" / "junk.wav.part") << "not a wav";
  std::ofstream(dir.path() / "other.wav") << "untouched";

  auto rec = RecoverPartials(dir.path());
  ASSERT_TRUE(rec.ok());
  ASSERT_EQ(rec->size(), 2u);
  const Recovered& junk = (*rec)[0];  // sorted: "sub/…" before "x.wav.part"
  EXPECT_EQ(junk.part.filename(), "junk.wav.part");
  EXPECT_EQ(junk.status.code(), "wav.too.short");
  EXPECT_TRUE(fs::exists(junk.part)) << "unreadable files are left for a human";

  const Recovered& x = (*rec)[1];
  ASSERT_TRUE(x.status.ok()) << x.status.ToString();
  EXPECT_EQ(x.frames, 1000u);
  EXPECT_EQ(x.truncated_bytes, 3u);
  auto pcm = ReadPcm16(dir.path() / "x.wav");
  ASSERT_TRUE(pcm.ok());
  EXPECT_EQ(pcm->info.riff_size, 36u + 4000);
  EXPECT_EQ(pcm->info.trailing_bytes, 0u);
  EXPECT_EQ(pcm->samples, Stereo(0, 1000));
}

TEST(WavWriter, RecoveryNeverOverwritesAFinishedFile) {
  TempDir dir;
  auto w = WavWriter::Create(dir.path() / "y.wav", 1, 8000).value();
  ASSERT_TRUE(w->WriteSilence(10).ok());
  ASSERT_TRUE(w->Close().ok());
  fs::copy_file(dir.path() / "y.wav", dir.path() / "y.wav.part");
  auto rec = RecoverPartials(dir.path());
  ASSERT_TRUE(rec.ok());
  ASSERT_EQ(rec->size(), 1u);
  EXPECT_EQ((*rec)[0].status.code(), "wav.exists");
  EXPECT_EQ(RecoverPartials(dir.path() / "nope").status().code(), "wav.recover.dir");
}

}  // namespace
}  // namespace verbatim::media::wav
