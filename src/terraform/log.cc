#include "terraform/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "core/json.h"

namespace verbatim::terraform {
namespace {

const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// hclog's JSON time layout, which the plugin host parses strictly:
// 2006-01-02T15:04:05.000000Z07:00 (always UTC here).
std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1'000'000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  return buf;
}

}  // namespace

void Log(LogLevel level, std::string_view message,
         std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  json::object o;
  o["@level"] = Name(level);
  o["@message"] = ToValidUtf8(std::string(message));
  o["@timestamp"] = Timestamp();
  for (const auto& [k, v] : fields) o[k] = ToValidUtf8(v);
  std::string line = json::serialize(o) + "\n";
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace verbatim::terraform
