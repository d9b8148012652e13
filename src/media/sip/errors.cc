#include "media/sip/errors.h"

#include "media/sip/text.h"

namespace verbatim::media::sip {

const char* ToString(ParseError e) {
  switch (e) {
    case ParseError::kEmpty: return "empty";
    case ParseError::kTooLarge: return "too large";
    case ParseError::kBadStartLine: return "bad start line";
    case ParseError::kBadVersion: return "bad version";
    case ParseError::kBadHeader: return "bad header";
    case ParseError::kHeaderTooLong: return "header too long";
    case ParseError::kTooManyHeaders: return "too many headers";
    case ParseError::kIncompleteHeaders: return "incomplete headers";
    case ParseError::kBadContentLength: return "bad content length";
    case ParseError::kMissingContentLength: return "missing content length";
    case ParseError::kTruncatedBody: return "truncated body";
    case ParseError::kMissingMandatoryHeader: return "missing mandatory header";
    case ParseError::kBadCSeq: return "bad cseq";
  }
  return "?";
}

Status SipError(ParseError e, std::string_view detail) { return ParseFailure("sip", e, detail); }

std::optional<ParseError> SipErrorOf(const Status& s) { return ErrorFromStatus<ParseError>("sip", s); }

}  // namespace verbatim::media::sip
