// Audio analysis helpers for media tests (header-only; the e2e tests reuse the
// algorithm): sine generation, Goertzel tone power, digital-silence checks,
// and a self-deleting temporary directory.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace verbatim::media::testing {

// `n` samples of a sine at `freq` Hz, starting at sample index `offset` (so
// consecutive calls continue the same wave).
inline std::vector<int16_t> Sine(double freq, uint32_t rate, size_t n, double amplitude = 8000.0,
                                 int64_t offset = 0) {
  std::vector<int16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(offset + static_cast<int64_t>(i)) / rate;
    out[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * freq * t)));
  }
  return out;
}

// Goertzel: power of `freq` in `x`, normalized so that a full-scale-relative
// sine of amplitude A gives ≈ A²/4 regardless of the block length.
inline double GoertzelPower(std::span<const int16_t> x, double freq, uint32_t rate) {
  if (x.empty()) return 0.0;
  const double w = 2.0 * std::numbers::pi * freq / rate;
  const double coeff = 2.0 * std::cos(w);
  double s1 = 0.0, s2 = 0.0;
  for (int16_t v : x) {
    const double s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const double n = static_cast<double>(x.size());
  return power / (n * n);
}

inline double Rms(std::span<const int16_t> x) {
  if (x.empty()) return 0.0;
  double sum = 0.0;
  for (int16_t v : x) sum += static_cast<double>(v) * v;
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// True if the block is dominated by `freq`: its Goertzel power is at least
// `ratio` times that of every other probe frequency, and the block is not quiet.
inline bool HasTone(std::span<const int16_t> x, double freq, uint32_t rate, double ratio = 20.0) {
  const double p = GoertzelPower(x, freq, rate);
  if (Rms(x) < 100.0) return false;
  for (double other : {300.0, 440.0, 660.0, 880.0, 1000.0, 1320.0}) {
    if (std::abs(other - freq) < 1.0) continue;
    if (GoertzelPower(x, other, rate) * ratio > p) return false;
  }
  return true;
}

inline bool IsDigitalSilence(std::span<const int16_t> x) {
  for (int16_t v : x) {
    if (v != 0) return false;
  }
  return true;
}

// One channel out of interleaved frames.
inline std::vector<int16_t> Deinterleave(std::span<const int16_t> frames, size_t channels, size_t channel) {
  std::vector<int16_t> out;
  out.reserve(frames.size() / channels);
  for (size_t i = channel; i < frames.size(); i += channels) out.push_back(frames[i]);
  return out;
}

// Signal-to-noise ratio in dB of `decoded` against `reference`.
inline double SnrDb(std::span<const int16_t> reference, std::span<const int16_t> decoded) {
  double sig = 0.0, noise = 0.0;
  for (size_t i = 0; i < reference.size() && i < decoded.size(); ++i) {
    sig += static_cast<double>(reference[i]) * reference[i];
    const double e = static_cast<double>(reference[i]) - decoded[i];
    noise += e * e;
  }
  return 10.0 * std::log10(sig / std::max(noise, 1e-9));
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-media-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace verbatim::media::testing
