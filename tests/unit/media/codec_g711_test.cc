#include <gtest/gtest.h>

#include <cstdlib>

#include "media/codec/decoder.h"
#include "media/codec/g711.h"
#include "unit/media/audio_test_util.h"

namespace verbatim::media::codec {
namespace {

using media::testing::Sine;
using media::testing::SnrDb;

// Largest quantization error of a G.711 segment for a value of this magnitude:
// half a step, where the step doubles with each segment (13-bit A-law, 14-bit µ-law).
// The encoders drop low bits with an arithmetic shift, so a negative value just
// below a segment boundary is coded in the next segment: hence the +8 look-ahead.
int MaxError(int v, bool alaw) {
  const int mag = std::abs(v) + 8;
  auto log2 = [](int x) { return 31 - __builtin_clz(static_cast<unsigned>(x)); };
  if (alaw) {
    const int m = mag >> 3;  // 13-bit magnitude; steps of 2 up to 63, then doubling
    const int seg = m < 32 ? 0 : log2(m) - 4;
    return 4 * (1 << std::max(seg, 1)) + 8;
  }
  const int m = (mag >> 2) + 33;  // biased 14-bit magnitude; steps of 2, 4, 8, ...
  const int seg = std::max(0, log2(m) - 5);
  return (4 << seg) + 4;
}

TEST(CodecG711, KnownCodeValues) {
  // Reference points from the G.711 tables (Sun reference scaling).
  EXPECT_EQ(MulawToLinear(0xFF), 0);
  EXPECT_EQ(MulawToLinear(0x7F), 0);
  EXPECT_EQ(MulawToLinear(0x80), 32124);
  EXPECT_EQ(MulawToLinear(0x00), -32124);
  EXPECT_EQ(AlawToLinear(0xD5), 8);
  EXPECT_EQ(AlawToLinear(0x55), -8);
  EXPECT_EQ(AlawToLinear(0xAA), 32256);
  EXPECT_EQ(AlawToLinear(0x2A), -32256);
  EXPECT_EQ(LinearToMulaw(0), 0xFF);
  EXPECT_EQ(LinearToAlaw(0), 0xD5);
}

TEST(CodecG711, EncodeOfDecodeIsIdentityOnEveryCode) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<uint8_t>(c);
    // µ-law has two zeros (0x7F, 0xFF); both decode to 0 and re-encode to 0xFF.
    EXPECT_EQ(MulawToLinear(LinearToMulaw(MulawToLinear(code))), MulawToLinear(code)) << c;
    if (c != 0x7F) {
      EXPECT_EQ(LinearToMulaw(MulawToLinear(code)), code) << c;
    }
    EXPECT_EQ(LinearToAlaw(AlawToLinear(code)), code) << c;
  }
}

TEST(CodecG711, DecodeIsMonotonicInTheLinearValue) {
  // Encoding every 16-bit value never goes backwards in decoded value.
  int prev_u = -40000, prev_a = -40000;
  for (int v = -32768; v <= 32767; ++v) {
    const int u = MulawToLinear(LinearToMulaw(static_cast<int16_t>(v)));
    const int a = AlawToLinear(LinearToAlaw(static_cast<int16_t>(v)));
    ASSERT_GE(u, prev_u) << v;
    ASSERT_GE(a, prev_a) << v;
    prev_u = u;
    prev_a = a;
  }
}

TEST(CodecG711, RoundTripErrorStaysWithinHalfAStep) {
  for (int v = -32768; v <= 32767; ++v) {
    const auto s = static_cast<int16_t>(v);
    const int clipped_u = std::clamp(v, -32124, 32124);
    const int clipped_a = std::clamp(v, -32256, 32256);
    ASSERT_LE(std::abs(MulawToLinear(LinearToMulaw(s)) - clipped_u), MaxError(v, false)) << v;
    ASSERT_LE(std::abs(AlawToLinear(LinearToAlaw(s)) - clipped_a), MaxError(v, true)) << v;
  }
}

TEST(CodecG711, SineRoundTripKeepsTheSignal) {
  const auto sine = Sine(440.0, 8000, 8000, 12000.0);
  std::vector<std::byte> u(sine.size()), a(sine.size());
  std::vector<int16_t> du(sine.size()), da(sine.size());
  ASSERT_EQ(EncodeMulaw(sine, u), sine.size());
  ASSERT_EQ(EncodeAlaw(sine, a), sine.size());
  ASSERT_EQ(DecodeMulaw(u, du), sine.size());
  ASSERT_EQ(DecodeAlaw(a, da), sine.size());
  // G.711 gives ~38 dB on a loud sine; 33 dB leaves room and still catches a wrong table.
  EXPECT_GT(SnrDb(sine, du), 33.0);
  EXPECT_GT(SnrDb(sine, da), 33.0);
  for (size_t i = 0; i < sine.size(); ++i) {
    ASSERT_LE(std::abs(du[i] - sine[i]), MaxError(sine[i], false)) << i;
    ASSERT_LE(std::abs(da[i] - sine[i]), MaxError(sine[i], true)) << i;
  }
}

TEST(CodecDecoder, SelectsByPayloadTypeNameAndRate) {
  auto pcmu = Decoder::Select(0, "PCMU", 8000);
  ASSERT_TRUE(pcmu.ok()) << pcmu.status().ToString();
  EXPECT_EQ(pcmu->encoding(), Encoding::kPcmu);
  EXPECT_TRUE(pcmu->is_audio());

  auto pcma = Decoder::Select(8, "", 0);  // static default
  ASSERT_TRUE(pcma.ok());
  EXPECT_EQ(pcma->encoding(), Encoding::kPcma);
  EXPECT_EQ(pcma->clock_rate(), 8000u);

  auto l16 = Decoder::Select(96, "l16", 16000);  // names are case-insensitive
  ASSERT_TRUE(l16.ok());
  EXPECT_EQ(l16->encoding(), Encoding::kL16);
  EXPECT_EQ(l16->clock_rate(), 16000u);

  auto l16static = Decoder::Select(11, "", 0);
  ASSERT_TRUE(l16static.ok());
  EXPECT_EQ(l16static->clock_rate(), 44100u);

  auto ev = Decoder::Select(101, "telephone-event", 8000);
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->is_audio());
}

TEST(CodecDecoder, RejectsWithNamedErrors) {
  struct Case {
    int pt;
    const char* name;
    uint32_t rate;
    uint32_t channels;
    SelectError error;
  };
  const Case cases[] = {
      {111, "opus", 48000, 2, SelectError::kUnknownEncoding},
      {96, "", 8000, 1, SelectError::kUnknownEncoding},
      {0, "PCMA", 8000, 1, SelectError::kBadPayloadType},
      {3, "PCMU", 8000, 1, SelectError::kBadPayloadType},
      {72, "PCMU", 8000, 1, SelectError::kBadPayloadType},
      {128, "PCMU", 8000, 1, SelectError::kBadPayloadType},
      {-1, "PCMU", 8000, 1, SelectError::kBadPayloadType},
      {0, "PCMU", 16000, 1, SelectError::kBadPayloadType},
      {97, "PCMU", 16000, 1, SelectError::kUnsupportedClockRate},
      {97, "L16", 96000, 1, SelectError::kUnsupportedClockRate},
      {97, "telephone-event", 4000, 1, SelectError::kUnsupportedClockRate},
      {97, "PCMA", 8000, 2, SelectError::kUnsupportedChannels},
      {97, "L16", 8000, 3, SelectError::kUnsupportedChannels},
      {97, "telephone-event", 8000, 2, SelectError::kUnsupportedChannels},
  };
  for (const Case& c : cases) {
    auto r = Decoder::Select(c.pt, c.name, c.rate, c.channels);
    ASSERT_FALSE(r.ok()) << c.pt << " " << c.name;
    EXPECT_EQ(r.status().code(), ToString(c.error)) << c.pt << " " << c.name << ": " << r.status().ToString();
  }
  EXPECT_STREQ(ToString(SelectError::kUnknownEncoding), "codec.unknown.encoding");
  EXPECT_STREQ(ToString(SelectError::kBadPayloadType), "codec.bad.payload.type");
  EXPECT_STREQ(ToString(SelectError::kUnsupportedClockRate), "codec.unsupported.clock.rate");
  EXPECT_STREQ(ToString(SelectError::kUnsupportedChannels), "codec.unsupported.channels");
  EXPECT_STREQ(ToString(DecodeError::kBadLength), "codec.bad.length");
  EXPECT_STREQ(ToString(DecodeError::kTooLong), "codec.too.long");
}

TEST(CodecDecoder, DecodesG711IntoTheCallersVector) {
  auto d = Decoder::Select(0, "PCMU", 8000).value();
  std::vector<std::byte> payload = {std::byte(0xFF), std::byte(0x80), std::byte(0x00)};
  std::vector<int16_t> out = {7};
  auto n = d.Decode(payload, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(out, (std::vector<int16_t>{7, 0, 32124, -32124}));
  EXPECT_EQ(d.SampleCount(160), 160u);
}

TEST(CodecDecoder, DecodesL16InNetworkByteOrder) {
  auto mono = Decoder::Select(96, "L16", 8000).value();
  std::vector<std::byte> p = {std::byte(0x12), std::byte(0x34), std::byte(0xFF), std::byte(0xFE)};
  std::vector<int16_t> out;
  ASSERT_TRUE(mono.Decode(p, out).ok());
  EXPECT_EQ(out, (std::vector<int16_t>{0x1234, -2}));

  auto stereo = Decoder::Select(10, "", 0).value();  // L16/44100/2 is downmixed
  out.clear();
  ASSERT_TRUE(stereo.Decode(p, out).ok());
  EXPECT_EQ(out, (std::vector<int16_t>{(0x1234 - 2) / 2}));
  EXPECT_EQ(stereo.SampleCount(8), 2u);

  p.pop_back();
  auto odd = mono.Decode(p, out);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), "codec.bad.length");

  std::vector<std::byte> huge(kMaxPayloadBytes + 2);
  EXPECT_EQ(mono.Decode(huge, out).status().code(), "codec.too.long");
}

TEST(CodecDecoder, TelephoneEventsAreParsedButNeverBecomeAudio) {
  auto d = Decoder::Select(101, "telephone-event", 8000).value();
  // Digit 5, end bit, volume 10, duration 800.
  std::vector<std::byte> p = {std::byte(5), std::byte(0x8A), std::byte(0x03), std::byte(0x20)};
  auto ev = ParseTelephoneEvent(p);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->event, 5);
  EXPECT_TRUE(ev->end);
  EXPECT_EQ(ev->volume, 10);
  EXPECT_EQ(ev->duration, 800);

  std::vector<int16_t> out;
  auto n = d.Decode(p, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.SampleCount(p.size()), 0u);

  p.pop_back();
  EXPECT_EQ(d.Decode(p, out).status().code(), "codec.bad.length");
  EXPECT_EQ(ParseTelephoneEvent({}).status().code(), "codec.bad.length");
}

}  // namespace
}  // namespace verbatim::media::codec
