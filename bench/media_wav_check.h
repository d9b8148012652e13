// The WAV checks of media_load (--verify-dir): does every recording hold
// exactly the audio that was sent? A file must be 2 channels of 16-bit PCM at
// 8 kHz, and each channel, between its first and last non-zero sample, must
// have no gap (a run of >= 80 zero samples, 10 ms), every sample the µ-law
// round trip of the tone sent on it (media_tones.h), and that tone dominant
// in every 100 ms block (Goertzel). Files of a run are also held to the span
// of the packets sent and to the call's lifetime.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "media_sip.h"
#include "media_tones.h"

namespace bench {

// What the checks found over all files; ToJson is the "verify" object of the output.
struct VerifyTotals {
  uint64_t expected = 0, checked = 0, ok = 0, missing = 0, bad_format = 0, extra_files = 0, duration_bad = 0,
           silent_channels = 0, span_bad = 0, gaps = 0, gap_samples = 0, zero_samples = 0, mismatches = 0,
           tone_blocks = 0, tone_failures = 0;
  double min_duration_ms = 1e18, max_duration_ms = 0, max_lead_ms = 0;  // lead: file audio before the first packet
  std::vector<std::string> examples;
  void Note(std::string s) {
    if (examples.size() < 8) examples.push_back(std::move(s));
  }
  boost::json::object ToJson() const;
};

// The recordings of this run: <dir>/<conversationId>/segment-1.wav of every
// call that came up, nothing else in that folder; each `packets` packets long.
VerifyTotals VerifyRun(const std::filesystem::path& dir, const std::vector<Call>& calls, int packets,
                       const Tones& tones);

// Every <dir>/*/segment-*.wav (format, gaps, tones; no expectations on length).
VerifyTotals VerifyAll(const std::filesystem::path& dir, const Tones& tones);

// At least one file expected, and every one there and clean.
bool VerifyClean(const VerifyTotals& v);

}  // namespace bench
