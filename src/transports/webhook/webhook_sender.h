// One webhook delivery attempt: an HTTP(S) POST whose outcome is a value a
// person can act on ("connection refused", "HTTP 500", "redirect not followed
// (302 to ...)"), never an exception.
//
// Every call parses the URL, resolves and SSRF-checks the host again (so a DNS
// answer that changes between attempts is judged each time) and connects only
// to the addresses it checked. Redirects are never followed: a 3xx is a failed
// attempt. HTTPS verifies the certificate against the system CAs (or the file
// in SSL_CERT_FILE) and the host name, and sends SNI.
//
// Thread-safe: each call runs on an io_context of its own and blocks the
// calling thread for at most about `SendOptions::timeout`.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace verbatim::webhook {

inline constexpr size_t kResponseExcerptBytes = 256;

struct SendOptions {
  bool allow_private = false;                // --webhook-allow-private: no SSRF check
  std::chrono::milliseconds timeout{10000};  // the whole attempt: resolve + connect + TLS + write + read
  size_t max_response_bytes = 64 * 1024;     // body bytes read; the rest of a larger response is not read
};

struct SendResult {
  int status = 0;                // the HTTP status; 0 when no response was read
  std::string error;             // "" on a 2xx; otherwise why the attempt failed, for a person
  std::string response_excerpt;  // the first <= kResponseExcerptBytes of the body, printable
                                 // (valid UTF-8 kept, anything else as '?')
  bool ok() const { return status >= 200 && status < 300 && error.empty(); }
};

// POSTs `body` as application/json to `url` with `headers` added (they cannot
// replace Host, Content-Type, Content-Length, Connection or User-Agent, which is
// "verbatim-webhooks/<version>").
SendResult PostWebhook(std::string_view url, const std::vector<std::pair<std::string, std::string>>& headers,
                       std::string_view body, const SendOptions& opts);

}  // namespace verbatim::webhook
