// AudioHook protocol v2 (Genesys Cloud) message layer: strict parsing of the
// client's text messages and serialization of the server's, as the reference
// implementation (purecloudlabs/audiohook-reference-implementation) exchanges
// them. No sockets, no state: the session rules live in server_session.h.
//
// Wire model. Every message is one JSON object {version:"2", id:<session
// UUID>, type, seq, parameters:{...}}; client messages also carry serverseq
// and position (an ISO 8601 duration "PT1.25S" of audio since the start,
// discarded and paused audio included); server messages carry clientseq.
// Audio travels in binary frames (see server_session.h).
//
// Limits: 64 KiB per text message, strict JSON (core/json.h: no duplicate
// keys, valid UTF-8, bounded depth). Anything else is a named ParseError whose
// Status code is "audiohook." + ToString ("audiohook.bad.seq"); tests pin them.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace verbatim::media::audiohook {

inline constexpr size_t kMaxTextMessageBytes = 64 * 1024;
inline constexpr std::string_view kNullUuid = "00000000-0000-0000-0000-000000000000";

enum class ParseError {
  kTooLarge,       // over kMaxTextMessageBytes
  kBadJson,        // not strict JSON, or not an object
  kBadVersion,     // "version" is not "2"
  kBadId,          // "id" is not a UUID
  kBadType,        // "type" missing or not a string
  kUnknownType,    // a type the client may not send (or none we know)
  kBadSeq,         // "seq"/"serverseq" missing or not a non-negative integer
  kBadPosition,    // "position" missing or not "PT<decimal>S"
  kBadParameters,  // "parameters" missing, not an object, or invalid for the type
};

const char* ToString(ParseError e);  // "too.large", ...; "?" past the last value
// InvalidArgument with code "audiohook.<ToString(e)>" and `detail` in the message.
Status ProtocolError(ParseError e, std::string_view detail);
std::optional<ParseError> ParseErrorOf(const Status& s);

// --- durations ("PT1.5S"), kept as nanoseconds -----------------------------

// "PT<digits>[.<digits>]S" or "PT.<digits>S"; at most 12 integer digits, any
// number (≤ 30) of fraction digits, rounded to the nanosecond.
std::optional<int64_t> ParseDuration(std::string_view s);
std::string FormatDuration(int64_t nanos);  // shortest exact form: "PT0S", "PT1.5S", "PT0.125S"
int64_t SamplesToNanos(int64_t samples, uint32_t rate);
int64_t NanosToSamples(int64_t nanos, uint32_t rate);  // rounded to the nearest sample

// --- media -------------------------------------------------------------------

enum class Channel { kExternal, kInternal };  // customer side, agent side
enum class Format { kPcmu, kL16 };            // L16: 16-bit signed little-endian

const char* ToString(Channel c);  // "external" | "internal"
const char* ToString(Format f);   // "PCMU" | "L16"

struct MediaParams {
  Format format = Format::kPcmu;
  std::vector<Channel> channels;  // interleaving order in binary frames
  uint32_t rate = 8000;
  bool operator==(const MediaParams&) const = default;
};

// --- client messages ---------------------------------------------------------

enum class ClientType { kOpen, kClose, kPing, kPaused, kResumed, kDiscarded, kUpdate, kError };
const char* ToString(ClientType t);  // the wire name: "open", ...

struct Participant {
  std::string id;  // UUID (the null UUID on connection probes)
  std::string ani;
  std::string ani_name;
  std::string dnis;
};

struct OpenParams {
  std::string organization_id;  // UUID
  std::string conversation_id;  // UUID; the null UUID marks a connection probe
  Participant participant;
  std::vector<MediaParams> media;  // offered, in the client's order of preference
  std::string language;            // optional, e.g. "en-US"
  bool supported_languages = false;
  json::object custom_config;  // optional, opaque
};

struct ClientMessage {
  ClientType type = ClientType::kPing;
  std::string id;  // session id
  uint64_t seq = 0;
  uint64_t serverseq = 0;
  int64_t position = 0;  // nanoseconds

  // Parameters, by type.
  OpenParams open;                     // kOpen
  std::string close_reason;            // kClose: end | error | disconnect | reconnect
  std::optional<int64_t> rtt;          // kPing (nanoseconds)
  int64_t start = 0, discarded = 0;    // kResumed, kDiscarded (nanoseconds)
  std::string language;                // kUpdate
  int64_t error_code = 0;              // kError: 400..9999
  std::string error_message;           // kError
  std::optional<int64_t> retry_after;  // kError (nanoseconds)
};

// Errors: ProtocolError(...) as above.
Result<ClientMessage> ParseClientMessage(std::string_view text);

// --- server messages -----------------------------------------------------------

enum class DisconnectReason { kCompleted, kUnauthorized, kError };
const char* ToString(DisconnectReason r);  // "completed" | "unauthorized" | "error"

struct ServerHeader {
  std::string id;  // session id
  uint64_t seq = 0;
  uint64_t clientseq = 0;
};

// `selected` empty = no audio will flow (connection probe without media).
// `supported_languages`: the client asked for them (open.supportedLanguages);
// a recorder transcribes nothing, so the list is empty.
std::string SerializeOpened(const ServerHeader& h, const std::optional<MediaParams>& selected, bool start_paused,
                            bool supported_languages = false);
std::string SerializePong(const ServerHeader& h);
std::string SerializePause(const ServerHeader& h);
std::string SerializeResume(const ServerHeader& h);
std::string SerializeUpdated(const ServerHeader& h);
std::string SerializeClosed(const ServerHeader& h);
std::string SerializeDisconnect(const ServerHeader& h, DisconnectReason reason, std::string_view info);

}  // namespace verbatim::media::audiohook
