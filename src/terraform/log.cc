#include "terraform/log.h"

#include <cstdio>
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

}  // namespace

void Log(LogLevel level, std::string_view message,
         std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  json::object o;
  o["@level"] = Name(level);
  o["@message"] = ToValidUtf8(std::string(message));
  o["@module"] = "verbatim";
  for (const auto& [k, v] : fields) o[k] = ToValidUtf8(v);
  std::string line = json::serialize(o) + "\n";
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace verbatim::terraform
