// Payload decoders chosen by (payload type, encoding name, clock rate, channels)
// as negotiated in SDP: PCMU, PCMA, L16 (RFC 3551 §4.5.11, network byte order)
// and RFC 4733 telephone-event, which is recognised only so that it is never
// written as audio (is_audio() == false, Decode appends nothing).
//
// A Decoder is a small immutable value; Decode is thread-compatible and does not
// allocate beyond growing the caller's output vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim::media::codec {

enum class Encoding { kPcmu, kPcma, kL16, kTelephoneEvent };
const char* ToString(Encoding e);  // "PCMU" | "PCMA" | "L16" | "telephone-event"

enum class SelectError {
  kUnknownEncoding,      // name not one we decode (Opus, G.729, ...)
  kBadPayloadType,       // > 127, or a static type (0..95) whose RFC 3551 meaning differs
  kUnsupportedClockRate, // G.711 other than 8000; L16/events outside 8000..48000
  kUnsupportedChannels,  // G.711/events other than 1; L16 other than 1 or 2
};
const char* ToString(SelectError e);  // "codec.unknown.encoding", ...

enum class DecodeError {
  kBadLength,  // L16: not a whole number of frames; event: not a positive multiple of 4 bytes
  kTooLong,    // more than kMaxPayloadBytes
};
const char* ToString(DecodeError e);  // "codec.bad.length", ...

// Larger than any UDP datagram: a bound, not a tuning knob.
inline constexpr size_t kMaxPayloadBytes = 65536;

// One RFC 4733 §2.3 event block (4 bytes).
struct TelephoneEvent {
  uint8_t event = 0;      // 0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash...
  bool end = false;       // E bit
  uint8_t volume = 0;     // 0..63, -dBm0
  uint16_t duration = 0;  // in timestamp units
};
// Parses the first event block (a payload may carry several, RFC 4733 §2.5.1.5).
Result<TelephoneEvent> ParseTelephoneEvent(std::span<const std::byte> payload);

class Decoder {
 public:
  // name is matched case-insensitively (SDP rtpmap). An empty name with a static
  // payload type (0, 8, 10, 11) selects that type's RFC 3551 default, and then a
  // clock_rate of 0 means its default. channels 0 = unspecified: the static
  // type's count, else 1 (an rtpmap without channels).
  static Result<Decoder> Select(int payload_type, std::string_view encoding_name,
                                uint32_t clock_rate, uint32_t channels = 0);

  Encoding encoding() const { return encoding_; }
  uint8_t payload_type() const { return payload_type_; }
  uint32_t clock_rate() const { return clock_rate_; }
  uint32_t channels() const { return channels_; }
  bool is_audio() const { return encoding_ != Encoding::kTelephoneEvent; }

  // Mono samples (= timestamp units) the payload decodes to; 0 for events.
  size_t SampleCount(size_t payload_bytes) const;
  // Appends mono samples to `out` (stereo L16 is downmixed); returns how many.
  Result<size_t> Decode(std::span<const std::byte> payload, std::vector<int16_t>& out) const;

 private:
  Decoder(Encoding e, uint8_t pt, uint32_t rate, uint32_t channels)
      : encoding_(e), payload_type_(pt), clock_rate_(rate), channels_(channels) {}

  Encoding encoding_;
  uint8_t payload_type_;
  uint32_t clock_rate_;
  uint32_t channels_;
};

}  // namespace verbatim::media::codec
