#include "media/sdp/sdp.h"

#include "media/sip/text.h"

namespace verbatim::media::sdp {
namespace {

using sip::IEquals;
using sip::NextWord;
using sip::ParseDecimal;
using sip::Trim;

Status Fail(ParseError e, std::string_view detail) { return sip::ParseFailure("sdp", e, detail); }

constexpr uint32_t kMaxClockRate = 1'000'000;
constexpr size_t kMaxFormats = 128;

std::optional<Direction> DirectionFromName(std::string_view name) {
  if (name == "sendrecv") return Direction::kSendRecv;
  if (name == "sendonly") return Direction::kSendOnly;
  if (name == "recvonly") return Direction::kRecvOnly;
  if (name == "inactive") return Direction::kInactive;
  return std::nullopt;
}

struct RtpMap {
  std::string encoding;
  uint32_t clock_rate = 0;
  uint32_t channels = 1;
};

// Per-m= state that only exists while parsing.
struct PendingMedia {
  MediaDescription m;
  std::optional<Direction> direction;
  std::vector<std::pair<uint8_t, RtpMap>> rtpmaps;
  std::vector<std::pair<uint8_t, std::string>> fmtps;
};

Result<Connection> ParseConnection(std::string_view v) {
  Connection c;
  c.net_type = std::string(NextWord(v));
  c.addr_type = std::string(NextWord(v));
  c.address = std::string(NextWord(v));
  if (c.address.empty() || !Trim(v).empty()) return Fail(ParseError::kBadConnection, "expected '<nettype> <addrtype> <address>'");
  if (c.net_type != "IN" || (c.addr_type != "IP4" && c.addr_type != "IP6")) {
    return Fail(ParseError::kBadConnection, "only IN IP4 and IN IP6 are supported");
  }
  return c;
}

Result<Origin> ParseOrigin(std::string_view v) {
  Origin o;
  std::string* fields[] = {&o.username, &o.session_id, &o.session_version, &o.net_type, &o.addr_type, &o.address};
  for (std::string* f : fields) {
    *f = std::string(NextWord(v));
    if (f->empty()) return Fail(ParseError::kBadOrigin, "o= needs six fields");
  }
  if (!Trim(v).empty()) return Fail(ParseError::kBadOrigin, "o= has more than six fields");
  return o;
}

Result<MediaDescription> ParseMediaLine(std::string_view v) {
  MediaDescription m;
  m.media = std::string(NextWord(v));
  std::string_view port = NextWord(v);
  m.proto = std::string(NextWord(v));
  if (!sip::IsToken(m.media) || m.proto.empty()) return Fail(ParseError::kBadMedia, "expected '<media> <port> <proto> <fmt>...'");
  std::string_view count;
  if (size_t slash = port.find('/'); slash != std::string_view::npos) {
    count = port.substr(slash + 1);
    port = port.substr(0, slash);
  }
  auto p = ParseDecimal(port, 65535);
  if (!p) return Fail(ParseError::kBadMedia, "port must be 0-65535");
  m.port = static_cast<uint16_t>(*p);
  if (!count.empty()) {
    auto c = ParseDecimal(count, 65535);
    if (!c || *c == 0) return Fail(ParseError::kBadMedia, "port count must be 1-65535");
    m.port_count = static_cast<uint16_t>(*c);
  }
  for (std::string_view f = NextWord(v); !f.empty(); f = NextWord(v)) {
    // 128 RTP payload types exist; more formats than that is noise that would
    // only make codec resolution slower.
    if (m.formats.size() >= kMaxFormats) return Fail(ParseError::kBadMedia, "over 128 formats");
    if (m.is_rtp() && !ParseDecimal(f, 127)) return Fail(ParseError::kBadMedia, "RTP payload types must be 0-127");
    m.formats.emplace_back(f);
  }
  if (m.formats.empty()) return Fail(ParseError::kBadMedia, "m= needs at least one format");
  return m;
}

// "<pt> <encoding>/<rate>[/<channels>]"
Status ParseRtpMap(std::string_view v, PendingMedia& pm) {
  auto pt = ParseDecimal(NextWord(v), 127);
  std::string_view spec = NextWord(v);
  if (!pt || spec.empty() || !Trim(v).empty()) return Fail(ParseError::kBadAttribute, "rtpmap needs '<pt> <encoding>/<rate>'");
  size_t s1 = spec.find('/');
  if (s1 == std::string_view::npos) return Fail(ParseError::kBadAttribute, "rtpmap needs a clock rate");
  RtpMap map;
  map.encoding = std::string(spec.substr(0, s1));
  std::string_view rest = spec.substr(s1 + 1);
  std::string_view channels;
  if (size_t s2 = rest.find('/'); s2 != std::string_view::npos) {
    channels = rest.substr(s2 + 1);
    rest = rest.substr(0, s2);
  }
  auto rate = ParseDecimal(rest, kMaxClockRate);
  if (!sip::IsToken(map.encoding) || !rate || *rate == 0) return Fail(ParseError::kBadAttribute, "rtpmap encoding or rate malformed");
  map.clock_rate = static_cast<uint32_t>(*rate);
  if (!channels.empty()) {
    auto ch = ParseDecimal(channels, 255);
    if (!ch || *ch == 0) return Fail(ParseError::kBadAttribute, "rtpmap channels must be 1-255");
    map.channels = static_cast<uint32_t>(*ch);
  }
  pm.rtpmaps.emplace_back(static_cast<uint8_t>(*pt), std::move(map));
  return Status::Ok();
}

Status ParseMediaAttribute(std::string_view name, std::string_view value, PendingMedia& pm) {
  if (name == "rtpmap") return ParseRtpMap(value, pm);
  if (name == "fmtp") {
    std::string_view rest = value;
    auto pt = ParseDecimal(NextWord(rest), 127);
    if (!pt) return Fail(ParseError::kBadAttribute, "fmtp needs a payload type 0-127");
    pm.fmtps.emplace_back(static_cast<uint8_t>(*pt), std::string(Trim(rest)));
    return Status::Ok();
  }
  if (name == "ptime") {
    // Some senders write "20.0"; the fraction carries nothing for packetization we accept.
    auto ms = ParseDecimal(value.substr(0, value.find('.')), 10'000);
    if (!ms || *ms == 0) return Fail(ParseError::kBadAttribute, "ptime must be 1-10000 ms");
    pm.m.ptime = static_cast<uint32_t>(*ms);
    return Status::Ok();
  }
  if (name == "label") {
    if (value.empty()) return Fail(ParseError::kBadAttribute, "label needs a value");
    pm.m.label = std::string(value);
    return Status::Ok();
  }
  if (name == "rtcp") {
    pm.m.rtcp = std::string(value);
    return Status::Ok();
  }
  if (auto d = DirectionFromName(name)) {
    pm.direction = *d;
    return Status::Ok();
  }
  pm.m.attributes.push_back({std::string(name), std::string(value)});
  return Status::Ok();
}

// Turns the m= formats plus rtpmap/fmtp lines into codecs; sets the direction.
MediaDescription Finish(PendingMedia pm, std::optional<Direction> session_direction) {
  MediaDescription m = std::move(pm.m);
  m.direction = pm.direction.value_or(session_direction.value_or(Direction::kSendRecv));
  if (!m.is_rtp()) return m;
  for (const std::string& f : m.formats) {
    uint8_t pt = static_cast<uint8_t>(*ParseDecimal(f, 127));  // validated by ParseMediaLine
    Codec c = StaticPayloadType(pt).value_or(Codec{pt, "", 0, 1, ""});
    for (const auto& [map_pt, map] : pm.rtpmaps) {
      if (map_pt == pt) {  // first rtpmap for a payload type wins
        c.encoding = map.encoding;
        c.clock_rate = map.clock_rate;
        c.channels = map.channels;
        break;
      }
    }
    for (const auto& [fmtp_pt, params] : pm.fmtps) {
      if (fmtp_pt == pt) {
        c.fmtp = params;
        break;
      }
    }
    m.codecs.push_back(std::move(c));
  }
  return m;
}

std::string Clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

void AppendLine(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += Clean(value);
  out += "\r\n";
}

std::string ConnectionText(const Connection& c) { return c.net_type + " " + c.addr_type + " " + c.address; }

}  // namespace

const char* ToString(ParseError e) {
  switch (e) {
    case ParseError::kEmpty: return "empty";
    case ParseError::kTooLarge: return "too large";
    case ParseError::kTooManyLines: return "too many lines";
    case ParseError::kLineTooLong: return "line too long";
    case ParseError::kBadLine: return "bad line";
    case ParseError::kBadVersion: return "bad version";
    case ParseError::kMissingField: return "missing field";
    case ParseError::kBadOrigin: return "bad origin";
    case ParseError::kBadConnection: return "bad connection";
    case ParseError::kMissingConnection: return "missing connection";
    case ParseError::kBadMedia: return "bad media";
    case ParseError::kTooManyMedia: return "too many media";
    case ParseError::kBadAttribute: return "bad attribute";
  }
  return "?";
}

std::optional<ParseError> SdpErrorOf(const Status& s) { return sip::ErrorFromStatus<ParseError>("sdp", s); }

const char* ToString(Direction d) {
  switch (d) {
    case Direction::kSendRecv: return "sendrecv";
    case Direction::kSendOnly: return "sendonly";
    case Direction::kRecvOnly: return "recvonly";
    case Direction::kInactive: return "inactive";
  }
  return "?";
}

const Codec* MediaDescription::FindCodec(uint8_t payload_type) const {
  for (const Codec& c : codecs) {
    if (c.payload_type == payload_type) return &c;
  }
  return nullptr;
}

const Connection* SessionDescription::ConnectionFor(const MediaDescription& m) const {
  if (m.connection) return &*m.connection;
  if (connection) return &*connection;
  return nullptr;
}

Result<SessionDescription> ParseSdp(std::string_view text, const ParseOptions& options) {
  if (text.size() > kMaxSdpBytes) return Fail(ParseError::kTooLarge, "over 64 KiB");
  SessionDescription sdp;
  std::vector<PendingMedia> media;
  bool seen_version = false, seen_origin = false, seen_name = false;
  size_t lines = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() > kMaxLineBytes) return Fail(ParseError::kLineTooLong, "line over 4 KiB");
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && sip::IsWsp(line.back())) line.remove_suffix(1);  // tolerate trailing blanks
    if (line.empty()) continue;
    if (++lines > kMaxLines) return Fail(ParseError::kTooManyLines, "over 1000 lines");
    for (char c : line) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return Fail(ParseError::kBadLine, "control character");
    }
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
      return Fail(ParseError::kBadLine, "expected '<letter>=<value>'");
    }
    char type = line[0];
    std::string_view value = line.substr(2);
    if (!seen_version) {
      if (type != 'v' || value != "0") return Fail(ParseError::kBadVersion, "first line must be v=0");
      seen_version = true;
      continue;
    }
    PendingMedia* cur = media.empty() ? nullptr : &media.back();
    switch (type) {
      case 'v':
        return Fail(ParseError::kBadVersion, "second v= line");
      case 'o': {
        auto o = ParseOrigin(value);
        if (!o.ok()) return o.status();
        sdp.origin = std::move(*o);
        seen_origin = true;
        break;
      }
      case 's':
        sdp.session_name = std::string(value);
        seen_name = true;
        break;
      case 't': {
        std::string_view rest = value;
        // NTP seconds fit in 10 digits; the values are kept verbatim.
        if (!ParseDecimal(NextWord(rest), UINT32_MAX) || !ParseDecimal(NextWord(rest), UINT32_MAX) || !Trim(rest).empty()) {
          return Fail(ParseError::kBadLine, "t= needs '<start> <stop>'");
        }
        sdp.timing = std::string(value);
        break;
      }
      case 'c': {
        auto c = ParseConnection(value);
        if (!c.ok()) return c.status();
        auto& slot = cur ? cur->m.connection : sdp.connection;
        if (!slot) slot = std::move(*c);  // several c= (layered multicast): the first one
        break;
      }
      case 'm': {
        if (media.size() >= kMaxMediaSections) return Fail(ParseError::kTooManyMedia, "over 64 m= sections");
        auto m = ParseMediaLine(value);
        if (!m.ok()) return m.status();
        media.push_back(PendingMedia{std::move(*m), std::nullopt, {}, {}});
        break;
      }
      case 'a': {
        size_t colon = value.find(':');
        std::string_view name = value.substr(0, colon);
        std::string_view v = colon == std::string_view::npos ? std::string_view() : Trim(value.substr(colon + 1));
        if (!sip::IsToken(name)) return Fail(ParseError::kBadAttribute, "attribute name is not a token");
        if (cur) {
          VERBATIM_RETURN_IF_ERROR(ParseMediaAttribute(name, v, *cur));
        } else if (auto d = DirectionFromName(name)) {
          sdp.direction = *d;
        } else {
          sdp.attributes.push_back({std::string(name), std::string(v)});
        }
        break;
      }
      default:
        break;  // i u e p b z k r and unknown letters: accepted, not modelled
    }
  }
  if (!seen_version) return Fail(ParseError::kEmpty, "no lines");
  if (!seen_origin) return Fail(ParseError::kMissingField, "no o= line");
  if (!seen_name) return Fail(ParseError::kMissingField, "no s= line");
  for (PendingMedia& pm : media) {
    if (options.require_connection && pm.m.port != 0 && !pm.m.connection && !sdp.connection) {
      return Fail(ParseError::kMissingConnection, "m=" + pm.m.media + " has no c= line");
    }
    sdp.media.push_back(Finish(std::move(pm), sdp.direction));
  }
  return sdp;
}

std::string Serialize(const SessionDescription& sdp) {
  std::string out;
  out.reserve(512);
  AppendLine(out, 'v', "0");
  const Origin& o = sdp.origin;
  AppendLine(out, 'o', o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type + " " + o.addr_type + " " + o.address);
  AppendLine(out, 's', sdp.session_name.empty() ? "-" : sdp.session_name);
  if (sdp.connection) AppendLine(out, 'c', ConnectionText(*sdp.connection));
  AppendLine(out, 't', sdp.timing);
  if (sdp.direction) AppendLine(out, 'a', ToString(*sdp.direction));
  for (const Attribute& a : sdp.attributes) AppendLine(out, 'a', a.value.empty() ? a.name : a.name + ":" + a.value);
  for (const MediaDescription& m : sdp.media) {
    std::string line = m.media + " " + std::to_string(m.port);
    if (m.port_count > 1) line += "/" + std::to_string(m.port_count);
    line += " " + m.proto;
    for (const std::string& f : m.formats) line += " " + f;
    AppendLine(out, 'm', line);
    if (m.connection) AppendLine(out, 'c', ConnectionText(*m.connection));
    if (m.port == 0) continue;  // a rejected stream needs nothing more (RFC 3264 §6)
    for (const Codec& c : m.codecs) {
      if (c.encoding.empty()) continue;
      std::string map = "rtpmap:" + std::to_string(c.payload_type) + " " + c.encoding + "/" + std::to_string(c.clock_rate);
      if (c.channels != 1) map += "/" + std::to_string(c.channels);
      AppendLine(out, 'a', map);
    }
    for (const Codec& c : m.codecs) {
      if (!c.fmtp.empty()) AppendLine(out, 'a', "fmtp:" + std::to_string(c.payload_type) + " " + c.fmtp);
    }
    if (m.ptime) AppendLine(out, 'a', "ptime:" + std::to_string(*m.ptime));
    if (m.rtcp) AppendLine(out, 'a', "rtcp:" + *m.rtcp);
    if (m.label) AppendLine(out, 'a', "label:" + *m.label);
    for (const Attribute& a : m.attributes) AppendLine(out, 'a', a.value.empty() ? a.name : a.name + ":" + a.value);
    AppendLine(out, 'a', ToString(m.direction));
  }
  return out;
}

std::optional<Codec> StaticPayloadType(uint8_t pt) {
  switch (pt) {  // RFC 3551 Table 4 (audio)
    case 0: return Codec{0, "PCMU", 8000, 1, ""};
    case 3: return Codec{3, "GSM", 8000, 1, ""};
    case 4: return Codec{4, "G723", 8000, 1, ""};
    case 5: return Codec{5, "DVI4", 8000, 1, ""};
    case 6: return Codec{6, "DVI4", 16000, 1, ""};
    case 7: return Codec{7, "LPC", 8000, 1, ""};
    case 8: return Codec{8, "PCMA", 8000, 1, ""};
    case 9: return Codec{9, "G722", 8000, 1, ""};
    case 10: return Codec{10, "L16", 44100, 2, ""};
    case 11: return Codec{11, "L16", 44100, 1, ""};
    case 12: return Codec{12, "QCELP", 8000, 1, ""};
    case 13: return Codec{13, "CN", 8000, 1, ""};
    case 15: return Codec{15, "G728", 8000, 1, ""};
    case 16: return Codec{16, "DVI4", 11025, 1, ""};
    case 17: return Codec{17, "DVI4", 22050, 1, ""};
    case 18: return Codec{18, "G729", 8000, 1, ""};
    default: return std::nullopt;
  }
}

bool IsTelephoneEvent(const Codec& c) { return IEquals(c.encoding, "telephone-event"); }

std::optional<Codec> ChooseCodec(const MediaDescription& offer, std::span<const std::string_view> preference) {
  for (std::string_view want : preference) {
    std::string_view encoding = want.substr(0, want.find('/'));
    std::optional<uint64_t> rate;
    if (size_t slash = want.find('/'); slash != std::string_view::npos) {
      rate = ParseDecimal(want.substr(slash + 1), kMaxClockRate);
      if (!rate) continue;  // a malformed preference matches nothing
    }
    for (const Codec& c : offer.codecs) {
      // One WAV channel per stream: multi-channel payloads are not taken.
      if (c.channels == 1 && c.clock_rate > 0 && IEquals(c.encoding, encoding) && (!rate || *rate == c.clock_rate)) return c;
    }
  }
  return std::nullopt;
}

std::optional<Codec> FindTelephoneEvent(const MediaDescription& offer, uint32_t clock_rate) {
  for (const Codec& c : offer.codecs) {
    if (IsTelephoneEvent(c) && c.clock_rate == clock_rate) return c;
  }
  return std::nullopt;
}

SessionDescription MakeAnswer(const SessionDescription& offer, const AnswerOptions& options) {
  SessionDescription answer;
  answer.origin.username = options.origin_username;
  answer.origin.session_id = options.session_id;
  answer.origin.session_version = std::to_string(options.session_version);
  answer.origin.addr_type = options.addr_type;
  answer.origin.address = options.address;
  answer.connection = Connection{"IN", options.addr_type, options.address};
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& in = offer.media[i];
    MediaDescription out;
    out.media = in.media;
    out.proto = in.proto;
    uint16_t port = i < options.ports.size() ? options.ports[i] : 0;
    std::optional<Codec> codec;
    if (port != 0 && in.port != 0 && IEquals(in.media, "audio") && in.is_rtp()) codec = ChooseCodec(in, options.codec_preference);
    if (!codec) {
      out.port = 0;
      out.formats = in.formats;
      out.direction = Direction::kInactive;
      answer.media.push_back(std::move(out));
      continue;
    }
    out.port = port;
    out.codecs.push_back(*codec);
    if (auto te = FindTelephoneEvent(in, codec->clock_rate)) out.codecs.push_back(*te);
    for (const Codec& c : out.codecs) out.formats.push_back(std::to_string(c.payload_type));
    out.label = in.label;
    out.ptime = in.ptime;
    bool offer_sends = in.direction == Direction::kSendOnly || in.direction == Direction::kSendRecv;
    out.direction = offer_sends ? Direction::kRecvOnly : Direction::kInactive;
    if (i < options.crypto.size() && !options.crypto[i].empty())
      out.attributes.push_back({"crypto", options.crypto[i]});
    answer.media.push_back(std::move(out));
  }
  return answer;
}

}  // namespace verbatim::media::sdp
