// What a resource type and a data source do, in the provider's own terms
// (Values, Diagnostics, AdminApi): plugin/provider_service.cc translates the
// protocol's messages into these calls. Implementations are stateless and
// may be called from many threads at once.
//
// The lifecycle as Terraform drives it:
//   Read    refresh: what the server has now (a null state = gone, re-create)
//   Plan    config + prior state → planned state; unknown where only apply knows;
//           diagnostics here are what `terraform plan` shows
//   Apply   make the server match the planned state; the new state must equal
//           every known planned value, or Terraform rejects it
//   Import  an id → a state holding just enough for Read to fill in the rest
#pragma once

#include <string>
#include <vector>

#include "terraform/access_checks.h"
#include "terraform/admin_api.h"
#include "terraform/diagnostics.h"
#include "terraform/schema.h"
#include "terraform/value.h"

namespace verbatim::terraform {

struct PlanRequest {
  Value prior_state;  // null on create
  Value proposed;     // Terraform's merge of config and prior state; null on destroy
  Value config;
  std::string prior_private;
  AccessCheckMode access_checks = AccessCheckMode::kError;  // provider attribute `access_checks`
};

struct PlanResult {
  Value planned;
  std::vector<std::string> requires_replace;  // top-level attribute names
  std::string planned_private;
  Diagnostics diags;
};

struct ApplyRequest {
  Value prior_state;  // null on create
  Value planned;      // null on destroy
  Value config;
  std::string planned_private;
};

struct StateResult {
  Value state;  // null: the object is gone
  std::string private_state;
  Diagnostics diags;
};

class ResourceType {
 public:
  virtual ~ResourceType() = default;
  virtual std::string name() const = 0;
  virtual const Schema& schema() const = 0;
  virtual Diagnostics Validate(const Value& config) const;
  virtual StateResult Read(AdminApi& api, const Value& state, const std::string& private_state) const = 0;
  virtual PlanResult Plan(AdminApi& api, const PlanRequest& req) const = 0;
  virtual StateResult Apply(AdminApi& api, const ApplyRequest& req) const = 0;
  virtual StateResult Import(AdminApi& api, const std::string& id) const = 0;
};

class DataSourceType {
 public:
  virtual ~DataSourceType() = default;
  virtual std::string name() const = 0;
  virtual const Schema& schema() const = 0;
  virtual Diagnostics Validate(const Value& config) const;
  virtual StateResult Read(AdminApi& api, const Value& config) const = 0;
};

}  // namespace verbatim::terraform
