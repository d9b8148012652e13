// Crash-safe PCM WAV writer (16-bit little-endian, N interleaved channels).
//
// The file is written as "<name>.wav.part" and renamed to "<name>.wav" by
// Close(). Its 44-byte header is written first and rewritten in place (pwrite)
// at every checkpoint (each checkpoint_interval of audio, or Checkpoint()),
// *after* the audio it describes, so the .part is always a valid WAV of the
// audio up to its last checkpoint. A kill -9 therefore loses at most one
// checkpoint interval plus what the caller had not yet handed over; the page
// cache survives process death, so that needs no fsync. Surviving power loss
// needs fdatasync: on Close() by default, periodically if sync_interval > 0.
// RecoverPartials() runs at start-up and turns leftover .part files into WAVs.
//
// Not thread-safe; one writer per file.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"

namespace verbatim::media::wav {

inline constexpr size_t kHeaderSize = 44;
inline constexpr char kPartSuffix[] = ".part";

// The canonical 44-byte PCM header for `data_bytes` of 16-bit audio.
std::array<std::byte, kHeaderSize> BuildHeader(uint16_t channels, uint32_t sample_rate, uint32_t data_bytes);

struct WriterOptions {
  std::chrono::milliseconds checkpoint_interval{500};  // of audio; bounds the loss on kill -9
  bool sync_on_close = true;                            // fdatasync the file and fsync the directory
  std::chrono::milliseconds sync_interval{0};           // > 0: also fdatasync at checkpoints this often (audio time)
  size_t buffer_bytes = 64 * 1024;                      // user-space buffer, flushed at least every checkpoint
};

class WavWriter {
 public:
  // `path` is the final name ("…/segment-1.wav"); the parent directory must exist,
  // and neither the file nor its .part may exist (AlreadyExists "wav.exists").
  static Result<std::unique_ptr<WavWriter>> Create(std::filesystem::path path, uint16_t channels,
                                                   uint32_t sample_rate, WriterOptions options = {});
  ~WavWriter();  // Close()s a writer that is still open; errors are dropped
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  // Whole frames only (size % channels == 0, else InvalidArgument "wav.partial.frame").
  // ResourceExhausted "wav.too.large" past the 4 GiB RIFF limit.
  Status Write(std::span<const int16_t> interleaved);
  Status WriteSilence(uint64_t frames);
  Status Checkpoint();
  Status Close();  // checkpoint, sync per options, rename .part → .wav

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& part_path() const { return part_path_; }
  uint64_t frames() const { return frames_; }
  double duration_seconds() const { return static_cast<double>(frames_) / sample_rate_; }
  uint16_t channels() const { return channels_; }
  uint32_t sample_rate() const { return sample_rate_; }
  bool closed() const { return fd_ < 0; }
  uint64_t checkpoints() const { return checkpoints_; }

 private:
  WavWriter(std::filesystem::path path, int fd, uint16_t channels, uint32_t rate, WriterOptions options);
  Status FlushBuffer();
  Status MaybeCheckpoint();

  // Constant after construction.
  const std::filesystem::path path_;
  const std::filesystem::path part_path_;
  const uint16_t channels_;
  const uint32_t sample_rate_;
  const WriterOptions options_;
  const uint64_t checkpoint_frames_;
  const uint64_t sync_frames_;  // 0 = no periodic sync

  int fd_;
  std::vector<std::byte> buffer_;
  uint64_t frames_ = 0;                // frames handed to Write/WriteSilence
  uint64_t checkpointed_frames_ = 0;   // frames the header on disk describes
  uint64_t synced_frames_ = 0;
  uint64_t checkpoints_ = 0;
  Status failed_;                      // sticky: after an I/O error every call returns it
};

struct Recovered {
  std::filesystem::path part;   // what was found
  std::filesystem::path path;   // the .wav it became (if status ok)
  uint64_t frames = 0;          // whole frames kept
  uint64_t truncated_bytes = 0; // trailing partial frame cut off
  Status status;                // not ok: left in place (unreadable header, target exists, I/O)
};

// For every "*.wav.part" under `dir` (recursively): set the header sizes to the
// whole frames actually on disk, truncate a trailing partial frame, fdatasync,
// rename to ".wav". Returns one entry per file found. Not for files still being
// written by a live writer: call it before any writer starts.
Result<std::vector<Recovered>> RecoverPartials(const std::filesystem::path& dir);

}  // namespace verbatim::media::wav
