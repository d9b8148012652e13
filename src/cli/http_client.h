// A tiny synchronous HTTP/1.1 client for the CLI (`verbatim token`, `explain`).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace verbatim::cli {

struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// `base_url` is "http://host:port" or "https://host:port" (the certificate is
// verified against the system CAs, or SSL_CERT_FILE, and must name the host).
// Errors are Unavailable with the reason.
Result<HttpResult> HttpCall(const std::string& base_url, const std::string& method, const std::string& target,
                            const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body);

}  // namespace verbatim::cli
