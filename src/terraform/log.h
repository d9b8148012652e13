// Provider logs: one hclog-style JSON line per event on stderr, which
// Terraform's plugin host reads and shows at that level (TF_LOG=debug,
// TF_LOG_PROVIDER=...). stdout belongs to the plugin handshake. Never pass a
// secret, token or state value here: ids, paths, statuses and durations only.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace verbatim::terraform {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

void Log(LogLevel level, std::string_view message,
         std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

}  // namespace verbatim::terraform
