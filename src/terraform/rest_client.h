// RestClient: AdminApi over HTTP or HTTPS with an OAuth client_credentials
// token. The token is fetched on first use, cached until shortly before it
// expires, and fetched again once if the server rejects it (a rotated key, a
// revoked token). 429 and 503 are retried after Retry-After (at most 10 s, 3
// times). Connections are kept alive and reused for requests that are safe to
// replay; creating requests always get a fresh connection, so a connection the
// server closed while idle can never make us create something twice.
//
// Thread-safe: Terraform calls the provider from many goroutines at once.
// Secrets and tokens are never logged and never part of an error message.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "terraform/admin_api.h"

namespace verbatim::terraform {

struct RestOptions {
  std::string endpoint;  // "http://127.0.0.1:8080" or "https://verbatim.example.com[/prefix]"
  std::string client_id;
  std::string client_secret;
  std::string ca_file;  // PEM trust anchors for https, added to the system's
  std::chrono::seconds timeout{30};
  std::string user_agent = "terraform-provider-verbatim";
};

class RestClient final : public AdminApi {
 public:
  // Fails (InvalidArgument) on an endpoint that is not http(s)://host[:port][/path].
  static Result<std::unique_ptr<RestClient>> Create(RestOptions opts);
  ~RestClient() override;

  Result<ApiResponse> Call(std::string_view method, std::string_view path, const json::value* body) override;
  // Gets a token now, so a wrong endpoint or secret is reported when the
  // provider is configured rather than in the middle of a plan.
  Status Authenticate();

 private:
  struct Endpoint {
    bool tls = false;
    std::string host;  // without brackets
    std::string port;
    std::string base;  // path prefix without trailing '/', usually ""
    std::string host_header;
  };
  struct Connection;
  struct Tls;
  struct Raw {
    int status = 0;
    std::string body;
    std::string retry_after;
    std::string context_id;
  };

  RestClient(RestOptions opts, Endpoint ep);
  Status InitTls();
  Result<std::unique_ptr<Connection>> Connect();
  Result<Raw> Exchange(Connection& c, const std::string& method, const std::string& target,
                       const std::string& authorization, const std::string& content_type, const std::string& body);
  Result<Raw> Send(const std::string& method, const std::string& target, const std::string& authorization,
                   const std::string& content_type, const std::string& body, bool replay_safe);
  Result<std::string> Token(bool renew);

  // Constant after construction.
  const RestOptions opts_;
  const Endpoint ep_;
  std::unique_ptr<Tls> tls_;  // null for http

  Mutex token_mu_;  // also serializes token requests
  std::string token_ GUARDED_BY(token_mu_);
  std::chrono::steady_clock::time_point token_expiry_ GUARDED_BY(token_mu_);

  Mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_ GUARDED_BY(pool_mu_);
};

}  // namespace verbatim::terraform
