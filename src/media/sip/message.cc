#include "media/sip/message.h"

#include <array>

#include "media/sip/text.h"

namespace verbatim::media::sip {
namespace {

struct CompactForm {
  char letter;
  std::string_view name;
};
// RFC 3261 §7.3.3 plus the later registrations a recorder may meet.
constexpr std::array<CompactForm, 15> kCompactForms = {{
    {'i', "Call-ID"}, {'f', "From"}, {'t', "To"}, {'v', "Via"}, {'m', "Contact"},
    {'l', "Content-Length"}, {'c', "Content-Type"}, {'k', "Supported"}, {'s', "Subject"},
    {'e', "Content-Encoding"}, {'o', "Event"}, {'r', "Refer-To"}, {'b', "Referred-By"},
    {'u', "Allow-Events"}, {'x', "Session-Expires"},
}};

// Headers whose comma-separated values are stored as separate entries.
bool IsListHeader(std::string_view canonical) {
  return IEquals(canonical, "Via") || IEquals(canonical, "Route") || IEquals(canonical, "Record-Route") ||
         IEquals(canonical, "Contact");
}

bool IsControl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

struct RawHeader {
  std::string_view name;
  std::string value;  // unfolded
};

struct HeaderBlock {
  std::string_view start_line;
  std::vector<RawHeader> headers;
  size_t body_offset = 0;  // first byte after the empty line
};

// Splits the header section into the start line and unfolded header lines.
// kIncompleteHeaders when no empty line ends it.
Result<HeaderBlock> SplitHeaders(std::string_view in) {
  size_t pos = 0;
  while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n')) ++pos;
  if (pos == in.size()) return SipError(ParseError::kEmpty, "no start line");
  HeaderBlock block;
  bool first = true;
  while (true) {
    size_t nl = in.find('\n', pos);
    size_t line_end = (nl == std::string_view::npos) ? in.size() : nl;
    // The limit is on the line without its CRLF (+1 lets an unseen CR arrive).
    if (line_end - pos > kMaxHeaderLineBytes + 1) return SipError(ParseError::kHeaderTooLong, "line over 8 KiB");
    if (nl == std::string_view::npos) return SipError(ParseError::kIncompleteHeaders, "no empty line after the headers");
    std::string_view line = in.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxHeaderLineBytes) return SipError(ParseError::kHeaderTooLong, "line over 8 KiB");
    pos = nl + 1;
    if (line.empty()) {
      block.body_offset = pos;
      return block;
    }
    for (char c : line) {
      if (IsControl(c)) {
        return SipError(first ? ParseError::kBadStartLine : ParseError::kBadHeader, "control character");
      }
    }
    if (first) {
      block.start_line = line;
      first = false;
      continue;
    }
    if (IsWsp(line[0])) {  // LWS continuation (folding), RFC 3261 §7.3.1
      if (block.headers.empty()) return SipError(ParseError::kBadHeader, "continuation line before any header");
      RawHeader& h = block.headers.back();
      if (!h.value.empty()) h.value += ' ';
      h.value += Trim(line);
      // Measured as the unfolded "Name: value" line that Serialize would write.
      if (h.name.size() + 2 + h.value.size() > kMaxHeaderLineBytes) {
        return SipError(ParseError::kHeaderTooLong, "folded header over 8 KiB");
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return SipError(ParseError::kBadHeader, "header line without ':'");
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && IsWsp(name.back())) name.remove_suffix(1);
    if (!IsToken(name)) return SipError(ParseError::kBadHeader, "header name is not a token");
    if (block.headers.size() >= kMaxHeaders) return SipError(ParseError::kTooManyHeaders, "more than 100 headers");
    block.headers.push_back({name, std::string(Trim(line.substr(colon + 1)))});
  }
}

// Content-Length from the raw headers; all copies must agree (a disagreement is
// how requests get smuggled past a proxy).
Result<std::optional<size_t>> ContentLengthOf(const std::vector<RawHeader>& headers) {
  std::optional<size_t> length;
  for (const RawHeader& h : headers) {
    if (!IEquals(CanonicalHeaderName(h.name), "Content-Length")) continue;
    auto v = ParseDecimal(h.value, 0xffffffffu);
    if (!v) return SipError(ParseError::kBadContentLength, "not a decimal number");
    if (*v > kMaxMessageBytes) return SipError(ParseError::kTooLarge, "Content-Length over 64 KiB");
    if (length && *length != *v) return SipError(ParseError::kBadContentLength, "conflicting values");
    length = static_cast<size_t>(*v);
  }
  return length;
}

Status ParseStartLine(std::string_view line, Message& m) {
  std::string_view rest = line;
  if (IStartsWith(line, "SIP/")) {
    std::string_view version = NextWord(rest);
    if (!IEquals(version, "SIP/2.0")) return SipError(ParseError::kBadVersion, "only SIP/2.0 is supported");
    std::string_view code_text = NextWord(rest);
    auto code = ParseDecimal(code_text, 699);
    if (code_text.size() != 3 || !code || *code < 100) return SipError(ParseError::kBadStartLine, "status code must be 100-699");
    m.status_code = static_cast<int>(*code);
    m.reason = std::string(Trim(rest));
    return Status::Ok();
  }
  std::string_view method = NextWord(rest);
  std::string_view uri = NextWord(rest);
  std::string_view version = NextWord(rest);
  if (!IsToken(method)) return SipError(ParseError::kBadStartLine, "method is not a token");
  if (uri.empty() || uri.find(':') == std::string_view::npos || uri[0] == ':') {
    return SipError(ParseError::kBadStartLine, "Request-URI needs a scheme");
  }
  if (version.empty() || !Trim(rest).empty()) return SipError(ParseError::kBadStartLine, "expected 'METHOD URI SIP/2.0'");
  if (!IEquals(version, "SIP/2.0")) return SipError(ParseError::kBadVersion, "only SIP/2.0 is supported");
  m.method = std::string(method);
  m.request_uri = std::string(uri);
  return Status::Ok();
}

Status PrefixDetail(const Status& s, std::string_view header) {
  auto e = SipErrorOf(s);
  std::string_view msg = s.message();
  if (size_t colon = msg.find(": "); colon != std::string_view::npos) msg.remove_prefix(colon + 2);
  return SipError(e.value_or(ParseError::kBadHeader), std::string(header) + ": " + std::string(msg));
}

// RFC 3261 §8.1.1: the headers every request carries, each exactly once (Via
// aside), and well formed, so the server can trust the accessors.
Status ValidateRequest(const Message& m) {
  for (std::string_view name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    auto v = m.header(name);
    if (!v || v->empty()) return SipError(ParseError::kMissingMandatoryHeader, "missing " + std::string(name));
  }
  for (std::string_view name : {"From", "To", "Call-ID", "CSeq", "Max-Forwards"}) {
    if (m.headers(name).size() > 1) return SipError(ParseError::kBadHeader, "duplicate " + std::string(name));
  }
  if (auto r = ParseNameAddr(*m.header("From")); !r.ok()) return PrefixDetail(r.status(), "From");
  if (auto r = ParseNameAddr(*m.header("To")); !r.ok()) return PrefixDetail(r.status(), "To");
  if (auto r = ParseVia(*m.header("Via")); !r.ok()) return PrefixDetail(r.status(), "Via");
  auto cseq = ParseCSeq(*m.header("CSeq"));
  if (!cseq.ok()) return cseq.status();
  if (cseq->method != m.method) {
    return SipError(ParseError::kBadCSeq, "CSeq method " + cseq->method + " does not match " + m.method);
  }
  return Status::Ok();
}

std::string Sanitized(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

std::string_view CanonicalHeaderName(std::string_view name) {
  if (name.size() == 1) {
    for (const CompactForm& f : kCompactForms) {
      if (AsciiLower(name[0]) == f.letter) return f.name;
    }
  }
  return name;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  std::string_view want = CanonicalHeaderName(name);
  for (const Header& h : header_fields) {
    if (IEquals(h.name, want)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::vector<std::string_view> Message::headers(std::string_view name) const {
  std::string_view want = CanonicalHeaderName(name);
  std::vector<std::string_view> out;
  for (const Header& h : header_fields) {
    if (IEquals(h.name, want)) out.push_back(h.value);
  }
  return out;
}

void Message::AddHeader(std::string_view name, std::string_view value) {
  header_fields.push_back({std::string(CanonicalHeaderName(name)), std::string(value)});
}

void Message::SetHeader(std::string_view name, std::string_view value) {
  RemoveHeader(name);
  AddHeader(name, value);
}

void Message::RemoveHeader(std::string_view name) {
  std::string want(CanonicalHeaderName(name));
  std::erase_if(header_fields, [&](const Header& h) { return IEquals(h.name, want); });
}

std::optional<CSeq> Message::cseq() const {
  auto v = header("CSeq");
  if (!v) return std::nullopt;
  auto r = ParseCSeq(*v);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

namespace {
std::optional<std::string> TagOf(std::optional<std::string_view> value) {
  if (!value) return std::nullopt;
  auto na = ParseNameAddr(*value);
  if (!na.ok()) return std::nullopt;
  auto tag = na->tag();
  if (!tag) return std::nullopt;
  return std::string(*tag);
}
}  // namespace

std::optional<std::string> Message::from_tag() const { return TagOf(header("From")); }
std::optional<std::string> Message::to_tag() const { return TagOf(header("To")); }

std::optional<std::string> Message::via_branch() const {
  auto v = header("Via");
  if (!v) return std::nullopt;
  auto via = ParseVia(*v);
  if (!via.ok()) return std::nullopt;
  auto b = via->branch();
  if (!b) return std::nullopt;
  return std::string(*b);
}

Result<Message> ParseMessage(std::string_view input, const ParseOptions& options) {
  if (input.empty()) return SipError(ParseError::kEmpty, "no bytes");
  if (input.size() > kMaxMessageBytes) return SipError(ParseError::kTooLarge, "message over 64 KiB");
  auto block = SplitHeaders(input);
  if (!block.ok()) return block.status();

  auto length = ContentLengthOf(block->headers);  // before the values move out
  if (!length.ok()) return length.status();

  Message m;
  VERBATIM_RETURN_IF_ERROR(ParseStartLine(block->start_line, m));
  for (RawHeader& raw : block->headers) {
    std::string_view name = CanonicalHeaderName(raw.name);
    if (IsListHeader(name)) {
      for (std::string_view part : SplitList(raw.value)) {
        if (part.empty()) return SipError(ParseError::kBadHeader, "empty element in " + std::string(name));
        m.header_fields.push_back({std::string(name), std::string(part)});
      }
    } else {
      m.header_fields.push_back({std::string(name), std::move(raw.value)});
    }
    if (m.header_fields.size() > kMaxHeaders) return SipError(ParseError::kTooManyHeaders, "more than 100 header values");
  }

  std::string_view rest = input.substr(block->body_offset);
  if (*length) {
    size_t n = **length;
    if (rest.size() < n) {
      return SipError(ParseError::kTruncatedBody, std::to_string(rest.size()) + " of " + std::to_string(n) + " bytes");
    }
    if (rest.size() > n && (options.stream || !options.ignore_extra_datagram_bytes)) {
      return SipError(ParseError::kBadContentLength, std::to_string(rest.size() - n) + " bytes after the body");
    }
    m.body = std::string(rest.substr(0, n));
  } else {
    if (options.stream) return SipError(ParseError::kMissingContentLength, "required on stream transports");
    m.body = std::string(rest);
  }
  if (m.is_request()) VERBATIM_RETURN_IF_ERROR(ValidateRequest(m));
  return m;
}

Result<std::optional<size_t>> FrameLength(std::string_view buffer) {
  // Never look further than one maximal message: a peer that never sends the
  // empty line is cut off at 64 KiB instead of growing our buffer forever.
  auto block = SplitHeaders(buffer.substr(0, kMaxMessageBytes));
  if (!block.ok()) {
    auto e = SipErrorOf(block.status());
    if (e == ParseError::kIncompleteHeaders || e == ParseError::kEmpty) {
      if (buffer.size() >= kMaxMessageBytes) return SipError(ParseError::kTooLarge, "no complete header section in 64 KiB");
      return std::optional<size_t>();
    }
    return block.status();
  }
  auto length = ContentLengthOf(block->headers);
  if (!length.ok()) return length.status();
  if (!*length) return SipError(ParseError::kMissingContentLength, "required on stream transports");
  size_t total = block->body_offset + **length;
  if (total > kMaxMessageBytes) return SipError(ParseError::kTooLarge, "message over 64 KiB");
  if (buffer.size() < total) return std::optional<size_t>();
  return std::optional<size_t>(total);
}

std::string Serialize(const Message& m) {
  std::string out;
  out.reserve(256 + m.body.size());
  if (m.is_request()) {
    out += Sanitized(m.method) + " " + Sanitized(m.request_uri) + " SIP/2.0\r\n";
  } else {
    out += "SIP/2.0 " + std::to_string(m.status_code) + " " + Sanitized(m.reason) + "\r\n";
  }
  for (const Header& h : m.header_fields) {
    if (IEquals(h.name, "Content-Length")) continue;
    out += Sanitized(h.name);
    out += ": ";
    out += Sanitized(h.value);
    out += "\r\n";
  }
  out += "Content-Length: " + std::to_string(m.body.size()) + "\r\n\r\n";
  out += m.body;
  return out;
}

Message MakeResponse(const Message& request, int code, std::string_view reason, std::string_view to_tag) {
  Message r;
  r.status_code = code;
  r.reason = std::string(reason);
  for (std::string_view via : request.headers("Via")) r.AddHeader("Via", via);
  if (code > 100 && code < 300) {
    for (std::string_view rr : request.headers("Record-Route")) r.AddHeader("Record-Route", rr);
  }
  if (auto from = request.header("From")) r.AddHeader("From", *from);
  if (auto to = request.header("To")) {
    std::string value(*to);
    if (!to_tag.empty() && !request.to_tag()) value += ";tag=" + std::string(to_tag);
    r.AddHeader("To", value);
  }
  if (auto id = request.header("Call-ID")) r.AddHeader("Call-ID", *id);
  if (auto cseq = request.header("CSeq")) r.AddHeader("CSeq", *cseq);
  return r;
}

}  // namespace verbatim::media::sip
