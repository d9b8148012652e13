// libFuzzer target: RFC 4028 Session-Expires / Min-SE parsing and the UAS's
// negotiation over a request carrying the input in those headers. Invariants:
// what parses formats back to something that parses to the same interval, and
// an accepted timer is never below our Min-SE.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "media/sip/message.h"
#include "media/sip/session_timer.h"
#include "media/siprec/invite_checks.h"

using namespace verbatim::media::sip;     // NOLINT: fuzz harness
using namespace verbatim::media::siprec;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto se = ParseSessionExpires(in);
  if (se.ok()) {
    auto again = ParseSessionExpires(FormatSessionExpires(*se));
    if (!again.ok() || again->seconds != se->seconds || again->refresher != se->refresher) __builtin_trap();
  }
  (void)ParseMinSe(in);

  std::string value(in.substr(0, 1024));
  for (char& c : value)
    if (c == '\r' || c == '\n') c = ' ';
  const size_t cut = value.find('|');
  const std::string se_value = value.substr(0, cut);
  const std::string min_value = cut == std::string::npos ? "90" : value.substr(cut + 1);
  auto m = ParseMessage(
      "INVITE sip:srs@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
      "To: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nSupported: timer\r\nSession-Expires: " +
      se_value + "\r\nMin-SE: " + min_value + "\r\nContent-Length: 0\r\n\r\n");
  if (m.ok()) {
    TimerDecision d = NegotiateSessionTimer(*m, 90);
    if (d.kind == TimerDecision::Kind::kAccept && d.interval < 90) __builtin_trap();
    if (d.kind == TimerDecision::Kind::kTooSmall && d.min_se < 90) __builtin_trap();
  }
  return 0;
}
