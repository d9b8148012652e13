// G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711, to/from 16-bit linear PCM.
//
// Decoding is a 256-entry table built at compile time (the hot path: one lookup
// per sample). Encoding is computed (it only generates test signals and tools).
// Linear values are scaled like the classic Sun reference code: µ-law spans
// ±32124, A-law ±32256.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace verbatim::media::codec {

namespace g711_internal {

constexpr int16_t MulawToLinearSlow(uint8_t code) {
  const int u = static_cast<uint8_t>(~code);
  int t = ((u & 0x0F) << 3) + 0x84;  // mantissa plus bias
  t <<= (u & 0x70) >> 4;             // segment
  return static_cast<int16_t>((u & 0x80) != 0 ? 0x84 - t : t - 0x84);
}

constexpr int16_t AlawToLinearSlow(uint8_t code) {
  const int a = code ^ 0x55;  // even bits are inverted on the wire
  int t = (a & 0x0F) << 4;
  const int seg = (a & 0x70) >> 4;
  if (seg == 0) {
    t += 8;
  } else {
    t += 0x108;
    t <<= seg - 1;
  }
  return static_cast<int16_t>((a & 0x80) != 0 ? t : -t);
}

template <int16_t (*F)(uint8_t)>
constexpr std::array<int16_t, 256> MakeTable() {
  std::array<int16_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[static_cast<size_t>(i)] = F(static_cast<uint8_t>(i));
  return t;
}

inline constexpr std::array<int16_t, 256> kMulaw = MakeTable<MulawToLinearSlow>();
inline constexpr std::array<int16_t, 256> kAlaw = MakeTable<AlawToLinearSlow>();

}  // namespace g711_internal

inline int16_t MulawToLinear(uint8_t code) { return g711_internal::kMulaw[code]; }
inline int16_t AlawToLinear(uint8_t code) { return g711_internal::kAlaw[code]; }
uint8_t LinearToMulaw(int16_t sample);
uint8_t LinearToAlaw(int16_t sample);

// Bulk forms. Decoders write min(in.size(), out.size()) samples and return that count.
size_t DecodeMulaw(std::span<const std::byte> in, std::span<int16_t> out);
size_t DecodeAlaw(std::span<const std::byte> in, std::span<int16_t> out);
size_t EncodeMulaw(std::span<const int16_t> in, std::span<std::byte> out);
size_t EncodeAlaw(std::span<const int16_t> in, std::span<std::byte> out);

}  // namespace verbatim::media::codec
