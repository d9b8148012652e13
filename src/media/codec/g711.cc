#include "media/codec/g711.h"

#include <algorithm>

namespace verbatim::media::codec {
namespace {

// Upper bounds of the 8 segments, in the encoders' reduced-precision domain.
constexpr int kMulawSegEnd[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
constexpr int kAlawSegEnd[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

int Segment(int v, const int (&ends)[8]) {
  for (int i = 0; i < 8; ++i) {
    if (v <= ends[i]) return i;
  }
  return 8;
}

}  // namespace

uint8_t LinearToMulaw(int16_t sample) {
  constexpr int kBias = 0x84;
  constexpr int kClip = 8159;
  int v = sample >> 2;  // µ-law has 14 bits of magnitude
  int mask = 0xFF;
  if (v < 0) {
    v = -v;
    mask = 0x7F;
  }
  v = std::min(v, kClip) + (kBias >> 2);
  const int seg = Segment(v, kMulawSegEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  return static_cast<uint8_t>(((seg << 4) | ((v >> (seg + 1)) & 0x0F)) ^ mask);
}

uint8_t LinearToAlaw(int16_t sample) {
  int v = sample >> 3;  // A-law has 13 bits of magnitude
  int mask = 0xD5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const int seg = Segment(v, kAlawSegEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int a = seg << 4;
  a |= seg < 2 ? (v >> 1) & 0x0F : (v >> seg) & 0x0F;
  return static_cast<uint8_t>(a ^ mask);
}

size_t DecodeMulaw(std::span<const std::byte> in, std::span<int16_t> out) {
  const size_t n = std::min(in.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = MulawToLinear(static_cast<uint8_t>(in[i]));
  return n;
}

size_t DecodeAlaw(std::span<const std::byte> in, std::span<int16_t> out) {
  const size_t n = std::min(in.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = AlawToLinear(static_cast<uint8_t>(in[i]));
  return n;
}

size_t EncodeMulaw(std::span<const int16_t> in, std::span<std::byte> out) {
  const size_t n = std::min(in.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = std::byte(LinearToMulaw(in[i]));
  return n;
}

size_t EncodeAlaw(std::span<const int16_t> in, std::span<std::byte> out) {
  const size_t n = std::min(in.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = std::byte(LinearToAlaw(in[i]));
  return n;
}

}  // namespace verbatim::media::codec
