// The provider's view of verbatim: the public REST admin API, nothing else (no
// database, no shared code path with the server). RestClient implements it
// over HTTP(S); unit tests use a fake.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "terraform/diagnostics.h"

namespace verbatim::terraform {

struct ApiResponse {
  int status = 0;
  json::value body;  // null when empty or not JSON
  std::string context_id;

  bool ok() const { return status >= 200 && status < 300; }
  // The error body's `code` ("bad.request", "client.not.found", ...), or "".
  std::string code() const;
  // For 400s: the explanation's `field` ("roles", "principal.scopes", ...), or "".
  std::string field() const;
};

class AdminApi {
 public:
  virtual ~AdminApi() = default;
  // `path` starts with "/api/v2/". `body` may be null (no body). A Status only
  // when no HTTP answer came (unreachable, TLS, credentials); any HTTP status
  // is an ApiResponse.
  virtual Result<ApiResponse> Call(std::string_view method, std::string_view path, const json::value* body) = 0;
};

// "<what>: verbatim answered 400 bad.request" + the server's message, its fixes
// and the contextId that finds the request in the audit log.
Diagnostic ApiError(const std::string& what, const ApiResponse& r, std::vector<std::string> attribute = {});
Diagnostic Unreachable(const std::string& what, const Status& s);

// Small readers for response bodies; missing or mistyped fields read as empty.
const json::value* JField(const json::value& v, std::string_view key);  // nullptr if absent
std::string JStr(const json::value& v, std::string_view key);
bool JBool(const json::value& v, std::string_view key);
std::vector<std::string> JStrings(const json::value& v, std::string_view key);

}  // namespace verbatim::terraform
