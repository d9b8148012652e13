#include "media_wav_check.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

namespace bench {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr int kGapSamples = 80;  // 10 ms of digital silence inside the audio = a gap

struct Wav {
  int channels = 0, rate = 0, bits = 0, format = 0;
  std::vector<int16_t> samples;  // interleaved
  uint64_t frames() const { return channels > 0 ? samples.size() / static_cast<size_t>(channels) : 0; }
};

std::optional<std::string> ReadWav(const fs::path& path, Wav& w) {  // error text, or nullopt when fine
  std::ifstream f(path, std::ios::binary);
  if (!f) return "cannot open";
  std::string b((std::istreambuf_iterator<char>(f)), {});
  auto u32 = [&](size_t o) { return static_cast<uint32_t>(static_cast<uint8_t>(b[o]) | static_cast<uint8_t>(b[o + 1]) << 8 |
                                                          static_cast<uint8_t>(b[o + 2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(b[o + 3])) << 24); };
  auto u16 = [&](size_t o) { return static_cast<uint16_t>(static_cast<uint8_t>(b[o]) | static_cast<uint8_t>(b[o + 1]) << 8); };
  if (b.size() < 44 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) return "not a RIFF/WAVE file";
  if (u32(4) != b.size() - 8) return "RIFF size " + std::to_string(u32(4)) + " vs file length " + std::to_string(b.size());
  size_t off = 12;
  bool have_fmt = false;
  while (off + 8 <= b.size()) {
    std::string id = b.substr(off, 4);
    uint32_t size = u32(off + 4);
    size_t body = off + 8;
    if (id == "fmt ") {
      if (size < 16 || body + size > b.size()) return "bad fmt chunk";
      w.format = u16(body);
      w.channels = u16(body + 2);
      w.rate = static_cast<int>(u32(body + 4));
      w.bits = u16(body + 14);
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return "data before fmt";
      if (w.format != 1 || w.bits != 16 || w.channels < 1) return "not 16-bit PCM";
      if (body + size != b.size()) return "data chunk does not end the file";
      if (size % (2 * static_cast<uint32_t>(w.channels)) != 0) return "partial frame";
      w.samples.resize(size / 2);
      std::memcpy(w.samples.data(), b.data() + body, size);  // little-endian host
      return std::nullopt;
    }
    off = body + size + (size & 1);
  }
  return "no data chunk";
}

double Goertzel(const Wav& w, int ch, int64_t from, int64_t to, int freq) {  // power of `freq` in [from, to)
  const double coeff = 2 * std::cos(2 * M_PI * freq / kRate);
  double s1 = 0, s2 = 0;
  for (int64_t i = from; i < to; ++i) {
    double s0 = w.samples[static_cast<size_t>(i * w.channels + ch)] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double n = static_cast<double>(to - from);
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

struct ChannelCheck {
  int64_t first = -1, last = -1;  // first and last non-zero sample
  uint64_t gaps = 0, gap_samples = 0, zero_samples = 0, mismatches = 0, tone_blocks = 0, tone_failures = 0;
};

// Between the first and last non-zero sample of channel `ch`: zero runs
// (>= 80 samples = a gap), samples that differ from the tone sent on this
// channel, and every 100 ms block's dominant tone (Goertzel, own vs the other).
ChannelCheck CheckChannel(const Wav& w, int ch, int tone, const Tones& tones) {
  ChannelCheck r;
  const int64_t frames = static_cast<int64_t>(w.frames());
  auto at = [&](int64_t i) { return w.samples[static_cast<size_t>(i * w.channels + ch)]; };
  for (int64_t i = 0; i < frames; ++i)
    if (at(i) != 0) {
      r.first = i;
      break;
    }
  if (r.first < 0) return r;
  for (int64_t i = frames - 1; i >= 0; --i)
    if (at(i) != 0) {
      r.last = i;
      break;
    }
  uint64_t run = 0;
  for (int64_t i = r.first; i <= r.last; ++i) {
    const int16_t v = at(i);
    if (v == 0) {
      ++r.zero_samples;
      ++run;
      continue;
    }
    if (run >= kGapSamples) {
      ++r.gaps;
      r.gap_samples += run;
    }
    run = 0;
    if (v != tones.expected[tone][static_cast<size_t>((i - r.first) % kCycleSamples)]) ++r.mismatches;
  }
  const int other = kFreqs[1 - tone];
  for (int64_t a = r.first; a + kCycleSamples <= r.last + 1; a += kCycleSamples) {
    ++r.tone_blocks;
    const double own = Goertzel(w, ch, a, a + kCycleSamples, kFreqs[tone]);
    const double rival = Goertzel(w, ch, a, a + kCycleSamples, other);
    if (!(own > 20 * rival) || own < 1e5) ++r.tone_failures;  // a 8000-amplitude sine gives ~1.6e7
  }
  return r;
}

// One recording: 2 channels at 8 kHz; per channel, the checks above. With
// `packets` > 0 also the audio span (= packets × 160 samples, ± one packet)
// and the duration (>= the media time − 20 ms, <= lifetime_ms + 20 ms).
void CheckFile(const fs::path& path, int packets, double lifetime_ms, const Tones& tones, VerifyTotals& t) {
  Wav w;
  if (auto err = ReadWav(path, w)) {
    ++t.bad_format;
    t.Note(path.string() + ": " + *err);
    return;
  }
  ++t.checked;
  bool good = true;
  if (w.channels != 2 || w.rate != kRate) {
    ++t.bad_format;
    t.Note(path.string() + ": " + std::to_string(w.channels) + " channels at " + std::to_string(w.rate) + " Hz");
    return;
  }
  const double duration_ms = static_cast<double>(w.frames()) * 1000.0 / kRate;
  t.min_duration_ms = std::min(t.min_duration_ms, duration_ms);
  t.max_duration_ms = std::max(t.max_duration_ms, duration_ms);
  if (packets > 0 && (duration_ms < packets * kPtimeMs - 20 || duration_ms > lifetime_ms + 20)) {
    ++t.duration_bad;
    good = false;
    t.Note(path.string() + ": " + std::to_string(duration_ms) + " ms long; media " + std::to_string(packets * kPtimeMs) +
           " ms, call " + std::to_string(lifetime_ms) + " ms");
  }
  for (int ch = 0; ch < 2; ++ch) {
    ChannelCheck c = CheckChannel(w, ch, ch, tones);
    if (c.first < 0) {
      ++t.silent_channels;
      good = false;
      t.Note(path.string() + ": channel " + std::to_string(ch) + " is silent");
      continue;
    }
    t.max_lead_ms = std::max(t.max_lead_ms, static_cast<double>(c.first) * 1000.0 / kRate);
    const int64_t span = c.last - c.first + 1;
    if (packets > 0 && std::llabs(span - static_cast<int64_t>(packets) * kSamples) > kSamples) {
      ++t.span_bad;
      good = false;
      t.Note(path.string() + ": channel " + std::to_string(ch) + " audio spans " + std::to_string(span) +
             " samples, sent " + std::to_string(packets * kSamples));
    }
    t.gaps += c.gaps;
    t.gap_samples += c.gap_samples;
    t.zero_samples += c.zero_samples;
    t.mismatches += c.mismatches;
    t.tone_blocks += c.tone_blocks;
    t.tone_failures += c.tone_failures;
    if (c.gaps || c.mismatches || c.tone_failures) {
      good = false;
      t.Note(path.string() + ": channel " + std::to_string(ch) + ": " + std::to_string(c.gaps) + " gaps (" +
             std::to_string(c.gap_samples) + " samples), " + std::to_string(c.mismatches) + " samples not as sent, " +
             std::to_string(c.tone_failures) + "/" + std::to_string(c.tone_blocks) + " blocks without the tone");
    }
  }
  if (good) ++t.ok;
}

}  // namespace

json::object VerifyTotals::ToJson() const {
  json::object o;
  o["files_expected"] = expected;
  o["files_checked"] = checked;
  o["files_ok"] = ok;
  o["missing"] = missing;
  o["bad_format"] = bad_format;
  o["extra_files"] = extra_files;
  o["duration_bad"] = duration_bad;
  o["silent_channels"] = silent_channels;
  o["span_bad"] = span_bad;
  o["gaps"] = gaps;
  o["gap_ms"] = static_cast<double>(gap_samples) / (kRate / 1000);
  o["zero_samples_inside"] = zero_samples;
  o["mismatched_samples"] = mismatches;
  o["tone_blocks"] = tone_blocks;
  o["tone_failures"] = tone_failures;
  o["duration_ms"] = {{"min", checked ? min_duration_ms : 0.0}, {"max", max_duration_ms}};
  o["max_silence_before_audio_ms"] = max_lead_ms;
  json::array ex;
  for (const auto& e : examples) ex.push_back(json::value(e));
  o["examples"] = std::move(ex);
  return o;
}

VerifyTotals VerifyRun(const fs::path& dir, const std::vector<Call>& calls, int packets, const Tones& tones) {
  VerifyTotals t;
  for (const Call& c : calls) {
    if (c.t_up == Clock::time_point{}) continue;  // never recorded
    ++t.expected;
    const fs::path folder = dir / c.conv_id, file = folder / "segment-1.wav";
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      ++t.missing;
      t.Note(file.string() + ": missing");
      continue;
    }
    for (const auto& e : fs::directory_iterator(folder, ec))
      if (e.path().filename() != "segment-1.wav") {
        ++t.extra_files;
        t.Note(e.path().string() + ": unexpected file");
      }
    const auto end = c.t_done != Clock::time_point{} ? c.t_done : Clock::now();
    CheckFile(file, packets, std::chrono::duration<double, std::milli>(end - c.t_invite).count(), tones, t);
  }
  return t;
}

VerifyTotals VerifyAll(const fs::path& dir, const Tones& tones) {
  VerifyTotals t;
  std::error_code ec;
  for (const auto& conv : fs::directory_iterator(dir, ec)) {
    if (!conv.is_directory()) continue;
    for (const auto& e : fs::directory_iterator(conv.path(), ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("segment-", 0) != 0) continue;
      if (!name.ends_with(".wav")) {
        ++t.extra_files;
        t.Note(e.path().string() + ": not a finished WAV");
        continue;
      }
      ++t.expected;
      CheckFile(e.path(), 0, 0, tones, t);
    }
  }
  return t;
}

bool VerifyClean(const VerifyTotals& v) {
  return v.expected > 0 && v.ok == v.expected && v.missing == 0 && v.bad_format == 0 && v.extra_files == 0 &&
         v.gaps == 0 && v.mismatches == 0 && v.tone_failures == 0;
}

}  // namespace bench
