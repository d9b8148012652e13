// Strict RIFF/WAVE reader: validates the header of a PCM WAV file and says where
// its audio is. Used by tests, by crash recovery, and by the media download
// endpoint to describe a file before streaming it.
//
// The parser sees a prefix of the file (`head`, enough to reach the data chunk
// header; 4 KiB is plenty for our files) plus the file's real size, so it never
// needs the audio itself. Every length is checked against both; nothing is read
// past `head`; chunk walking is bounded. Errors carry a named ParseError whose
// ToString is the Status code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/status.h"

namespace verbatim::media::wav {

enum class ParseError {
  kTooShort,           // head ends before a header the file needs
  kNotRiff,            // does not start with "RIFF"
  kNotWave,            // RIFF form type is not "WAVE"
  kBadRiffSize,        // RIFF size runs past the end of the file, or < 4
  kBadChunkSize,       // a chunk runs past the end of the RIFF chunk
  kTooManyChunks,      // more chunks before "data" than limits allow
  kMissingFmt,         // no "fmt " chunk before "data"
  kDuplicateFmt,       // two "fmt " chunks
  kBadFmtSize,         // "fmt " shorter than 16 bytes (or than its extension says)
  kUnsupportedFormat,  // not integer PCM (tag 1, or EXTENSIBLE with the PCM sub-format)
  kBadChannels,        // 0 or more than limits allow
  kBadSampleRate,      // 0 or above 768 kHz
  kBadBitsPerSample,   // not 8, 16, 24 or 32
  kBadBlockAlign,      // block align != channels * bytes per sample
  kBadByteRate,        // byte rate != sample rate * block align
  kMissingData,        // no "data" chunk
  kDataTruncated,      // the data chunk is longer than the RIFF chunk / file
  kPartialFrame,       // the data size is not a whole number of frames
};
const char* ToString(ParseError e);  // "wav.too.short", ...

struct WavInfo {
  uint16_t format_tag = 0;  // 1 = PCM, 0xFFFE = EXTENSIBLE (PCM)
  uint16_t channels = 0;
  uint32_t sample_rate = 0;
  uint16_t bits_per_sample = 0;
  uint16_t block_align = 0;
  uint32_t byte_rate = 0;
  uint32_t riff_size = 0;     // as declared
  uint64_t data_offset = 0;   // first audio byte
  uint64_t data_size = 0;     // audio bytes, whole frames
  uint64_t trailing_bytes = 0;  // file bytes after the RIFF chunk (a .part past its last checkpoint)

  uint64_t frames() const { return block_align == 0 ? 0 : data_size / block_align; }
  double duration_seconds() const { return sample_rate == 0 ? 0.0 : static_cast<double>(frames()) / sample_rate; }
};

struct ReadLimits {
  uint16_t max_channels = 64;
  size_t max_chunks = 64;
  // Crash recovery: ignore the declared RIFF and data sizes (they may lag the
  // file), take the data chunk to run to the end of the file, in whole frames.
  bool recover = false;
};

Result<WavInfo> ParseWav(std::span<const std::byte> head, uint64_t file_size, ReadLimits limits = {});
inline Result<WavInfo> ParseWav(std::span<const std::byte> whole_file, ReadLimits limits = {}) {
  return ParseWav(whole_file, whole_file.size(), limits);
}

// Reads the first 64 KiB of the file and parses it.
Result<WavInfo> ReadWavInfo(const std::filesystem::path& path, ReadLimits limits = {});

struct Pcm16 {
  WavInfo info;
  std::vector<int16_t> samples;  // interleaved, host order
};
// Whole file into memory; 16-bit files only (tests and tools).
Result<Pcm16> ReadPcm16(const std::filesystem::path& path, ReadLimits limits = {});

}  // namespace verbatim::media::wav
