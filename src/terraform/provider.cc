#include "terraform/provider.h"

#include <cstdlib>

#include "terraform/log.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {

Provider::Provider(ApiFactory factory) : factory_(std::move(factory)) {
  schema_.description =
      "Manages verbatim's OAuth clients, roles, AudioHook integrations and organization settings through its REST "
      "admin API, and checks at plan time, with verbatim's own authorization engine, that each client can do what "
      "it exists for.";
  schema_.attributes = {
      Optional("endpoint", Type::String(),
               "Base URL of verbatim, e.g. `http://127.0.0.1:8080`. Default: `VERBATIM_ENDPOINT`."),
      Optional("client_id", Type::String(),
               "OAuth client id of an administrator client (scope `admin`). Default: `VERBATIM_CLIENT_ID`."),
      Sensitive(Optional("client_secret", Type::String(), "Its secret. Default: `VERBATIM_CLIENT_SECRET`.")),
      Optional("ca_file", Type::String(),
               "PEM file of CAs to trust for an `https` endpoint, besides the system's. Default: `VERBATIM_CA_FILE`."),
      Optional("access_checks", Type::String(),
               "How a plan reports an OAuth client that cannot perform one of its `expected_actions`: `error` "
               "(default: the plan fails), `warning`, or `off`. `terraform destroy` runs a normal plan first, so "
               "destroying such a client needs `warning` (or `-refresh=false`). Default: `VERBATIM_ACCESS_CHECKS`."),
  };
  resources_.push_back(NewOAuthClientResource());
  resources_.push_back(NewRoleResource());
  resources_.push_back(NewAudioHookIntegrationResource());
  resources_.push_back(NewOrganizationSettingsResource());
  data_sources_.push_back(NewRoleDataSource());
  data_sources_.push_back(NewAccessCheckDataSource());
  data_sources_.push_back(NewEffectiveAccessDataSource());
}

const ResourceType* Provider::FindResource(std::string_view name) const {
  for (const auto& r : resources_)
    if (r->name() == name) return r.get();
  return nullptr;
}

const DataSourceType* Provider::FindDataSource(std::string_view name) const {
  for (const auto& d : data_sources_)
    if (d->name() == name) return d.get();
  return nullptr;
}

Result<AccessCheckMode> Provider::ResolveAccessChecks(const Value& config,
                                                      const std::function<const char*(const char*)>& getenv) {
  std::string mode = config.GetString("access_checks").value_or("");
  if (mode.empty())
    if (const char* e = getenv("VERBATIM_ACCESS_CHECKS")) mode = e;
  if (mode.empty() || mode == "error") return AccessCheckMode::kError;
  if (mode == "warning") return AccessCheckMode::kWarning;
  if (mode == "off") return AccessCheckMode::kOff;
  return Status::InvalidArgument("config.invalid",
                                 "access_checks must be \"error\", \"warning\" or \"off\" (it is \"" + mode + "\").");
}

Diagnostics Provider::ValidateConfig(const Value& config) const {
  Diagnostics d;
  if (auto m = config.GetString("access_checks"); m && *m != "error" && *m != "warning" && *m != "off")
    d.push_back(Error("access_checks must be \"error\", \"warning\" or \"off\"", "It is \"" + *m + "\".", {"access_checks"}));
  if (auto e = config.GetString("endpoint"); e && e->rfind("http://", 0) != 0 && e->rfind("https://", 0) != 0)
    d.push_back(Error("endpoint must start with http:// or https://", "It is \"" + *e + "\".", {"endpoint"}));
  return d;
}

Result<RestOptions> Provider::ResolveOptions(const Value& config, const std::function<const char*(const char*)>& getenv) {
  RestOptions o;
  struct Field {
    const char* attr;
    const char* env;
    std::string* out;
    bool required;
  };
  const Field fields[] = {{"endpoint", "VERBATIM_ENDPOINT", &o.endpoint, true},
                          {"client_id", "VERBATIM_CLIENT_ID", &o.client_id, true},
                          {"client_secret", "VERBATIM_CLIENT_SECRET", &o.client_secret, true},
                          {"ca_file", "VERBATIM_CA_FILE", &o.ca_file, false}};
  for (const auto& f : fields) {
    const Value& v = config.Get(f.attr);
    if (v.is_unknown())
      return Status::InvalidArgument("config.unknown", std::string(f.attr) +
                                                           " is not known until apply; the provider needs it to plan. "
                                                           "Use a value known at plan time.");
    if (v.kind() == Value::Kind::kString && !v.as_string().empty()) *f.out = v.as_string();
    else if (const char* e = getenv(f.env); e && *e) *f.out = e;
    else if (f.required)
      return Status::InvalidArgument("config.missing", std::string("provider \"verbatim\" needs ") + f.attr +
                                                           ": set it in the provider block or in " + f.env + ".");
  }
  o.user_agent = std::string("terraform-provider-verbatim/") + kProviderVersion;
  return o;
}

Diagnostics Provider::Configure(const Value& config, const std::string& terraform_version) {
  Diagnostics d = ValidateConfig(config);
  if (HasError(d)) return d;
  auto getenv = [](const char* k) { return std::getenv(k); };
  auto checks = ResolveAccessChecks(config, getenv);
  if (!checks.ok()) {
    d.push_back(Error("provider \"verbatim\" is not configured", checks.status().message(), {"access_checks"}));
    return d;
  }
  auto opts = ResolveOptions(config, getenv);
  if (!opts.ok()) {
    d.push_back(Error("provider \"verbatim\" is not configured", opts.status().message()));
    return d;
  }
  opts->user_agent += " terraform/" + terraform_version;
  Result<std::shared_ptr<AdminApi>> api = Status::Internal("no factory");
  if (factory_) {
    api = factory_(*opts);
  } else {
    auto rest = RestClient::Create(*opts);
    if (rest.ok()) {
      Status s = (*rest)->Authenticate();
      if (s.ok()) api = std::shared_ptr<AdminApi>(std::move(*rest));
      else api = s;
    } else {
      api = rest.status();
    }
  }
  if (!api.ok()) {
    d.push_back(Error("cannot use verbatim at " + opts->endpoint, api.status().message()));
    return d;
  }
  Log(LogLevel::kInfo, "configured", {{"endpoint", opts->endpoint}, {"client_id", opts->client_id}});
  MutexLock lock(mu_);
  api_ = std::move(*api);
  access_checks_ = *checks;
  return d;
}

AccessCheckMode Provider::access_checks() const {
  MutexLock lock(mu_);
  return access_checks_;
}

std::shared_ptr<AdminApi> Provider::api() const {
  MutexLock lock(mu_);
  return api_;
}

}  // namespace verbatim::terraform
