#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

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
// spdlog's stderr sink fflush()es every line (one write(2) per request line):
// this one buffers 64 KB and is flushed on warnings and at least every second.
class BufferedStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BufferedStderrSink() : file_(fdopen(dup(2), "w")) { std::setvbuf(file_, nullptr, _IOFBF, 1 << 16); }
  ~BufferedStderrSink() override { std::fclose(file_); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t out;
    formatter_->format(msg, out);
    std::fwrite(out.data(), 1, out.size(), file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  FILE* file_;
};

}  // namespace

void InitLogging(std::string_view level) {
  auto logger = std::make_shared<spdlog::logger>("verbatim", std::make_shared<BufferedStderrSink>());
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::warn);
  spdlog::flush_every(std::chrono::seconds(1));
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
