#include "media/sip/session_timer.h"

#include "media/sip/header_values.h"
#include "media/sip/text.h"

namespace verbatim::media::sip {
namespace {

constexpr uint64_t kMaxInterval = 0x7fffffff;

Status Fail(SessionTimerError e, std::string_view detail) { return ParseFailure("session.timer", e, detail); }

// "<delta-seconds>[;params]" → the number and the parameter text.
Result<uint32_t> Interval(std::string_view value, std::string_view& params) {
  std::string_view s = Trim(value);
  size_t n = 0;
  while (n < s.size() && IsDigit(s[n])) ++n;
  auto v = ParseDecimal(s.substr(0, n), kMaxInterval);
  if (!v) return Fail(SessionTimerError::kBadInterval, "expected delta-seconds (1 to 2147483647)");
  params = Trim(s.substr(n));
  if (!params.empty() && params.front() != ';') return Fail(SessionTimerError::kBadInterval, "junk after the number");
  return static_cast<uint32_t>(*v);
}

}  // namespace

const char* ToString(Refresher r) {
  switch (r) {
    case Refresher::kUac:
      return "uac";
    case Refresher::kUas:
      return "uas";
  }
  return "?";
}

const char* ToString(SessionTimerError e) {
  switch (e) {
    case SessionTimerError::kBadInterval:
      return "bad interval";
    case SessionTimerError::kBadRefresher:
      return "bad refresher";
    case SessionTimerError::kBadParams:
      return "bad params";
  }
  return "?";
}

std::optional<SessionTimerError> SessionTimerErrorOf(const Status& s) {
  return ErrorFromStatus<SessionTimerError>("session.timer", s);
}

Result<SessionExpires> ParseSessionExpires(std::string_view value) {
  std::string_view params_text;
  auto seconds = Interval(value, params_text);
  if (!seconds.ok()) return seconds.status();
  SessionExpires se;
  se.seconds = *seconds;
  if (params_text.empty()) return se;
  auto params = ParseParams(params_text);
  if (!params.ok()) return Fail(SessionTimerError::kBadParams, "malformed parameters");
  if (auto r = FindParam(*params, "refresher")) {
    if (IEquals(*r, "uac"))
      se.refresher = Refresher::kUac;
    else if (IEquals(*r, "uas"))
      se.refresher = Refresher::kUas;
    else
      return Fail(SessionTimerError::kBadRefresher, "refresher must be uac or uas");
  }
  return se;
}

Result<uint32_t> ParseMinSe(std::string_view value) {
  std::string_view params_text;
  auto seconds = Interval(value, params_text);
  if (!seconds.ok()) return seconds.status();
  if (!params_text.empty() && !ParseParams(params_text).ok())
    return Fail(SessionTimerError::kBadParams, "malformed parameters");
  return *seconds;
}

std::string FormatSessionExpires(const SessionExpires& se) {
  std::string out = std::to_string(se.seconds);
  if (se.refresher) out += std::string(";refresher=") + ToString(*se.refresher);
  return out;
}

}  // namespace verbatim::media::sip
