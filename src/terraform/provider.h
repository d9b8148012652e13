// The provider: its configuration (endpoint and admin client credentials),
// its resource types and data sources, and the AdminApi it talks through once
// configured. Transport-free: plugin/provider_service.cc speaks the protocol.
//
// Thread-safe: Configure happens once, before Terraform calls anything that
// needs the API; api() may then be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/version.h"
#include "terraform/access_checks.h"
#include "terraform/resource.h"
#include "terraform/rest_client.h"

namespace verbatim::terraform {

// Makes the AdminApi from resolved options (RestClient in the binary, a fake in tests).
using ApiFactory = std::function<Result<std::shared_ptr<AdminApi>>(const RestOptions&)>;

// The provider's version, shown in User-Agent and logs: verbatim's own.
inline constexpr const char* kProviderVersion = verbatim::kVersion;

class Provider {
 public:
  explicit Provider(ApiFactory factory = nullptr);  // null: RestClient + Authenticate

  const Schema& schema() const { return schema_; }
  const std::vector<std::unique_ptr<ResourceType>>& resources() const { return resources_; }
  const std::vector<std::unique_ptr<DataSourceType>>& data_sources() const { return data_sources_; }
  const ResourceType* FindResource(std::string_view name) const;
  const DataSourceType* FindDataSource(std::string_view name) const;

  Diagnostics ValidateConfig(const Value& config) const;
  // Resolves configuration over VERBATIM_ENDPOINT, VERBATIM_CLIENT_ID,
  // VERBATIM_CLIENT_SECRET, VERBATIM_CA_FILE, then connects.
  Diagnostics Configure(const Value& config, const std::string& terraform_version);
  // Null before a successful Configure.
  std::shared_ptr<AdminApi> api() const;
  AccessCheckMode access_checks() const;
  // The options Configure resolved (for tests); the secret is never logged.
  static Result<RestOptions> ResolveOptions(const Value& config, const std::function<const char*(const char*)>& getenv);
  // `access_checks` (or VERBATIM_ACCESS_CHECKS): error (default), warning, off.
  static Result<AccessCheckMode> ResolveAccessChecks(const Value& config,
                                                     const std::function<const char*(const char*)>& getenv);

 private:
  // Constant after construction.
  Schema schema_;
  std::vector<std::unique_ptr<ResourceType>> resources_;
  std::vector<std::unique_ptr<DataSourceType>> data_sources_;
  ApiFactory factory_;

  mutable Mutex mu_;
  std::shared_ptr<AdminApi> api_ GUARDED_BY(mu_);
  AccessCheckMode access_checks_ GUARDED_BY(mu_) = AccessCheckMode::kError;
};

}  // namespace verbatim::terraform
