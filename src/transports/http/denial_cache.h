// DenialCache: authorization denials rendered once per (token, action,
// resource, directory generation). The engine is a pure function of exactly
// these inputs (the token's claims are fixed by its jti; roles by the
// Directory generation), so a hit is byte-identical to a fresh render except
// for the contextId. A client retrying a call it may not make, the usual shape
// of a denial flood, then costs a lookup instead of building the explanation
// twice (response body and audit row); denials stay no slower than allows.
//
// Only 403s from the scope and permission layers are cached: token failures
// depend on the clock and the revocation list, resource and state failures on
// the store.
//
// Thread-safe. Bounded: cleared when full (an entry is cheap to re-render).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "transports/http/http_server.h"
#include "authz/decision.h"
#include "authz/engine.h"
#include "core/mutex.h"

namespace verbatim::api {

struct RenderedDenial {
  authz::Decision decision;
  authz::Principal principal;
  HttpResponse headers;               // status and headers; the body is rebuilt per request
  std::string body_head, body_tail;   // body = head + contextId + tail
  std::string audit_explanation;      // the audit row's explanation_json for decision.status
};

class DenialCache {
 public:
  explicit DenialCache(size_t max_entries = 4096) : max_entries_(max_entries) {}

  // Empty when the request is not cacheable (no jti).
  static std::string Key(const authz::TokenCheck& token, std::string_view action, std::string_view resource,
                         uint64_t directory_generation);
  // nullptr if `response` (rendered with contextId kPlaceholderContextId) cannot be split.
  static std::shared_ptr<const RenderedDenial> Make(const authz::Decision& decision, const authz::Principal& principal,
                                                    const HttpResponse& response, std::string audit_explanation);
  static HttpResponse Render(const RenderedDenial& d, std::string_view context_id);

  std::shared_ptr<const RenderedDenial> Find(const std::string& key) const;
  void Insert(const std::string& key, std::shared_ptr<const RenderedDenial> entry);

  static constexpr std::string_view kPlaceholderContextId = "00000000-0000-0000-0000-000000000000";

 private:
  const size_t max_entries_;
  mutable Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const RenderedDenial>> entries_ GUARDED_BY(mu_);
};

}  // namespace verbatim::api
