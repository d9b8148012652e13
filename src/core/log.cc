#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"

namespace verbatim {
namespace {
spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}
const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}
}  // namespace

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("verbatim");
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::info);
}

bool LogEnabled(LogLevel level) { return spdlog::should_log(ToSpd(level)); }

void Log(LogLevel level, std::string_view msg, json::object fields) {
  if (!LogEnabled(level)) return;
  json::object line;
  line["ts"] = FormatRfc3339(SystemClock::Instance().Now());
  line["level"] = Name(level);
  line["msg"] = msg;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  spdlog::log(ToSpd(level), "{}", json::serialize(line));
}

}  // namespace verbatim
