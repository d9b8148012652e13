// Parsers for the structured SIP header values the recording server reads:
// name-addr (From/To/Contact), Via, CSeq, media types (Content-Type) and the
// ";name=value" parameters they share. Inputs are single header values as
// ParseMessage stores them (unfolded, trimmed); failures are sip::ParseError
// kBadHeader / kBadCSeq with a detail naming the problem.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim::media::sip {

struct Param {
  std::string name;
  std::string value;  // unquoted; empty for a flag parameter such as ";lr"
};
using Params = std::vector<Param>;

// The first parameter named `name` (case-insensitive).
std::optional<std::string_view> FindParam(const Params& params, std::string_view name);

// Parses ";a=b;c;d=\"q\"" (leading ';' required when not empty). At most 64.
Result<Params> ParseParams(std::string_view s);

// RFC 3261 §20.10/§25.1 name-addr or addr-spec, e.g.
// "\"Alice\" <sip:alice@example.com>;tag=1928301774".
struct NameAddr {
  std::string display_name;  // unquoted, may be empty
  std::string uri;           // without the angle brackets
  Params params;             // header parameters after the URI

  std::optional<std::string_view> tag() const { return FindParam(params, "tag"); }
};
Result<NameAddr> ParseNameAddr(std::string_view value);

// One Via value, e.g. "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport".
struct Via {
  std::string protocol;   // "SIP/2.0"
  std::string transport;  // "UDP", "TCP", ... as sent
  std::string sent_by;    // "host[:port]"
  Params params;

  std::optional<std::string_view> branch() const { return FindParam(params, "branch"); }
};
Result<Via> ParseVia(std::string_view value);

// "314159 INVITE"; the number is below 2^31 (RFC 3261 §8.1.1.5).
struct CSeq {
  uint32_t number = 0;
  std::string method;
};
Result<CSeq> ParseCSeq(std::string_view value);

// "multipart/mixed;boundary=unique-boundary-1"; type and subtype lowercased.
struct MediaType {
  std::string type;
  std::string subtype;
  Params params;

  std::string essence() const { return type + "/" + subtype; }  // "multipart/mixed"
};
Result<MediaType> ParseMediaType(std::string_view value);

// Splits a comma-separated header value (Via, Route, Contact) at commas that are
// outside quoted strings and angle brackets. Elements are trimmed; empty ones kept
// so that the caller can reject them.
std::vector<std::string_view> SplitList(std::string_view value);

}  // namespace verbatim::media::sip
