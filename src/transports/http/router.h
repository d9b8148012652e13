// Routes: METHOD + path pattern ("/api/v2/conversations/{conversationId}") →
// handler, plus what the route needs (its permission), so the authorization
// simulator, `verbatim explain`, metrics and the OpenAPI test all read one table.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transports/http/http_server.h"

namespace verbatim::api {

struct RequestContext;

enum class Access {
  kPublic,     // no token (OAuth endpoints, health, discovery)
  kToken,      // any valid token
  kPermission, // token + scope + role permission `action`
};

struct Route {
  std::string method;
  std::string pattern;
  Access access = Access::kPermission;
  std::string action;  // permission for kPermission routes
  std::function<HttpResponse(RequestContext&)> handler;
  // A public route that must not run on an I/O thread for this request (it
  // hashes a password or writes to the store): true sends it to the worker
  // pool, as every protected write is.
  std::function<bool(const HttpRequest&)> offload;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  bool path_matched = false;  // some route has this path (→ 405 when route is null)
  std::vector<std::string> allowed_methods;
};

class Router {
 public:
  void Add(Route r);
  RouteMatch Match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  // routes_[i].pattern split at '/' once, at Add(); a segment "{x}" is a parameter.
  std::vector<std::vector<std::string>> segments_;
};

}  // namespace verbatim::api
