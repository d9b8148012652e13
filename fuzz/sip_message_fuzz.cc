// libFuzzer target: SIP message parsing (datagram and stream), framing, header
// value parsers, and serialize/re-parse of whatever parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/sip/message.h"

using namespace verbatim::media::sip;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  auto frame = FrameLength(in);
  ParseOptions tcp;
  tcp.stream = true;
  if (frame.ok() && *frame) {
    // A complete frame must be no longer than the input.
    if (**frame > in.size()) __builtin_trap();
    (void)ParseMessage(in.substr(0, **frame), tcp);
  }

  auto m = ParseMessage(in);
  if (!m.ok()) return 0;
  (void)m->from_tag();
  (void)m->to_tag();
  (void)m->via_branch();
  (void)m->cseq();
  for (const Header& h : m->header_fields) {
    (void)ParseNameAddr(h.value);
    (void)ParseVia(h.value);
    (void)ParseMediaType(h.value);
  }
  // What we write we must read back, with the same start line and body.
  // Serialize may grow a message by a Content-Length line and full header names,
  // which can cross a limit the original just met; any other failure is a bug.
  auto again = ParseMessage(Serialize(*m), tcp);
  if (!again.ok()) {
    auto e = SipErrorOf(again.status());
    if (e != ParseError::kTooLarge && e != ParseError::kTooManyHeaders && e != ParseError::kHeaderTooLong) __builtin_trap();
  }
  if (again.ok() && (again->method != m->method || again->status_code != m->status_code || again->body != m->body ||
                     again->header_fields.size() > m->header_fields.size() + 1)) {
    __builtin_trap();
  }
  (void)Serialize(MakeResponse(*m, 200, "OK", "fuzz"));
  return 0;
}
