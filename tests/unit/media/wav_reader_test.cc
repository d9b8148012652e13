#include "media/wav/wav_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "media/wav/wav_writer.h"

namespace verbatim::media::wav {
namespace {

// Assembles RIFF files chunk by chunk so each test breaks exactly one thing.
struct Riff {
  std::string form = "WAVE";
  std::vector<std::pair<std::string, std::vector<std::byte>>> chunks;
  std::optional<uint32_t> riff_size;  // default: correct

  std::vector<std::byte> Bytes() const {
    std::vector<std::byte> out;
    auto put = [&](const void* p, size_t n) {
      const auto* b = static_cast<const std::byte*>(p);
      for (size_t i = 0; i < n; ++i) out.push_back(b[i]);
    };
    put("RIFF", 4);
    put("\0\0\0\0", 4);  // size, patched below
    put(form.data(), 4);
    for (const auto& [tag, data] : chunks) {
      put(tag.data(), 4);
      const uint32_t n = static_cast<uint32_t>(data.size());
      put(&n, 4);
      put(data.data(), data.size());
      if (data.size() % 2 == 1) out.push_back(std::byte{0});
    }
    const uint32_t size = riff_size.value_or(static_cast<uint32_t>(out.size() - 8));
    std::memcpy(out.data() + 4, &size, 4);
    return out;
  }
};

std::vector<std::byte> Fmt(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits,
                           std::optional<uint16_t> align = {}, std::optional<uint32_t> byte_rate = {}) {
  std::vector<std::byte> f(16);
  const uint16_t a = align.value_or(static_cast<uint16_t>(channels * (bits / 8)));
  const uint32_t br = byte_rate.value_or(rate * a);
  std::memcpy(f.data(), &tag, 2);
  std::memcpy(f.data() + 2, &channels, 2);
  std::memcpy(f.data() + 4, &rate, 4);
  std::memcpy(f.data() + 8, &br, 4);
  std::memcpy(f.data() + 12, &a, 2);
  std::memcpy(f.data() + 14, &bits, 2);
  return f;
}

std::vector<std::byte> Extensible(const uint8_t (&guid)[16]) {
  std::vector<std::byte> f = Fmt(0xFFFE, 2, 8000, 16);
  const uint16_t cb = 22, valid = 16;
  const uint32_t mask = 3;
  f.resize(40);
  std::memcpy(f.data() + 16, &cb, 2);
  std::memcpy(f.data() + 18, &valid, 2);
  std::memcpy(f.data() + 20, &mask, 4);
  std::memcpy(f.data() + 24, guid, 16);
  return f;
}

constexpr uint8_t kPcm[16] = {1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
constexpr uint8_t kFloat[16] = {3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};

Riff Good(size_t data_bytes = 64) {
  Riff r;
  r.chunks.push_back({"fmt ", Fmt(1, 2, 8000, 16)});
  r.chunks.push_back({"data", std::vector<std::byte>(data_bytes, std::byte{1})});
  return r;
}

TEST(WavReader, ParsesTheWritersHeader) {
  auto h = BuildHeader(2, 8000, 3200);
  std::vector<std::byte> file(h.begin(), h.end());
  file.resize(file.size() + 3200);
  auto r = ParseWav(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format_tag, 1);
  EXPECT_EQ(r->channels, 2);
  EXPECT_EQ(r->sample_rate, 8000u);
  EXPECT_EQ(r->bits_per_sample, 16);
  EXPECT_EQ(r->block_align, 4);
  EXPECT_EQ(r->byte_rate, 32000u);
  EXPECT_EQ(r->data_offset, 44u);
  EXPECT_EQ(r->data_size, 3200u);
  EXPECT_EQ(r->frames(), 800u);
  EXPECT_DOUBLE_EQ(r->duration_seconds(), 0.1);
  EXPECT_EQ(r->trailing_bytes, 0u);
}

TEST(WavReader, AcceptsExtensibleOddChunksAndTrailingBytes) {
  Riff r;
  r.chunks.push_back({"LIST", std::vector<std::byte>(5)});  // odd: followed by a pad byte
  r.chunks.push_back({"fmt ", Extensible(kPcm)});
  r.chunks.push_back({"data", std::vector<std::byte>(40)});
  auto bytes = r.Bytes();
  bytes.resize(bytes.size() + 6);  // e.g. a .part that grew past its last checkpoint
  auto info = ParseWav(bytes);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->format_tag, 0xFFFE);
  EXPECT_EQ(info->data_size, 40u);
  EXPECT_EQ(info->trailing_bytes, 6u);
  EXPECT_EQ(info->data_offset, 12u + 8 + 6 + 8 + 40 + 8);
}

TEST(WavReader, EveryErrorIsReachable) {
  struct Case {
    const char* name;
    std::vector<std::byte> bytes;
    ParseError error;
  };
  std::vector<Case> cases;
  auto add = [&](const char* name, std::vector<std::byte> b, ParseError e) { cases.push_back({name, std::move(b), e}); };

  add("eleven bytes", std::vector<std::byte>(11), ParseError::kTooShort);
  {
    auto b = Good().Bytes();
    b[3] = std::byte('X');
    add("RIFX", b, ParseError::kNotRiff);
  }
  {
    Riff r = Good();
    r.form = "AVI ";
    add("AVI", r.Bytes(), ParseError::kNotWave);
  }
  {
    Riff r = Good();
    r.riff_size = 1000;
    add("riff past end", r.Bytes(), ParseError::kBadRiffSize);
    r.riff_size = 2;
    add("riff size 2", r.Bytes(), ParseError::kBadRiffSize);
  }
  {
    Riff r = Good();
    r.chunks.insert(r.chunks.begin(), {"LIST", std::vector<std::byte>(4)});
    auto b = r.Bytes();
    b[16] = std::byte(0xFF);  // LIST size now runs past the RIFF end
    add("chunk past end", b, ParseError::kBadChunkSize);
  }
  {
    Riff r = Good();
    for (int i = 0; i < 70; ++i) r.chunks.insert(r.chunks.begin(), {"junk", {}});
    add("70 chunks", r.Bytes(), ParseError::kTooManyChunks);
  }
  {
    Riff r;
    r.chunks.push_back({"data", std::vector<std::byte>(4)});
    r.chunks.push_back({"fmt ", Fmt(1, 1, 8000, 16)});
    add("data first", r.Bytes(), ParseError::kMissingFmt);
  }
  {
    Riff r = Good();
    r.chunks.insert(r.chunks.begin(), {"fmt ", Fmt(1, 2, 8000, 16)});
    add("two fmt", r.Bytes(), ParseError::kDuplicateFmt);
  }
  {
    Riff r = Good();
    r.chunks[0].second.resize(14);
    add("fmt 14 bytes", r.Bytes(), ParseError::kBadFmtSize);
    r.chunks[0].second = Fmt(0xFFFE, 2, 8000, 16);
    add("extensible 16 bytes", r.Bytes(), ParseError::kBadFmtSize);
  }
  {
    Riff r = Good();
    r.chunks[0].second = Fmt(3, 2, 8000, 32);
    add("float", r.Bytes(), ParseError::kUnsupportedFormat);
    r.chunks[0].second = Extensible(kFloat);
    add("extensible float", r.Bytes(), ParseError::kUnsupportedFormat);
  }
  {
    Riff r = Good();
    r.chunks[0].second = Fmt(1, 0, 8000, 16, 2, 16000);
    add("0 channels", r.Bytes(), ParseError::kBadChannels);
    r.chunks[0].second = Fmt(1, 65, 8000, 16);
    add("65 channels", r.Bytes(), ParseError::kBadChannels);
  }
  {
    Riff r = Good();
    r.chunks[0].second = Fmt(1, 2, 0, 16);
    add("0 Hz", r.Bytes(), ParseError::kBadSampleRate);
    r.chunks[0].second = Fmt(1, 2, 1000000, 16);
    add("1 MHz", r.Bytes(), ParseError::kBadSampleRate);
  }
  {
    Riff r = Good();
    r.chunks[0].second = Fmt(1, 2, 8000, 12, 4, 32000);
    add("12 bits", r.Bytes(), ParseError::kBadBitsPerSample);
    r.chunks[0].second = Fmt(1, 2, 8000, 16, 2);
    add("align 2", r.Bytes(), ParseError::kBadBlockAlign);
    r.chunks[0].second = Fmt(1, 2, 8000, 16, 4, 16000);
    add("byte rate", r.Bytes(), ParseError::kBadByteRate);
  }
  {
    Riff r;
    r.chunks.push_back({"fmt ", Fmt(1, 1, 8000, 16)});
    add("no data", r.Bytes(), ParseError::kMissingData);
  }
  {
    auto b = Good(64).Bytes();
    b[40] = std::byte(200);  // data size 200 > 64 present
    add("data truncated", b, ParseError::kDataTruncated);
  }
  {
    Riff r;
    r.chunks.push_back({"fmt ", Fmt(1, 1, 8000, 16)});
    r.chunks.push_back({"data", std::vector<std::byte>(3)});
    add("odd data", r.Bytes(), ParseError::kPartialFrame);
  }

  std::set<ParseError> seen;
  for (const Case& c : cases) {
    auto r = ParseWav(c.bytes);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), ToString(c.error)) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument) << c.name;
    seen.insert(c.error);
  }
  // A head that stops before the data chunk header is "too short", not "no data".
  auto good = Good().Bytes();
  auto cut = ParseWav(std::span<const std::byte>(good).first(40), good.size());
  EXPECT_EQ(cut.status().code(), "wav.too.short");
  EXPECT_EQ(seen.size(), 18u) << "a ParseError value has no test case";
}

TEST(WavReader, ErrorStringsAreStable) {
  EXPECT_STREQ(ToString(ParseError::kTooShort), "wav.too.short");
  EXPECT_STREQ(ToString(ParseError::kNotRiff), "wav.not.riff");
  EXPECT_STREQ(ToString(ParseError::kDataTruncated), "wav.data.truncated");
  EXPECT_STREQ(ToString(ParseError::kPartialFrame), "wav.partial.frame");
}

TEST(WavReader, RecoverModeIgnoresStaleSizes) {
  auto h = BuildHeader(2, 8000, 0);  // header as written before any checkpoint
  std::vector<std::byte> file(h.begin(), h.end());
  file.resize(file.size() + 4 * 100 + 3);  // 100 frames and a torn one
  ReadLimits limits;
  limits.recover = true;
  auto r = ParseWav(file, limits);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data_size, 400u);
  EXPECT_TRUE(ParseWav(file).ok());  // strictly it is a valid, empty WAV with trailing bytes
  EXPECT_EQ(ParseWav(file)->data_size, 0u);
}

TEST(WavReader, TruncationsAndMutationsNeverEscapeTheInput) {
  Riff r;
  r.chunks.push_back({"LIST", std::vector<std::byte>(7, std::byte{9})});
  r.chunks.push_back({"fmt ", Extensible(kPcm)});
  r.chunks.push_back({"data", std::vector<std::byte>(32, std::byte{1})});
  const auto base = r.Bytes();
  for (size_t n = 0; n <= base.size(); ++n) {
    auto res = ParseWav(std::span<const std::byte>(base).first(n));
    if (res.ok()) {
      EXPECT_LE(res->data_offset + res->data_size, n);
    }
  }
  std::mt19937 rng(99);
  for (int i = 0; i < 200000; ++i) {
    auto m = base;
    for (int f = 1 + static_cast<int>(rng() % 4); f > 0; --f) m[rng() % m.size()] = std::byte(rng() & 0xFF);
    m.resize(rng() % (m.size() + 1));
    for (bool recover : {false, true}) {
      ReadLimits limits;
      limits.recover = recover;
      auto res = ParseWav(m, limits);
      if (!res.ok()) continue;
      ASSERT_LE(res->data_offset + res->data_size, m.size());
      ASSERT_GT(res->block_align, 0);
      ASSERT_EQ(res->data_size % res->block_align, 0u);
    }
  }
}

}  // namespace
}  // namespace verbatim::media::wav
