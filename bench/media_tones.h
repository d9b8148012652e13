// The audio media_load sends and expects back: PCMU at 8 kHz in 20 ms packets,
// a 440 Hz tone from the caller (channel 0 of the recording) and 880 Hz from
// the agent (channel 1). The RTP sender and the WAV checks both take it from
// here, so a file can be compared with what was sent sample for sample.
#pragma once

#include <array>
#include <cstdint>

namespace bench {

inline constexpr int kRate = 8000;
inline constexpr int kPtimeMs = 20;
inline constexpr int kSamples = 160;          // per packet
inline constexpr int kCyclePackets = 5;       // 440 and 880 Hz repeat every 800 samples = 5 packets
inline constexpr int kCycleSamples = kCyclePackets * kSamples;
inline constexpr int kFreqs[2] = {440, 880};  // channel 0 caller, channel 1 agent

// One cycle of each tone, computed once. No sample of either tone encodes to
// zero (the constructor aborts otherwise), so a zero in a file is always silence.
struct Tones {
  // payload[tone][packet % 5]: what is sent; expected[tone][sample % 800]: what the file must hold.
  std::array<std::array<std::array<uint8_t, kSamples>, kCyclePackets>, 2> payload{};
  std::array<std::array<int16_t, kCycleSamples>, 2> expected{};
  Tones();
};

}  // namespace bench
