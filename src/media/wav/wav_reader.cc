#include "media/wav/wav_reader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string_view>

namespace verbatim::media::wav {
namespace {

uint16_t Le16(std::span<const std::byte> b, size_t i) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[i]) | static_cast<uint8_t>(b[i + 1]) << 8);
}
uint32_t Le32(std::span<const std::byte> b, size_t i) {
  return static_cast<uint32_t>(Le16(b, i)) | static_cast<uint32_t>(Le16(b, i + 2)) << 16;
}
bool Tag(std::span<const std::byte> b, size_t i, std::string_view tag) {
  return std::memcmp(b.data() + i, tag.data(), 4) == 0;
}

Status Fail(ParseError e, std::string msg) { return Status::InvalidArgument(ToString(e), std::move(msg)); }

// KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71, GUID byte order.
constexpr uint8_t kPcmGuid[16] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
                                  0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

Status ParseFmt(std::span<const std::byte> f, const ReadLimits& limits, WavInfo& info) {
  if (f.size() < 16) return Fail(ParseError::kBadFmtSize, "fmt chunk shorter than 16 bytes");
  info.format_tag = Le16(f, 0);
  info.channels = Le16(f, 2);
  info.sample_rate = Le32(f, 4);
  info.byte_rate = Le32(f, 8);
  info.block_align = Le16(f, 12);
  info.bits_per_sample = Le16(f, 14);
  if (info.format_tag == 0xFFFE) {
    if (f.size() < 40 || Le16(f, 16) < 22) return Fail(ParseError::kBadFmtSize, "EXTENSIBLE fmt shorter than 40 bytes");
    if (std::memcmp(f.data() + 24, kPcmGuid, 16) != 0) {
      return Fail(ParseError::kUnsupportedFormat, "EXTENSIBLE sub-format is not PCM");
    }
  } else if (info.format_tag != 1) {
    return Fail(ParseError::kUnsupportedFormat, "format tag " + std::to_string(info.format_tag) + " is not PCM");
  }
  if (info.channels == 0 || info.channels > limits.max_channels) {
    return Fail(ParseError::kBadChannels, "channel count " + std::to_string(info.channels));
  }
  if (info.sample_rate == 0 || info.sample_rate > 768000) {
    return Fail(ParseError::kBadSampleRate, "sample rate " + std::to_string(info.sample_rate));
  }
  const uint16_t bits = info.bits_per_sample;
  if (bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    return Fail(ParseError::kBadBitsPerSample, "bits per sample " + std::to_string(bits));
  }
  if (info.block_align != info.channels * (bits / 8)) {
    return Fail(ParseError::kBadBlockAlign, "block align " + std::to_string(info.block_align));
  }
  if (info.byte_rate != uint64_t{info.sample_rate} * info.block_align) {
    return Fail(ParseError::kBadByteRate, "byte rate " + std::to_string(info.byte_rate));
  }
  return Status::Ok();
}

}  // namespace

const char* ToString(ParseError e) {
  switch (e) {
    case ParseError::kTooShort: return "wav.too.short";
    case ParseError::kNotRiff: return "wav.not.riff";
    case ParseError::kNotWave: return "wav.not.wave";
    case ParseError::kBadRiffSize: return "wav.bad.riff.size";
    case ParseError::kBadChunkSize: return "wav.bad.chunk.size";
    case ParseError::kTooManyChunks: return "wav.too.many.chunks";
    case ParseError::kMissingFmt: return "wav.missing.fmt";
    case ParseError::kDuplicateFmt: return "wav.duplicate.fmt";
    case ParseError::kBadFmtSize: return "wav.bad.fmt.size";
    case ParseError::kUnsupportedFormat: return "wav.unsupported.format";
    case ParseError::kBadChannels: return "wav.bad.channels";
    case ParseError::kBadSampleRate: return "wav.bad.sample.rate";
    case ParseError::kBadBitsPerSample: return "wav.bad.bits.per.sample";
    case ParseError::kBadBlockAlign: return "wav.bad.block.align";
    case ParseError::kBadByteRate: return "wav.bad.byte.rate";
    case ParseError::kMissingData: return "wav.missing.data";
    case ParseError::kDataTruncated: return "wav.data.truncated";
    case ParseError::kPartialFrame: return "wav.partial.frame";
  }
  return "wav.unknown";
}

Result<WavInfo> ParseWav(std::span<const std::byte> head, uint64_t file_size, ReadLimits limits) {
  if (head.size() > file_size) return Fail(ParseError::kBadRiffSize, "head longer than the file");
  if (head.size() < 12) return Fail(ParseError::kTooShort, "shorter than a RIFF header");
  if (!Tag(head, 0, "RIFF")) return Fail(ParseError::kNotRiff, "missing RIFF tag");
  if (!Tag(head, 8, "WAVE")) return Fail(ParseError::kNotWave, "RIFF form is not WAVE");
  WavInfo info;
  info.riff_size = Le32(head, 4);
  uint64_t riff_end = file_size;
  if (!limits.recover) {
    if (info.riff_size < 4 || uint64_t{info.riff_size} + 8 > file_size) {
      return Fail(ParseError::kBadRiffSize, "RIFF size " + std::to_string(info.riff_size) + " does not fit the file");
    }
    riff_end = uint64_t{info.riff_size} + 8;
    info.trailing_bytes = file_size - riff_end;
  }

  bool have_fmt = false;
  uint64_t off = 12;
  for (size_t chunks = 0;; ++chunks) {
    if (chunks >= limits.max_chunks) return Fail(ParseError::kTooManyChunks, "too many chunks before data");
    if (riff_end - off < 8) return Fail(ParseError::kMissingData, "no data chunk");
    if (off > head.size() || head.size() - off < 8) return Fail(ParseError::kTooShort, "chunk header past the bytes read");
    const uint64_t size = Le32(head, off + 4);
    const uint64_t body = off + 8;
    if (Tag(head, off, "data")) {
      if (!have_fmt) return Fail(ParseError::kMissingFmt, "data chunk before fmt");
      info.data_offset = body;
      if (limits.recover) {
        info.data_size = (riff_end - body) / info.block_align * info.block_align;
        return info;
      }
      if (size > riff_end - body) return Fail(ParseError::kDataTruncated, "data chunk runs past the RIFF chunk");
      if (size % info.block_align != 0) return Fail(ParseError::kPartialFrame, "data is not whole frames");
      info.data_size = size;
      return info;
    }
    if (size > riff_end - body) return Fail(ParseError::kBadChunkSize, "chunk runs past the RIFF chunk");
    if (Tag(head, off, "fmt ")) {
      if (have_fmt) return Fail(ParseError::kDuplicateFmt, "second fmt chunk");
      if (size > head.size() - body) return Fail(ParseError::kTooShort, "fmt chunk past the bytes read");
      VERBATIM_RETURN_IF_ERROR(ParseFmt(head.subspan(body, size), limits, info));
      have_fmt = true;
    }
    off = body + size + (size & 1);  // chunks are word aligned
    if (off > riff_end) return Fail(ParseError::kBadChunkSize, "chunk padding runs past the RIFF chunk");
  }
}

Result<WavInfo> ReadWavInfo(const std::filesystem::path& path, ReadLimits limits) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::NotFound("wav.not.found", path.string() + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  std::vector<std::byte> head(static_cast<size_t>(std::min<uint64_t>(size, 64 * 1024)));
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  if (!in) return Status::Internal("cannot read " + path.string());
  return ParseWav(head, size, limits);
}

Result<Pcm16> ReadPcm16(const std::filesystem::path& path, ReadLimits limits) {
  Result<WavInfo> info = ReadWavInfo(path, limits);
  if (!info.ok()) return info.status();
  if (info->bits_per_sample != 16) return Fail(ParseError::kBadBitsPerSample, "not a 16-bit file");
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(info->data_offset));
  std::vector<std::byte> raw(static_cast<size_t>(info->data_size));
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  if (!in) return Status::Internal("cannot read the data of " + path.string());
  Pcm16 out{*info, std::vector<int16_t>(raw.size() / 2)};
  for (size_t i = 0; i < out.samples.size(); ++i) out.samples[i] = static_cast<int16_t>(Le16(raw, 2 * i));
  return out;
}

}  // namespace verbatim::media::wav
