// RFC 4028 session timer header values: Session-Expires ("1800;refresher=uac",
// compact form "x") and Min-SE ("90"). Delta-seconds are bounded to 2^31-1
// (RFC 3261 §25.1 leaves them open; nothing sane is longer). Unknown
// parameters are extensions and ignored; a refresher other than uac/uas is an
// error, as is a missing or non-numeric interval.
// Thread-safety: plain values; all functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace verbatim::media::sip {

enum class Refresher { kUac, kUas };
const char* ToString(Refresher r);  // "uac" | "uas"

enum class SessionTimerError {
  kBadInterval,   // not 1 to 10 decimal digits, or over 2^31-1
  kBadRefresher,  // refresher= neither uac nor uas
  kBadParams,     // the parameters after the interval do not parse
};
const char* ToString(SessionTimerError e);  // "bad interval"; "?" past the last value
// The Status code is "session.timer." + ToString with dots.
std::optional<SessionTimerError> SessionTimerErrorOf(const Status& s);

struct SessionExpires {
  uint32_t seconds = 0;
  std::optional<Refresher> refresher;  // absent: the UAS chooses (RFC 4028 §9)
};
Result<SessionExpires> ParseSessionExpires(std::string_view value);
Result<uint32_t> ParseMinSe(std::string_view value);

// The header value we send: "1800;refresher=uac".
std::string FormatSessionExpires(const SessionExpires& se);

}  // namespace verbatim::media::sip
