// Time: an injected Clock so that logic never calls now() itself (tests use
// FakeClock), plus RFC 3339 formatting/parsing used in every JSON body.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace verbatim {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

// Thread-safe settable clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint t = TimePoint(std::chrono::seconds(1'700'000'000))) : ns_(t.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(TimePoint::duration(ns_.load())); }
  void Set(TimePoint t) { ns_ = t.time_since_epoch().count(); }
  void Advance(std::chrono::nanoseconds d) { ns_ += std::chrono::duration_cast<TimePoint::duration>(d).count(); }

 private:
  std::atomic<TimePoint::duration::rep> ns_;
};

int64_t ToUnixSeconds(TimePoint t);
int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixSeconds(int64_t s);
TimePoint FromUnixMillis(int64_t ms);

// "2026-11-25T18:52:43.123Z" (UTC, millisecond precision).
std::string FormatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" and "+HH:MM"/"-HH:MM" offsets.
std::optional<TimePoint> ParseRfc3339(std::string_view s);

}  // namespace verbatim
