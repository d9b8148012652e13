// Per-request state shared by the dispatcher and a handler.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "transports/http/http_server.h"
#include "transports/http/router.h"
#include "authz/engine.h"

namespace verbatim::api {

struct RenderedDenial;

struct RequestContext {
  const HttpRequest& http;
  std::string context_id;
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;

  // Filled by App::Authorize.
  std::optional<authz::Decision> decision;
  std::optional<authz::Principal> principal;
  authz::TokenCheck token;
  std::shared_ptr<const RenderedDenial> denial;  // a cached rendering of ctx.decision (see DenialCache)
  std::string denial_key;                        // where to cache it once rendered

  std::string conversation_id;   // for the audit event's filter column
  bool audit_committed = false;  // the handler committed the audit event in its own transaction
  std::chrono::seconds retry_after{0};  // set with a 429 decision

  std::string Param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return {};
  }
  // Query parameter, percent-decoded; nullopt if absent.
  std::optional<std::string> Query(std::string_view name) const;
};

}  // namespace verbatim::api
