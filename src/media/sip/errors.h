// Why a SIP message (or one of its header values) was rejected. The strings
// are API: the Status code is "sip." + ToString with dots ("sip.truncated.body")
// and tests pin them.
#pragma once

#include <optional>
#include <string_view>

#include "core/status.h"

namespace verbatim::media::sip {

enum class ParseError {
  kEmpty,                   // nothing but CRLFs
  kTooLarge,                // message (or Content-Length) over 64 KiB
  kBadStartLine,            // not "METHOD URI SIP/2.0" nor "SIP/2.0 CODE reason"
  kBadVersion,              // a SIP version other than 2.0
  kBadHeader,               // header line or a mandatory header's value malformed
  kHeaderTooLong,           // a header line (after unfolding) over 8 KiB
  kTooManyHeaders,          // more than 100 header values
  kIncompleteHeaders,       // no empty line ends the header section
  kBadContentLength,        // not a number, conflicting values, or bytes after the body
  kMissingContentLength,    // stream transports need it to find the message end
  kTruncatedBody,           // fewer body bytes than Content-Length
  kMissingMandatoryHeader,  // request without Via, From, To, Call-ID or CSeq
  kBadCSeq,                 // CSeq not "<number> <method>" or method differs from the request's
};

const char* ToString(ParseError e);  // "truncated body"; "?" past the last value

// The InvalidArgument Status for `e`, with `detail` appended to the message.
Status SipError(ParseError e, std::string_view detail);
// The ParseError a Status from this module carries, if any.
std::optional<ParseError> SipErrorOf(const Status& s);

}  // namespace verbatim::media::sip
