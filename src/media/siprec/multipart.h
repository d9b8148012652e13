// MIME multipart bodies (RFC 2046 §5.1) as SIPREC sends them: an INVITE whose
// multipart/mixed body carries application/sdp and application/rs-metadata+xml
// (RFC 7866 §6.1). Preamble and epilogue are ignored; CRLF or LF line ends.
// Limits: 64 KiB body, 16 parts, 32 headers per part. A missing closing
// delimiter is an error (the body was cut).
// Thread-safety: plain values; all functions are pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "media/sip/message.h"

namespace verbatim::media::siprec {

inline constexpr size_t kMaxMultipartBytes = 64 * 1024;
inline constexpr size_t kMaxParts = 16;
inline constexpr size_t kMaxPartHeaders = 32;

enum class MultipartError {
  kNotMultipart,             // Content-Type unparseable or not the expected type
  kMissingBoundary,          // multipart/* without a boundary parameter
  kBadBoundary,              // empty, over 70 characters, or outside bchars
  kTooLarge,                 // body over 64 KiB
  kNoDelimiter,              // the boundary never starts a line
  kNoParts,                  // the first delimiter is the closing one
  kMissingClosingDelimiter,  // "--boundary--" never arrives
  kTooManyParts,             // over 16 parts
  kBadPartHeader,            // malformed part header line, or over 32 of them
  kMissingSdp,               // a SIPREC body without an application/sdp part
};
const char* ToString(MultipartError e);  // "missing closing delimiter"; "?" past the last value
// The Status code is "multipart." + ToString with dots.
std::optional<MultipartError> MultipartErrorOf(const Status& s);

struct BodyPart {
  std::vector<sip::Header> headers;  // as received, unfolded
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const;  // case-insensitive
  // "application/sdp" (lowercase, no parameters); "text/plain" when absent (RFC
  // 2046 §5.1), empty when unparseable.
  std::string content_type() const;
};

// Parses `body` given the message's Content-Type value (any multipart/* subtype).
Result<std::vector<BodyPart>> ParseMultipart(std::string_view content_type, std::string_view body);
// Same, with the boundary already known.
Result<std::vector<BodyPart>> ParseMultipartBody(std::string_view boundary, std::string_view body);

// The first part of type `type` ("application/sdp"), or nullptr.
const BodyPart* FindPart(const std::vector<BodyPart>& parts, std::string_view type);

// What a SIPREC INVITE (or re-INVITE) carries. A plain application/sdp body is
// allowed: the metadata may follow later (RFC 7866 §6.1.1).
struct SiprecBody {
  std::string sdp;
  std::optional<std::string> metadata;  // application/rs-metadata+xml (or the draft name rs-metadata)
};
Result<SiprecBody> SplitSiprecBody(std::string_view content_type, std::string_view body);

}  // namespace verbatim::media::siprec
