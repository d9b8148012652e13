// RTP fixed header (RFC 3550 §5.1) parser and builder.
//
// ParsePacket takes untrusted datagram bytes and returns either a Packet whose
// spans point into those bytes (valid while they are) or the named reason it was
// rejected. It never reads past the input, never allocates and never crashes.
// RTCP multiplexed on the RTP port (RFC 5761 §4) is reported as kRtcp so the
// caller drops and counts it instead of decoding it as audio.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace verbatim::media::rtp {

enum class ParseError {
  kTooShort,      // fewer bytes than the fixed header (12, or 8 for RTCP)
  kBadVersion,    // V != 2
  kBadCsrc,       // CSRC list runs past the end of the datagram
  kBadExtension,  // extension header or its length runs past the end
  kBadPadding,    // P set but pad count is 0 or larger than what follows the header
  kRtcp,          // an RTCP packet (rtcp-mux): not an error of the sender, just not RTP
};

// "rtp.too.short", "rtp.bad.version", ... ; stable, tests pin them.
const char* ToString(ParseError e);

inline constexpr size_t kFixedHeaderSize = 12;
inline constexpr size_t kMaxCsrc = 15;

struct Packet {
  bool marker = false;
  uint8_t payload_type = 0;  // 0..127
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  std::array<uint32_t, kMaxCsrc> csrc{};
  bool has_extension = false;
  uint16_t extension_profile = 0;              // "defined by profile" (e.g. 0xBEDE)
  std::span<const std::byte> extension_data;   // the extension words, without its 4-byte header
  uint8_t padding = 0;                         // pad bytes removed from the end (incl. the count)
  std::span<const std::byte> payload;
};

// Packet or the reason there is none. Not Result<Packet>: this runs once per
// datagram, and the enum lets the caller count rejects without string compares.
class ParseResult {
 public:
  ParseResult(const Packet& p) : packet_(p), ok_(true) {}          // NOLINT: implicit by design
  ParseResult(ParseError e) : error_(e), ok_(false) {}             // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  ParseError error() const { return error_; }  // meaningful only when !ok()
  const Packet& value() const { return packet_; }
  const Packet& operator*() const { return packet_; }
  const Packet* operator->() const { return &packet_; }
  // InvalidArgument with code ToString(error()) for callers that propagate.
  Status status() const;

 private:
  Packet packet_;
  ParseError error_ = ParseError::kTooShort;
  bool ok_;
};

// True when the datagram is RTCP by the RFC 5761 §4 rule: version 2 and the
// second octet in 192..223 (RTCP packet types; RTP PT 64..95 with marker).
bool IsRtcp(std::span<const std::byte> datagram);

ParseResult ParsePacket(std::span<const std::byte> datagram);

// Everything BuildPacket needs; defaults give a minimal valid packet.
struct PacketSpec {
  bool marker = false;
  uint8_t payload_type = 0;  // low 7 bits used
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::vector<uint32_t> csrc;  // at most 15 are written
  bool has_extension = false;
  uint16_t extension_profile = 0;
  std::vector<std::byte> extension_data;  // zero-padded to a multiple of 4
  std::vector<std::byte> payload;
  uint8_t padding = 0;  // 0 = P bit clear; else total pad bytes incl. the count byte
};

// Serializer for tests and tools (the recorder never sends RTP).
std::vector<std::byte> BuildPacket(const PacketSpec& spec);

}  // namespace verbatim::media::rtp
