#include "media_tones.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>

namespace bench {

namespace {

constexpr double kAmplitude = 8000;  // with this phase no sample of either tone is (or encodes to) zero,
constexpr double kPhase = 0.3;       // so a zero in the file is always silence (as tests/e2e/lib/rtp_sender.mjs)

uint8_t LinearToUlaw(int sample) {  // ITU-T G.711, as rtp_sender.mjs
  constexpr int kBias = 0x84, kClip = 32635;
  int s = std::clamp(sample, -32768, 32767);
  int sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > kClip) s = kClip;
  s += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (s & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  int mantissa = (s >> (exponent + 3)) & 0x0f;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa) & 0xff);
}

int16_t UlawToLinear(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  int sign = u & 0x80, exponent = (u >> 4) & 0x07, mantissa = u & 0x0f;
  int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>(sign ? -magnitude : magnitude);
}

}  // namespace

Tones::Tones() {
  for (int t = 0; t < 2; ++t)
    for (int n = 0; n < kCycleSamples; ++n) {
      double v = kAmplitude * std::sin(2 * M_PI * kFreqs[t] * n / kRate + kPhase);
      uint8_t u = LinearToUlaw(static_cast<int>(std::lround(v)));
      payload[t][n / kSamples][n % kSamples] = u;
      expected[t][n] = UlawToLinear(u);
      if (expected[t][n] == 0) {
        std::cerr << "media_load: tone sample " << n << " decodes to zero\n";
        std::abort();
      }
    }
}

}  // namespace bench
