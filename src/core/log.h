// Structured logging: one JSON object per line, {"ts","level","msg",...fields}.
// Callers pass fields as JSON so values are always escaped; never pass tokens,
// secrets or Authorization headers.
#pragma once

#include <string_view>

#include "core/json.h"

namespace verbatim {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Configures spdlog for JSON lines on stderr; `level` is debug|info|warn|error.
void InitLogging(std::string_view level);
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view msg, json::object fields = {});

}  // namespace verbatim
