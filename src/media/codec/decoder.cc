#include "media/codec/decoder.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "media/codec/g711.h"

namespace verbatim::media::codec {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<Encoding> EncodingByName(std::string_view name) {
  if (EqualsNoCase(name, "PCMU")) return Encoding::kPcmu;
  if (EqualsNoCase(name, "PCMA")) return Encoding::kPcma;
  if (EqualsNoCase(name, "L16")) return Encoding::kL16;
  if (EqualsNoCase(name, "telephone-event")) return Encoding::kTelephoneEvent;
  return std::nullopt;
}

// RFC 3551 table 4/5 static assignments we decode.
struct StaticType {
  int pt;
  Encoding encoding;
  uint32_t rate;
  uint32_t channels;
};
constexpr StaticType kStatic[] = {
    {0, Encoding::kPcmu, 8000, 1},
    {8, Encoding::kPcma, 8000, 1},
    {10, Encoding::kL16, 44100, 2},
    {11, Encoding::kL16, 44100, 1},
};

Status Fail(SelectError e, std::string msg) { return Status::InvalidArgument(ToString(e), std::move(msg)); }

}  // namespace

const char* ToString(Encoding e) {
  switch (e) {
    case Encoding::kPcmu: return "PCMU";
    case Encoding::kPcma: return "PCMA";
    case Encoding::kL16: return "L16";
    case Encoding::kTelephoneEvent: return "telephone-event";
  }
  return "unknown";
}

const char* ToString(SelectError e) {
  switch (e) {
    case SelectError::kUnknownEncoding: return "codec.unknown.encoding";
    case SelectError::kBadPayloadType: return "codec.bad.payload.type";
    case SelectError::kUnsupportedClockRate: return "codec.unsupported.clock.rate";
    case SelectError::kUnsupportedChannels: return "codec.unsupported.channels";
  }
  return "codec.unknown";
}

const char* ToString(DecodeError e) {
  switch (e) {
    case DecodeError::kBadLength: return "codec.bad.length";
    case DecodeError::kTooLong: return "codec.too.long";
  }
  return "codec.unknown";
}

Result<TelephoneEvent> ParseTelephoneEvent(std::span<const std::byte> p) {
  if (p.size() < 4 || p.size() % 4 != 0) {
    return Status::InvalidArgument(ToString(DecodeError::kBadLength), "telephone-event payload must be 4*n bytes");
  }
  TelephoneEvent ev;
  ev.event = static_cast<uint8_t>(p[0]);
  ev.end = (static_cast<uint8_t>(p[1]) & 0x80) != 0;
  ev.volume = static_cast<uint8_t>(p[1]) & 0x3F;
  ev.duration = static_cast<uint16_t>(static_cast<uint8_t>(p[2]) << 8 | static_cast<uint8_t>(p[3]));
  return ev;
}

Result<Decoder> Decoder::Select(int pt, std::string_view name, uint32_t rate, uint32_t channels) {
  if (pt < 0 || pt > 127) return Fail(SelectError::kBadPayloadType, "payload type must be 0..127");
  const StaticType* fixed = nullptr;
  for (const StaticType& s : kStatic) {
    if (s.pt == pt) fixed = &s;
  }

  std::optional<Encoding> enc;
  if (fixed != nullptr && channels == 0) channels = fixed->channels;
  if (name.empty() && fixed != nullptr) {
    enc = fixed->encoding;
    if (rate == 0) rate = fixed->rate;
  } else {
    enc = EncodingByName(name);
    if (!enc) return Fail(SelectError::kUnknownEncoding, "unsupported encoding '" + std::string(name) + "'");
  }
  if (channels == 0) channels = 1;  // rtpmap without channels means one

  // Static types keep their RFC 3551 meaning; 72..76 collide with RTCP under rtcp-mux
  // (RFC 5761 §4); other static numbers belong to codecs we do not decode.
  if (fixed != nullptr) {
    if (fixed->encoding != *enc || fixed->rate != rate || fixed->channels != channels) {
      return Fail(SelectError::kBadPayloadType, "static payload type " + std::to_string(pt) + " is " +
                                                    ToString(fixed->encoding) + "/" + std::to_string(fixed->rate));
    }
  } else if (pt < 35 || (pt >= 72 && pt <= 76)) {
    return Fail(SelectError::kBadPayloadType, "payload type " + std::to_string(pt) + " is reserved or static");
  }

  switch (*enc) {
    case Encoding::kPcmu:
    case Encoding::kPcma:
      if (rate != 8000) return Fail(SelectError::kUnsupportedClockRate, "G.711 runs at 8000 Hz");
      if (channels != 1) return Fail(SelectError::kUnsupportedChannels, "G.711 is mono");
      break;
    case Encoding::kL16:
      if (rate < 8000 || rate > 48000) return Fail(SelectError::kUnsupportedClockRate, "L16 needs 8000..48000 Hz");
      if (channels != 1 && channels != 2) return Fail(SelectError::kUnsupportedChannels, "L16 needs 1 or 2 channels");
      break;
    case Encoding::kTelephoneEvent:
      if (rate < 8000 || rate > 48000) {
        return Fail(SelectError::kUnsupportedClockRate, "telephone-event needs 8000..48000 Hz");
      }
      if (channels != 1) return Fail(SelectError::kUnsupportedChannels, "telephone-event is mono");
      break;
  }
  return Decoder(*enc, static_cast<uint8_t>(pt), rate, channels);
}

size_t Decoder::SampleCount(size_t bytes) const {
  switch (encoding_) {
    case Encoding::kPcmu:
    case Encoding::kPcma: return bytes;
    case Encoding::kL16: return bytes / (2 * channels_);
    case Encoding::kTelephoneEvent: return 0;
  }
  return 0;
}

Result<size_t> Decoder::Decode(std::span<const std::byte> payload, std::vector<int16_t>& out) const {
  if (payload.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument(ToString(DecodeError::kTooLong), "payload longer than 64 KiB");
  }
  const size_t base = out.size();
  switch (encoding_) {
    case Encoding::kPcmu:
      out.resize(base + payload.size());
      return DecodeMulaw(payload, std::span(out).subspan(base));
    case Encoding::kPcma:
      out.resize(base + payload.size());
      return DecodeAlaw(payload, std::span(out).subspan(base));
    case Encoding::kL16: {
      const size_t frame = 2 * channels_;
      if (payload.size() % frame != 0) {
        return Status::InvalidArgument(ToString(DecodeError::kBadLength), "L16 payload is not whole frames");
      }
      const size_t n = payload.size() / frame;
      out.resize(base + n);
      for (size_t i = 0; i < n; ++i) {
        int32_t sum = 0;
        for (size_t c = 0; c < channels_; ++c) {
          const size_t at = i * frame + c * 2;
          sum += static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint8_t>(payload[at]) << 8 |
                                                            static_cast<uint8_t>(payload[at + 1])));
        }
        out[base + i] = static_cast<int16_t>(sum / static_cast<int32_t>(channels_));
      }
      return n;
    }
    case Encoding::kTelephoneEvent: {
      // Validated so a malformed event is counted, but never turned into samples.
      Result<TelephoneEvent> ev = ParseTelephoneEvent(payload);
      if (!ev.ok()) return ev.status();
      return size_t{0};
    }
  }
  return size_t{0};
}

}  // namespace verbatim::media::codec
