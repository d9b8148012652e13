#include "media/audiohook/protocol.h"

#include <algorithm>

#include "core/ids.h"

namespace verbatim::media::audiohook {
namespace {

constexpr std::string_view kErrorPrefix = "audiohook.";
// Sequence numbers are JSON numbers; beyond 2^53 a JavaScript peer loses precision.
constexpr uint64_t kMaxSeq = uint64_t{1} << 53;
constexpr size_t kMaxMediaOffers = 8;
constexpr size_t kMaxStringField = 1024;

Status Bad(ParseError e, std::string_view detail) { return ProtocolError(e, detail); }

const json::value* Find(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::optional<uint64_t> SequenceNumber(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_uint64()) return v->as_uint64() <= kMaxSeq ? std::optional(v->as_uint64()) : std::nullopt;
  if (v->is_int64() && v->as_int64() >= 0 && static_cast<uint64_t>(v->as_int64()) <= kMaxSeq)
    return static_cast<uint64_t>(v->as_int64());
  return std::nullopt;
}

std::optional<std::string_view> String(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string().data(), v->as_string().size());
}

bool IsLanguageCode(std::string_view s) {
  // [a-z]{2,3}-[A-Za-z]{2,3}, as the reference validator.
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash < 2 || dash > 3) return false;
  size_t rest = s.size() - dash - 1;
  if (rest < 2 || rest > 3) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == dash) continue;
    bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
    if (i < dash ? !lower : !(lower || upper)) return false;
  }
  return true;
}

// Required (or, with `optional`, absent-or-valid) duration field.
Status DurationField(const json::object& p, std::string_view key, int64_t& out, bool optional = false) {
  const json::value* v = Find(p, key);
  if (!v) return optional ? Status::Ok() : Bad(ParseError::kBadParameters, "'" + std::string(key) + "' is required");
  std::optional<int64_t> d;
  if (v->is_string()) d = ParseDuration(std::string_view(v->as_string().data(), v->as_string().size()));
  if (!d) return Bad(ParseError::kBadParameters, "'" + std::string(key) + "' must be a duration like \"PT1.5S\"");
  out = *d;
  return Status::Ok();
}

Result<MediaParams> ParseMedia(const json::value& v) {
  if (!v.is_object()) return Bad(ParseError::kBadParameters, "a media entry must be an object");
  const json::object& m = v.as_object();
  auto type = String(m, "type");
  if (!type || *type != "audio") return Bad(ParseError::kBadParameters, "media 'type' must be \"audio\"");
  MediaParams out;
  auto format = String(m, "format");
  if (format && *format == "PCMU") {
    out.format = Format::kPcmu;
  } else if (format && *format == "L16") {
    out.format = Format::kL16;
  } else {
    return Bad(ParseError::kBadParameters, "media 'format' must be \"PCMU\" or \"L16\"");
  }
  const json::value* rate = Find(m, "rate");
  if (!rate || !((rate->is_int64() && rate->as_int64() == 8000) || (rate->is_uint64() && rate->as_uint64() == 8000)))
    return Bad(ParseError::kBadParameters, "media 'rate' must be 8000");
  out.rate = 8000;
  const json::value* ch = Find(m, "channels");
  if (!ch || !ch->is_array() || ch->as_array().empty() || ch->as_array().size() > 2)
    return Bad(ParseError::kBadParameters, "media 'channels' must list 1 or 2 channels");
  for (const auto& c : ch->as_array()) {
    Channel parsed;
    if (c.is_string() && c.as_string() == "external") {
      parsed = Channel::kExternal;
    } else if (c.is_string() && c.as_string() == "internal") {
      parsed = Channel::kInternal;
    } else {
      return Bad(ParseError::kBadParameters, "media channels are \"external\" or \"internal\"");
    }
    if (std::find(out.channels.begin(), out.channels.end(), parsed) != out.channels.end())
      return Bad(ParseError::kBadParameters, "a media channel is listed twice");
    out.channels.push_back(parsed);
  }
  return out;
}

Status ParseOpen(const json::object& p, OpenParams& out) {
  auto org = String(p, "organizationId");
  if (!org || !IsUuid(*org)) return Bad(ParseError::kBadParameters, "'organizationId' must be a UUID");
  out.organization_id = std::string(*org);
  auto conv = String(p, "conversationId");
  if (!conv || !IsUuid(*conv)) return Bad(ParseError::kBadParameters, "'conversationId' must be a UUID");
  out.conversation_id = std::string(*conv);

  const json::value* part = Find(p, "participant");
  if (!part || !part->is_object()) return Bad(ParseError::kBadParameters, "'participant' must be an object");
  const json::object& po = part->as_object();
  auto pid = String(po, "id");
  if (!pid || !IsUuid(*pid)) return Bad(ParseError::kBadParameters, "'participant.id' must be a UUID");
  out.participant.id = std::string(*pid);
  for (auto [key, dest] : {std::pair{"ani", &out.participant.ani}, std::pair{"aniName", &out.participant.ani_name},
                           std::pair{"dnis", &out.participant.dnis}}) {
    auto s = String(po, key);
    if (!s || s->size() > kMaxStringField)
      return Bad(ParseError::kBadParameters, "'participant." + std::string(key) + "' must be a string");
    *dest = std::string(*s);
  }

  const json::value* media = Find(p, "media");
  if (!media || !media->is_array() || media->as_array().size() > kMaxMediaOffers)
    return Bad(ParseError::kBadParameters, "'media' must be an array of at most 8 offers");
  for (const auto& m : media->as_array()) {
    auto parsed = ParseMedia(m);
    if (!parsed.ok()) return parsed.status();
    out.media.push_back(std::move(*parsed));
  }
  if (const json::value* lang = Find(p, "language")) {
    if (!lang->is_string() || !IsLanguageCode(std::string_view(lang->as_string().data(), lang->as_string().size())))
      return Bad(ParseError::kBadParameters, "'language' must be a language code like \"en-US\"");
    out.language = std::string(lang->as_string());
  }
  if (const json::value* sl = Find(p, "supportedLanguages")) {
    if (!sl->is_bool()) return Bad(ParseError::kBadParameters, "'supportedLanguages' must be a boolean");
    out.supported_languages = sl->as_bool();
  }
  if (const json::value* cs = Find(p, "continuedSessions"); cs && !cs->is_array())
    return Bad(ParseError::kBadParameters, "'continuedSessions' must be an array");
  if (const json::value* cc = Find(p, "customConfig")) {
    if (!cc->is_object()) return Bad(ParseError::kBadParameters, "'customConfig' must be an object");
    out.custom_config = cc->as_object();
  }
  return Status::Ok();
}

Status ParseParameters(ClientMessage& m, const json::object& p) {
  switch (m.type) {
    case ClientType::kOpen:
      return ParseOpen(p, m.open);
    case ClientType::kClose: {
      auto reason = String(p, "reason");
      if (!reason || (*reason != "end" && *reason != "error" && *reason != "disconnect" && *reason != "reconnect"))
        return Bad(ParseError::kBadParameters, "'reason' must be end, error, disconnect or reconnect");
      m.close_reason = std::string(*reason);
      return Status::Ok();
    }
    case ClientType::kPing: {
      int64_t rtt = 0;
      VERBATIM_RETURN_IF_ERROR(DurationField(p, "rtt", rtt, true));
      if (Find(p, "rtt")) m.rtt = rtt;
      return Status::Ok();
    }
    case ClientType::kPaused:
      return Status::Ok();
    case ClientType::kResumed:
    case ClientType::kDiscarded:
      VERBATIM_RETURN_IF_ERROR(DurationField(p, "start", m.start));
      return DurationField(p, "discarded", m.discarded);
    case ClientType::kUpdate: {
      auto lang = String(p, "language");
      if (!lang || !IsLanguageCode(*lang))
        return Bad(ParseError::kBadParameters, "'language' must be a language code like \"en-US\"");
      m.language = std::string(*lang);
      return Status::Ok();
    }
    case ClientType::kError: {
      const json::value* code = Find(p, "code");
      int64_t c = code && code->is_int64() ? code->as_int64() : (code && code->is_uint64() ? 10000 : -1);
      if (c < 400 || c >= 10000) return Bad(ParseError::kBadParameters, "'code' must be an integer from 400 to 9999");
      m.error_code = c;
      auto msg = String(p, "message");
      if (!msg) return Bad(ParseError::kBadParameters, "'message' must be a string");
      m.error_message = std::string(msg->substr(0, kMaxStringField));
      int64_t retry = 0;
      VERBATIM_RETURN_IF_ERROR(DurationField(p, "retryAfter", retry, true));
      if (Find(p, "retryAfter")) m.retry_after = retry;
      return Status::Ok();
    }
  }
  return Bad(ParseError::kUnknownType, "unhandled type");
}

json::object Header(const ServerHeader& h, std::string_view type) {
  json::object o;
  o["version"] = "2";
  o["id"] = h.id;
  o["type"] = type;
  o["seq"] = h.seq;
  o["clientseq"] = h.clientseq;
  return o;
}

std::string Message(const ServerHeader& h, std::string_view type, json::object params = {}) {
  json::object o = Header(h, type);
  o["parameters"] = std::move(params);
  return json::serialize(o);
}

}  // namespace

const char* ToString(ParseError e) {
  switch (e) {
    case ParseError::kTooLarge: return "too.large";
    case ParseError::kBadJson: return "bad.json";
    case ParseError::kBadVersion: return "bad.version";
    case ParseError::kBadId: return "bad.id";
    case ParseError::kBadType: return "bad.type";
    case ParseError::kUnknownType: return "unknown.type";
    case ParseError::kBadSeq: return "bad.seq";
    case ParseError::kBadPosition: return "bad.position";
    case ParseError::kBadParameters: return "bad.parameters";
  }
  return "?";
}

Status ProtocolError(ParseError e, std::string_view detail) {
  std::string msg = ToString(e);
  if (!detail.empty()) msg += ": " + std::string(detail);
  return Status::InvalidArgument(std::string(kErrorPrefix) + ToString(e), std::move(msg));
}

std::optional<ParseError> ParseErrorOf(const Status& s) {
  for (int i = 0;; ++i) {
    auto e = static_cast<ParseError>(i);
    if (std::string_view(ToString(e)) == "?") return std::nullopt;
    if (s.code() == std::string(kErrorPrefix) + ToString(e)) return e;
  }
}

std::optional<int64_t> ParseDuration(std::string_view s) {
  if (s.size() < 4 || s.substr(0, 2) != "PT" || s.back() != 'S') return std::nullopt;
  std::string_view num = s.substr(2, s.size() - 3);
  size_t dot = num.find('.');
  std::string_view whole = num.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : num.substr(dot + 1);
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;  // "PT1.S"
  if (whole.empty() && frac.empty()) return std::nullopt;
  if (whole.size() > 12 || frac.size() > 30) return std::nullopt;
  int64_t seconds = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  int64_t nanos = 0;
  int digit_value = 100'000'000;
  bool round_up = false;
  for (size_t i = 0; i < frac.size(); ++i) {
    char c = frac[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (i < 9) {
      nanos += (c - '0') * digit_value;
      digit_value /= 10;
    } else if (i == 9) {
      round_up = c >= '5';
    }
  }
  return seconds * 1'000'000'000 + nanos + (round_up ? 1 : 0);
}

std::string FormatDuration(int64_t nanos) {
  if (nanos < 0) nanos = 0;
  std::string out = "PT" + std::to_string(nanos / 1'000'000'000);
  int64_t frac = nanos % 1'000'000'000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 9 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out + "S";
}

int64_t SamplesToNanos(int64_t samples, uint32_t rate) {
  if (rate == 0) return 0;
  return static_cast<int64_t>(static_cast<__int128>(samples) * 1'000'000'000 / rate);
}

int64_t NanosToSamples(int64_t nanos, uint32_t rate) {
  return static_cast<int64_t>((static_cast<__int128>(nanos) * rate + 500'000'000) / 1'000'000'000);
}

const char* ToString(Channel c) {
  switch (c) {
    case Channel::kExternal: return "external";
    case Channel::kInternal: return "internal";
  }
  return "?";
}

const char* ToString(Format f) {
  switch (f) {
    case Format::kPcmu: return "PCMU";
    case Format::kL16: return "L16";
  }
  return "?";
}

const char* ToString(ClientType t) {
  switch (t) {
    case ClientType::kOpen: return "open";
    case ClientType::kClose: return "close";
    case ClientType::kPing: return "ping";
    case ClientType::kPaused: return "paused";
    case ClientType::kResumed: return "resumed";
    case ClientType::kDiscarded: return "discarded";
    case ClientType::kUpdate: return "update";
    case ClientType::kError: return "error";
  }
  return "?";
}

const char* ToString(DisconnectReason r) {
  switch (r) {
    case DisconnectReason::kCompleted: return "completed";
    case DisconnectReason::kUnauthorized: return "unauthorized";
    case DisconnectReason::kError: return "error";
  }
  return "?";
}

Result<ClientMessage> ParseClientMessage(std::string_view text) {
  if (text.size() > kMaxTextMessageBytes)
    return Bad(ParseError::kTooLarge, std::to_string(text.size()) + " bytes, the limit is 65536");
  auto parsed = ParseJsonObject(text, JsonLimits{16, kMaxTextMessageBytes});
  if (!parsed.ok()) return Bad(ParseError::kBadJson, parsed.status().message());
  const json::object& o = *parsed;

  auto version = String(o, "version");
  if (!version || *version != "2") return Bad(ParseError::kBadVersion, "'version' must be \"2\"");
  auto id = String(o, "id");
  if (!id || !IsUuid(*id)) return Bad(ParseError::kBadId, "'id' must be the session UUID");
  auto type = String(o, "type");
  if (!type) return Bad(ParseError::kBadType, "'type' must be a string");

  ClientMessage m;
  bool known = false;
  for (auto t : {ClientType::kOpen, ClientType::kClose, ClientType::kPing, ClientType::kPaused, ClientType::kResumed,
                 ClientType::kDiscarded, ClientType::kUpdate, ClientType::kError}) {
    if (*type == ToString(t)) {
      m.type = t;
      known = true;
    }
  }
  if (!known) {
    std::string shown(type->substr(0, 32));
    for (auto& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    return Bad(ParseError::kUnknownType, "'" + shown + "' is not a client message type");
  }
  m.id = std::string(*id);
  auto seq = SequenceNumber(Find(o, "seq"));
  auto serverseq = SequenceNumber(Find(o, "serverseq"));
  if (!seq) return Bad(ParseError::kBadSeq, "'seq' must be a non-negative integer");
  if (!serverseq) return Bad(ParseError::kBadSeq, "'serverseq' must be a non-negative integer");
  m.seq = *seq;
  m.serverseq = *serverseq;
  auto position = String(o, "position");
  std::optional<int64_t> pos = position ? ParseDuration(*position) : std::nullopt;
  if (!pos) return Bad(ParseError::kBadPosition, "'position' must be a duration like \"PT1.5S\"");
  m.position = *pos;
  const json::value* params = Find(o, "parameters");
  if (!params || !params->is_object()) return Bad(ParseError::kBadParameters, "'parameters' must be an object");
  VERBATIM_RETURN_IF_ERROR(ParseParameters(m, params->as_object()));
  return m;
}

std::string SerializeOpened(const ServerHeader& h, const std::optional<MediaParams>& selected, bool start_paused,
                            bool supported_languages) {
  json::array media;
  if (selected) {
    json::array channels;
    for (Channel c : selected->channels) channels.emplace_back(ToString(c));
    media.emplace_back(json::object{{"type", "audio"},
                                    {"format", ToString(selected->format)},
                                    {"channels", std::move(channels)},
                                    {"rate", selected->rate}});
  }
  json::object p;
  p["startPaused"] = start_paused;
  p["media"] = std::move(media);
  if (supported_languages) p["supportedLanguages"] = json::array();
  return Message(h, "opened", std::move(p));
}

std::string SerializePong(const ServerHeader& h) { return Message(h, "pong"); }
std::string SerializePause(const ServerHeader& h) { return Message(h, "pause"); }
std::string SerializeResume(const ServerHeader& h) { return Message(h, "resume"); }
std::string SerializeUpdated(const ServerHeader& h) { return Message(h, "updated"); }
std::string SerializeClosed(const ServerHeader& h) { return Message(h, "closed"); }

std::string SerializeDisconnect(const ServerHeader& h, DisconnectReason reason, std::string_view info) {
  json::object p;
  p["reason"] = ToString(reason);
  if (!info.empty()) p["info"] = info.substr(0, 1024);
  return Message(h, "disconnect", std::move(p));
}

}  // namespace verbatim::media::audiohook
