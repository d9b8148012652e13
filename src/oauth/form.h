// application/x-www-form-urlencoded bodies and HTTP Basic client credentials,
// as RFC 6749 uses them. Strict: bad percent-escapes and repeated parameters
// are errors (RFC 6749 §3.1: parameters MUST NOT be included more than once).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace verbatim::oauth {

struct Form {
  std::vector<std::pair<std::string, std::string>> fields;
  const std::string* Find(std::string_view name) const;
  std::string Get(std::string_view name) const;  // "" if absent
};

// Errors: InvalidArgument "invalid_request" naming the parameter.
Result<Form> ParseForm(std::string_view body, size_t max_fields = 64);

// Percent-decoding; '+' becomes ' ' when `plus_is_space`. nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);
std::string PercentEncode(std::string_view s);

struct BasicCredentials {
  std::string client_id;
  std::string client_secret;
};
// "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 §2.3.1). nullopt if
// the header is not a well-formed Basic credential.
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header);

}  // namespace verbatim::oauth
