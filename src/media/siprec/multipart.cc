#include "media/siprec/multipart.h"

#include "media/sip/header_values.h"
#include "media/sip/text.h"

namespace verbatim::media::siprec {
namespace {

using sip::IEquals;
using sip::IsWsp;
using sip::Trim;

Status Fail(MultipartError e, std::string_view detail) { return sip::ParseFailure("multipart", e, detail); }

// RFC 2046 §5.1.1 bchars; a space may not end the boundary.
bool IsValidBoundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  for (char c : b) {
    if (sip::IsAlpha(c) || sip::IsDigit(c)) continue;
    switch (c) {
      case '\'': case '(': case ')': case '+': case '_': case ',': case '-':
      case '.': case '/': case ':': case '=': case '?': case ' ':
        continue;
      default:
        return false;
    }
  }
  return true;
}

struct Delimiter {
  size_t start;  // offset of "--boundary"
  size_t after;  // offset past the delimiter line
  bool close;    // "--boundary--"
};

// The next line at or after `from` that is a delimiter: "--boundary" at a line
// start, then "--" (close) or transport padding and a line end. A line that
// merely begins with the boundary is content.
std::optional<Delimiter> FindDelimiter(std::string_view body, std::string_view dash, size_t from) {
  for (size_t p = body.find(dash, from); p != std::string_view::npos; p = body.find(dash, p + 1)) {
    if (p != 0 && body[p - 1] != '\n') continue;
    size_t q = p + dash.size();
    bool close = body.substr(q, 2) == "--";
    if (close) q += 2;
    while (q < body.size() && IsWsp(body[q])) ++q;
    if (close) return Delimiter{p, q, true};  // whatever follows is epilogue
    if (q == body.size()) return Delimiter{p, q, false};
    if (body[q] == '\n') return Delimiter{p, q + 1, false};
    if (body[q] == '\r' && q + 1 < body.size() && body[q + 1] == '\n') return Delimiter{p, q + 2, false};
  }
  return std::nullopt;
}

Result<BodyPart> ParsePart(std::string_view content) {
  BodyPart part;
  size_t pos = 0;
  while (pos < content.size()) {  // no empty line at all: headers only, no body
    size_t nl = content.find('\n', pos);
    size_t next = nl == std::string_view::npos ? content.size() : nl + 1;
    std::string_view line = content.substr(pos, next - pos);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = next;
    if (line.empty()) {
      part.body = std::string(content.substr(pos));
      break;
    }
    for (char c : line) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return Fail(MultipartError::kBadPartHeader, "control character");
    }
    if (IsWsp(line[0])) {
      if (part.headers.empty()) return Fail(MultipartError::kBadPartHeader, "continuation line before any header");
      std::string& v = part.headers.back().value;
      if (!v.empty()) v += ' ';
      v += Trim(line);
      continue;
    }
    size_t colon = line.find(':');
    std::string_view name = Trim(line.substr(0, colon));
    if (colon == std::string_view::npos || !sip::IsToken(name)) {
      return Fail(MultipartError::kBadPartHeader, "expected 'Name: value'");
    }
    if (part.headers.size() >= kMaxPartHeaders) return Fail(MultipartError::kBadPartHeader, "over 32 headers in a part");
    part.headers.push_back({std::string(name), std::string(Trim(line.substr(colon + 1)))});
  }
  return part;
}

}  // namespace

const char* ToString(MultipartError e) {
  switch (e) {
    case MultipartError::kNotMultipart: return "not multipart";
    case MultipartError::kMissingBoundary: return "missing boundary";
    case MultipartError::kBadBoundary: return "bad boundary";
    case MultipartError::kTooLarge: return "too large";
    case MultipartError::kNoDelimiter: return "no delimiter";
    case MultipartError::kNoParts: return "no parts";
    case MultipartError::kMissingClosingDelimiter: return "missing closing delimiter";
    case MultipartError::kTooManyParts: return "too many parts";
    case MultipartError::kBadPartHeader: return "bad part header";
    case MultipartError::kMissingSdp: return "missing sdp";
  }
  return "?";
}

std::optional<MultipartError> MultipartErrorOf(const Status& s) {
  return sip::ErrorFromStatus<MultipartError>("multipart", s);
}

std::optional<std::string_view> BodyPart::header(std::string_view name) const {
  for (const sip::Header& h : headers) {
    if (IEquals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::string BodyPart::content_type() const {
  auto v = header("Content-Type");
  if (!v) return "text/plain";
  auto mt = sip::ParseMediaType(*v);
  return mt.ok() ? mt->essence() : std::string();
}

Result<std::vector<BodyPart>> ParseMultipart(std::string_view content_type, std::string_view body) {
  auto mt = sip::ParseMediaType(content_type);
  if (!mt.ok() || mt->type != "multipart") return Fail(MultipartError::kNotMultipart, "Content-Type is not multipart/*");
  auto boundary = sip::FindParam(mt->params, "boundary");
  if (!boundary) return Fail(MultipartError::kMissingBoundary, "no boundary parameter");
  return ParseMultipartBody(*boundary, body);
}

Result<std::vector<BodyPart>> ParseMultipartBody(std::string_view boundary, std::string_view body) {
  if (!IsValidBoundary(boundary)) return Fail(MultipartError::kBadBoundary, "1-70 characters of RFC 2046 bchars");
  if (body.size() > kMaxMultipartBytes) return Fail(MultipartError::kTooLarge, "over 64 KiB");
  std::string dash = "--" + std::string(boundary);
  auto first = FindDelimiter(body, dash, 0);
  if (!first) return Fail(MultipartError::kNoDelimiter, "boundary never starts a line");
  if (first->close) return Fail(MultipartError::kNoParts, "closing delimiter before any part");
  std::vector<BodyPart> parts;
  size_t pos = first->after;
  while (true) {
    auto next = FindDelimiter(body, dash, pos);
    if (!next) return Fail(MultipartError::kMissingClosingDelimiter, "no \"--" + std::string(boundary) + "--\"");
    // The line end before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    size_t end = next->start;
    if (end > pos && body[end - 1] == '\n') --end;
    if (end > pos && body[end - 1] == '\r') --end;
    if (parts.size() >= kMaxParts) return Fail(MultipartError::kTooManyParts, "over 16 parts");
    auto part = ParsePart(body.substr(pos, end - pos));
    if (!part.ok()) return part.status();
    parts.push_back(std::move(*part));
    if (next->close) return parts;
    pos = next->after;
  }
}

const BodyPart* FindPart(const std::vector<BodyPart>& parts, std::string_view type) {
  for (const BodyPart& p : parts) {
    if (IEquals(p.content_type(), type)) return &p;
  }
  return nullptr;
}

Result<SiprecBody> SplitSiprecBody(std::string_view content_type, std::string_view body) {
  auto mt = sip::ParseMediaType(content_type);
  if (mt.ok() && mt->essence() == "application/sdp") return SiprecBody{std::string(body), std::nullopt};
  auto parts = ParseMultipart(content_type, body);
  if (!parts.ok()) return parts.status();
  const BodyPart* sdp = FindPart(*parts, "application/sdp");
  if (!sdp) return Fail(MultipartError::kMissingSdp, "no application/sdp part");
  SiprecBody out{sdp->body, std::nullopt};
  const BodyPart* meta = FindPart(*parts, "application/rs-metadata+xml");
  if (!meta) meta = FindPart(*parts, "application/rs-metadata");
  if (meta) out.metadata = meta->body;
  return out;
}

}  // namespace verbatim::media::siprec
