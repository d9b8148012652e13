// SIP messages (RFC 3261 §7): parsing from a UDP datagram or a TCP frame,
// framing on stream transports, serialization and response construction.
//
// Limits (anything beyond is rejected with a named ParseError, never a crash):
// 64 KiB per message, 100 header values, 8 KiB per unfolded header line.
// Header names are matched case-insensitively and compact forms (i, f, t, v, m,
// l, c, k, s, e, ...) are stored under their full names. List headers (Via,
// Route, Record-Route, Contact) are split into one entry per value, in order.
// Thread-safety: plain values; all functions are pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "media/sip/errors.h"
#include "media/sip/header_values.h"

namespace verbatim::media::sip {

inline constexpr size_t kMaxMessageBytes = 64 * 1024;
inline constexpr size_t kMaxHeaders = 100;
inline constexpr size_t kMaxHeaderLineBytes = 8 * 1024;

struct Header {
  std::string name;   // full form ("Call-ID" for "i"), otherwise as received
  std::string value;  // unfolded and trimmed
};

struct Message {
  // Start line. A request has a method; a response has a status code.
  std::string method;       // "INVITE"; empty for a response
  std::string request_uri;  // "sip:recorder@example.com"
  int status_code = 0;      // 100..699; 0 for a request
  std::string reason;       // "OK"
  std::vector<Header> header_fields;  // wire order, one entry per list value
  std::string body;

  bool is_request() const { return status_code == 0; }

  // First value / all values of header `name` (any case, compact form allowed).
  std::optional<std::string_view> header(std::string_view name) const;
  std::vector<std::string_view> headers(std::string_view name) const;
  void AddHeader(std::string_view name, std::string_view value);
  void SetHeader(std::string_view name, std::string_view value);  // replaces all
  void RemoveHeader(std::string_view name);

  // Convenience accessors; nullopt/empty when the header is absent or malformed
  // (ParseMessage has already validated them for requests).
  std::string_view call_id() const { return header("Call-ID").value_or(""); }
  std::optional<CSeq> cseq() const;
  std::optional<std::string> from_tag() const;
  std::optional<std::string> to_tag() const;
  std::optional<std::string> via_branch() const;  // of the topmost Via
};

// The full name of a compact header form ("i" → "Call-ID"); others unchanged.
std::string_view CanonicalHeaderName(std::string_view name);

struct ParseOptions {
  // Stream transports (TCP/TLS) need Content-Length and the input must be exactly
  // one frame (see FrameLength). Datagrams without Content-Length take the rest of
  // the datagram as body.
  bool stream = false;
  // RFC 3261 §18.3: on datagrams, bytes past Content-Length are discarded. When
  // false they are an error (kBadContentLength).
  bool ignore_extra_datagram_bytes = true;
};

// Parses one message. Requests must carry Via, From, To, Call-ID and CSeq, with
// the CSeq method equal to the request method; From, To and the top Via must
// parse. Leading CRLFs (keep-alives, RFC 3261 §7.5) are skipped.
Result<Message> ParseMessage(std::string_view input, const ParseOptions& options = {});

// Stream framing: the byte length of the first complete message in `buffer`
// (leading CRLFs + headers + Content-Length body), nullopt if more bytes are
// needed, or an error if the headers break a limit or lack Content-Length.
Result<std::optional<size_t>> FrameLength(std::string_view buffer);

// Wire form with CRLF line ends and a Content-Length that matches `body` (any
// Content-Length in header_fields is ignored). CR/LF inside names or values is
// replaced by a space so a value can never inject a header.
std::string Serialize(const Message& message);

// A response per RFC 3261 §8.2.6: Via(s), From, To, Call-ID and CSeq copied
// from `request`; `to_tag` is added to To when not empty and To has no tag.
// Record-Route is copied for 101-299 (dialog-creating, §12.1.1).
Message MakeResponse(const Message& request, int code, std::string_view reason, std::string_view to_tag = {});

}  // namespace verbatim::media::sip
