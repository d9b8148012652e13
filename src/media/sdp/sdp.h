// SDP (RFC 8866, formerly 4566) for the recording server: parse an offer, pick
// a codec per stream, build the recvonly answer (RFC 3264).
//
// Modelled: v o s c t, m= sections with per-media c=, a=rtpmap, a=fmtp, the
// direction attributes (session default, media override), a=label (RFC 4574,
// ties streams to SIPREC metadata), a=ptime, a=rtcp; other a= lines are kept
// as Attributes; i u e p b z k r lines are accepted and dropped.
// Limits: 64 KiB, 1000 lines, 4 KiB per line, 64 media sections; CRLF or LF.
// Thread-safety: plain values; all functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim::media::sdp {

inline constexpr size_t kMaxSdpBytes = 64 * 1024;
inline constexpr size_t kMaxLines = 1000;
inline constexpr size_t kMaxLineBytes = 4096;
inline constexpr size_t kMaxMediaSections = 64;

enum class ParseError {
  kEmpty,              // no lines
  kTooLarge,           // over 64 KiB
  kTooManyLines,       // over 1000 lines
  kLineTooLong,        // a line over 4 KiB
  kBadLine,            // not "<letter>=<value>", control characters, bad t=
  kBadVersion,         // first line is not v=0
  kMissingField,       // no o= or no s=
  kBadOrigin,          // o= without its six fields
  kBadConnection,      // c= without "IN IP4|IP6 <address>"
  kMissingConnection,  // an active m= section with no c= at either level
  kBadMedia,           // m= malformed: port, proto or payload types
  kTooManyMedia,       // over 64 m= sections
  kBadAttribute,       // malformed a=rtpmap / a=fmtp / a=ptime / a=label
};
const char* ToString(ParseError e);  // "bad media"; "?" past the last value
// The Status code is "sdp." + ToString with dots ("sdp.bad.media").
std::optional<ParseError> SdpErrorOf(const Status& s);

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
const char* ToString(Direction d);  // the attribute name: "sendrecv", ...

struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
};

struct Connection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";  // "IP4" | "IP6"
  std::string address;            // may carry "/ttl" for multicast, kept as sent
};

struct Attribute {
  std::string name;
  std::string value;  // empty for a flag attribute
};

// One payload type of an RTP m= line, resolved from a=rtpmap or the static
// table of RFC 3551. `encoding` is empty when neither names it.
struct Codec {
  uint8_t payload_type = 0;
  std::string encoding;     // as sent: "PCMU", "L16", "telephone-event"
  uint32_t clock_rate = 0;  // Hz
  uint32_t channels = 1;
  std::string fmtp;         // a=fmtp parameters, if any

  bool operator==(const Codec&) const = default;
};

struct MediaDescription {
  std::string media = "audio";
  uint16_t port = 0;  // 0 = rejected / disabled stream
  uint16_t port_count = 1;
  std::string proto = "RTP/AVP";
  std::vector<std::string> formats;      // as on the m= line
  std::vector<Codec> codecs;             // RTP protos: one per format, in order
  std::optional<Connection> connection;  // media-level c=
  Direction direction = Direction::kSendRecv;  // effective: media, else session, else sendrecv
  std::optional<std::string> label;      // RFC 4574
  std::optional<uint32_t> ptime;         // ms
  std::optional<std::string> rtcp;       // a=rtcp value, e.g. "53021 IN IP4 192.0.2.1"
  std::vector<Attribute> attributes;     // every other a= line, in order

  bool is_rtp() const { return proto.find("RTP/") != std::string::npos; }
  const Codec* FindCodec(uint8_t payload_type) const;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::optional<Connection> connection;  // session-level c=
  std::string timing = "0 0";            // t= value
  std::optional<Direction> direction;    // session-level direction attribute
  std::vector<Attribute> attributes;     // other session-level a= lines
  std::vector<MediaDescription> media;

  // The c= that applies to `m`: its own, else the session's; nullptr if none.
  const Connection* ConnectionFor(const MediaDescription& m) const;
};

struct ParseOptions {
  // RFC 8866 §5.7 requires a c= for every active m= section. A recorder takes
  // offers without one (OpenSIPS sends them) and falls back to the address
  // the signalling came from.
  bool require_connection = true;
};
Result<SessionDescription> ParseSdp(std::string_view text, const ParseOptions& options = {});
// CRLF line ends; rtpmap written for every named codec. CR/LF inside values is
// replaced by a space.
std::string Serialize(const SessionDescription& sdp);

// RFC 3551 static audio payload types (0 PCMU/8000, 8 PCMA/8000, 10 L16/44100/2,
// 11 L16/44100, ...); nullopt for dynamic or unassigned ones.
std::optional<Codec> StaticPayloadType(uint8_t payload_type);
bool IsTelephoneEvent(const Codec& c);  // RFC 4733 DTMF events

// Entries are "ENC" or "ENC/rate", matched case-insensitively, best first.
inline constexpr std::array<std::string_view, 3> kDefaultCodecPreference = {"PCMU", "PCMA", "L16"};

// The offered codec we record: the first preference entry any offered mono
// codec matches (offer order breaks ties). nullopt if none fits.
std::optional<Codec> ChooseCodec(const MediaDescription& offer,
                                 std::span<const std::string_view> preference = kDefaultCodecPreference);
// The offered telephone-event at `clock_rate` (RFC 4733 §2.5.1.2 requires the
// rate of the audio codec), if any.
std::optional<Codec> FindTelephoneEvent(const MediaDescription& offer, uint32_t clock_rate);

struct AnswerOptions {
  std::string address;            // our media address
  std::string addr_type = "IP4";  // "IP4" | "IP6"
  std::string origin_username = "verbatim";
  std::string session_id = "0";   // keep per dialog (RFC 3264 §8)
  uint64_t session_version = 0;   // increment on every new answer in the dialog
  std::vector<uint16_t> ports;    // our RTP port per offered m= line; 0 or missing = reject
  // Our a=crypto value (RFC 4568, after "a=crypto:") per offered m= line; empty or missing = none.
  std::vector<std::string> crypto;
  // Views: the strings must outlive MakeAnswer (literals are the usual case).
  std::vector<std::string_view> codec_preference = {kDefaultCodecPreference.begin(), kDefaultCodecPreference.end()};
};

// The answer to `offer`, one m= line per offered one, in order (RFC 3264 §6).
// An RTP audio stream with a port and a codec we take gets our address and port,
// that codec (plus telephone-event at its rate, if offered), the offer's label
// and ptime, and recvonly, or inactive when the offer is inactive or recvonly
// (a recorder never sends). Any other stream is rejected: port 0, offered formats.
SessionDescription MakeAnswer(const SessionDescription& offer, const AnswerOptions& options);
inline std::string BuildAnswer(const SessionDescription& offer, const AnswerOptions& options) {
  return Serialize(MakeAnswer(offer, options));
}

}  // namespace verbatim::media::sdp
