#include "terraform/plugin/provider_service.h"

#include "terraform/log.h"
#include "terraform/value_codec.h"

namespace verbatim::terraform::plugin {
namespace {

using Severity = Diagnostic::Severity;

template <class Repeated>
void AddDiags(const Diagnostics& diags, Repeated* out) {
  for (const auto& d : diags) {
    auto* p = out->Add();
    p->set_severity(d.severity == Severity::kError ? tfplugin6::Diagnostic::ERROR : tfplugin6::Diagnostic::WARNING);
    p->set_summary(d.summary);
    p->set_detail(d.detail);
    if (!d.attribute.empty())
      for (const auto& step : d.attribute) p->mutable_attribute()->add_steps()->set_attribute_name(step);
  }
}

template <class Repeated>
void AddError(Repeated* out, std::string summary, std::string detail = {}) {
  AddDiags(Diagnostics{Error(std::move(summary), std::move(detail))}, out);
}

// A DynamicValue as a Value of `schema`. Terraform sends msgpack; JSON is the
// documented fallback. An empty DynamicValue is null.
Result<Value> Decode(const tfplugin6::DynamicValue& dv, const Schema& schema) {
  const Type type = schema.ObjectType();
  if (!dv.msgpack().empty()) return DecodeMsgpack(dv.msgpack(), type);
  if (!dv.json().empty()) return DecodeJson(dv.json(), type);
  return Value::Null();
}

// Encodes into `out`; on failure (a bug of ours) adds an error diagnostic.
template <class Repeated>
bool Encode(const Value& v, const Schema& schema, tfplugin6::DynamicValue* out, Repeated* diags) {
  auto bytes = EncodeMsgpack(v, schema.ObjectType());
  if (!bytes.ok()) {
    Log(LogLevel::kError, "cannot encode a value", {{"error", bytes.status().message()}});
    AddError(diags, "terraform-provider-verbatim produced a value it cannot encode (a bug)", bytes.status().message());
    return false;
  }
  out->set_msgpack(std::move(*bytes));
  return true;
}

template <class Repeated>
bool DecodeInto(const tfplugin6::DynamicValue& dv, const Schema& schema, const char* what, Value& out, Repeated* diags) {
  auto v = Decode(dv, schema);
  if (!v.ok()) {
    AddError(diags, std::string("terraform-provider-verbatim cannot read the ") + what, v.status().message());
    return false;
  }
  out = std::move(*v);
  return true;
}

template <class Repeated>
std::shared_ptr<AdminApi> NeedApi(const terraform::Provider& p, Repeated* diags) {
  auto api = p.api();
  if (!api) AddError(diags, "provider \"verbatim\" is not configured", "Terraform did not configure the provider before using it.");
  return api;
}

void AttributeToProto(const Attribute& a, tfplugin6::Schema::Attribute* out) {
  out->set_name(a.name);
  out->set_type(json::serialize(a.type.ToJson()));
  out->set_description(a.description);
  out->set_description_kind(tfplugin6::MARKDOWN);
  out->set_required(a.mode == Attribute::Mode::kRequired);
  out->set_optional(a.mode == Attribute::Mode::kOptional || a.mode == Attribute::Mode::kOptionalComputed);
  out->set_computed(a.mode == Attribute::Mode::kComputed || a.mode == Attribute::Mode::kOptionalComputed);
  out->set_sensitive(a.sensitive);
}

}  // namespace

void ToProto(const Schema& s, tfplugin6::Schema* out) {
  out->set_version(s.version);
  auto* block = out->mutable_block();
  block->set_version(s.version);
  block->set_description(s.description);
  block->set_description_kind(tfplugin6::MARKDOWN);
  for (const auto& a : s.attributes) AttributeToProto(a, block->add_attributes());
}

grpc::Status ProviderService::GetMetadata(grpc::ServerContext*, const tfplugin6::GetMetadataMsg::Request*,
                                          tfplugin6::GetMetadataMsg::Response* res) {
  res->mutable_server_capabilities()->set_plan_destroy(false);
  for (const auto& r : provider_.resources()) res->add_resources()->set_type_name(r->name());
  for (const auto& d : provider_.data_sources()) res->add_data_sources()->set_type_name(d->name());
  return grpc::Status::OK;
}

grpc::Status ProviderService::GetProviderSchema(grpc::ServerContext*, const tfplugin6::GetProviderSchema::Request*,
                                                tfplugin6::GetProviderSchema::Response* res) {
  ToProto(provider_.schema(), res->mutable_provider());
  for (const auto& r : provider_.resources()) ToProto(r->schema(), &(*res->mutable_resource_schemas())[r->name()]);
  for (const auto& d : provider_.data_sources()) ToProto(d->schema(), &(*res->mutable_data_source_schemas())[d->name()]);
  res->mutable_server_capabilities()->set_plan_destroy(false);
  return grpc::Status::OK;
}

grpc::Status ProviderService::ValidateProviderConfig(grpc::ServerContext*,
                                                     const tfplugin6::ValidateProviderConfig::Request* req,
                                                     tfplugin6::ValidateProviderConfig::Response* res) {
  Value config;
  if (DecodeInto(req->config(), provider_.schema(), "provider configuration", config, res->mutable_diagnostics()))
    AddDiags(provider_.ValidateConfig(config), res->mutable_diagnostics());
  return grpc::Status::OK;
}

grpc::Status ProviderService::ValidateResourceConfig(grpc::ServerContext*,
                                                     const tfplugin6::ValidateResourceConfig::Request* req,
                                                     tfplugin6::ValidateResourceConfig::Response* res) {
  const ResourceType* rt = provider_.FindResource(req->type_name());
  if (!rt) {
    AddError(res->mutable_diagnostics(), "unknown resource type " + req->type_name());
    return grpc::Status::OK;
  }
  Value config;
  if (DecodeInto(req->config(), rt->schema(), "configuration", config, res->mutable_diagnostics()))
    AddDiags(rt->Validate(config), res->mutable_diagnostics());
  return grpc::Status::OK;
}

grpc::Status ProviderService::ValidateDataResourceConfig(grpc::ServerContext*,
                                                         const tfplugin6::ValidateDataResourceConfig::Request* req,
                                                         tfplugin6::ValidateDataResourceConfig::Response* res) {
  const DataSourceType* dt = provider_.FindDataSource(req->type_name());
  if (!dt) {
    AddError(res->mutable_diagnostics(), "unknown data source " + req->type_name());
    return grpc::Status::OK;
  }
  Value config;
  if (DecodeInto(req->config(), dt->schema(), "configuration", config, res->mutable_diagnostics()))
    AddDiags(dt->Validate(config), res->mutable_diagnostics());
  return grpc::Status::OK;
}

grpc::Status ProviderService::UpgradeResourceState(grpc::ServerContext*,
                                                   const tfplugin6::UpgradeResourceState::Request* req,
                                                   tfplugin6::UpgradeResourceState::Response* res) {
  const ResourceType* rt = provider_.FindResource(req->type_name());
  auto* diags = res->mutable_diagnostics();
  if (!rt) {
    AddError(diags, "unknown resource type " + req->type_name());
    return grpc::Status::OK;
  }
  if (req->version() > rt->schema().version) {
    AddError(diags, "state of " + req->type_name() + " was written by a newer terraform-provider-verbatim",
             "Its schema version is " + std::to_string(req->version()) + "; this provider knows up to " +
                 std::to_string(rt->schema().version) + ". Use that newer provider.");
    return grpc::Status::OK;
  }
  if (req->raw_state().json().empty()) {
    AddError(diags, "state of " + req->type_name() + " has no JSON form",
             "The flatmap state format predates Terraform 0.12 and was never written by this provider.");
    return grpc::Status::OK;
  }
  // Version 0 is the only version so far: the upgrade is the JSON read with
  // today's schema, dropping attributes it no longer has.
  DecodeOptions opts;
  opts.ignore_unknown_attributes = true;
  auto v = DecodeJson(req->raw_state().json(), rt->schema().ObjectType(), opts);
  if (!v.ok()) {
    AddError(diags, "cannot read the stored state of " + req->type_name(), v.status().message());
    return grpc::Status::OK;
  }
  Encode(*v, rt->schema(), res->mutable_upgraded_state(), diags);
  return grpc::Status::OK;
}

grpc::Status ProviderService::ConfigureProvider(grpc::ServerContext*, const tfplugin6::ConfigureProvider::Request* req,
                                                tfplugin6::ConfigureProvider::Response* res) {
  Value config;
  if (DecodeInto(req->config(), provider_.schema(), "provider configuration", config, res->mutable_diagnostics()))
    AddDiags(provider_.Configure(config, req->terraform_version()), res->mutable_diagnostics());
  return grpc::Status::OK;
}

grpc::Status ProviderService::ReadResource(grpc::ServerContext*, const tfplugin6::ReadResource::Request* req,
                                           tfplugin6::ReadResource::Response* res) {
  auto* diags = res->mutable_diagnostics();
  const ResourceType* rt = provider_.FindResource(req->type_name());
  if (!rt) {
    AddError(diags, "unknown resource type " + req->type_name());
    return grpc::Status::OK;
  }
  Value state;
  if (!DecodeInto(req->current_state(), rt->schema(), "state", state, diags)) return grpc::Status::OK;
  auto api = NeedApi(provider_, diags);
  if (!api) return grpc::Status::OK;
  StateResult r = rt->Read(*api, state, req->private_());
  AddDiags(r.diags, diags);
  Encode(r.state, rt->schema(), res->mutable_new_state(), diags);
  res->set_private_(r.private_state);
  return grpc::Status::OK;
}

grpc::Status ProviderService::PlanResourceChange(grpc::ServerContext*, const tfplugin6::PlanResourceChange::Request* req,
                                                 tfplugin6::PlanResourceChange::Response* res) {
  auto* diags = res->mutable_diagnostics();
  const ResourceType* rt = provider_.FindResource(req->type_name());
  if (!rt) {
    AddError(diags, "unknown resource type " + req->type_name());
    return grpc::Status::OK;
  }
  PlanRequest pr;
  if (!DecodeInto(req->prior_state(), rt->schema(), "prior state", pr.prior_state, diags) ||
      !DecodeInto(req->proposed_new_state(), rt->schema(), "proposed state", pr.proposed, diags) ||
      !DecodeInto(req->config(), rt->schema(), "configuration", pr.config, diags))
    return grpc::Status::OK;
  pr.prior_private = req->prior_private();
  pr.access_checks = provider_.access_checks();
  auto api = NeedApi(provider_, diags);
  if (!api) return grpc::Status::OK;
  PlanResult r = rt->Plan(*api, pr);
  AddDiags(r.diags, diags);
  Encode(r.planned, rt->schema(), res->mutable_planned_state(), diags);
  for (const auto& attr : r.requires_replace) res->add_requires_replace()->add_steps()->set_attribute_name(attr);
  res->set_planned_private(r.planned_private);
  return grpc::Status::OK;
}

grpc::Status ProviderService::ApplyResourceChange(grpc::ServerContext*,
                                                  const tfplugin6::ApplyResourceChange::Request* req,
                                                  tfplugin6::ApplyResourceChange::Response* res) {
  auto* diags = res->mutable_diagnostics();
  const ResourceType* rt = provider_.FindResource(req->type_name());
  if (!rt) {
    AddError(diags, "unknown resource type " + req->type_name());
    return grpc::Status::OK;
  }
  ApplyRequest ar;
  if (!DecodeInto(req->prior_state(), rt->schema(), "prior state", ar.prior_state, diags) ||
      !DecodeInto(req->planned_state(), rt->schema(), "planned state", ar.planned, diags) ||
      !DecodeInto(req->config(), rt->schema(), "configuration", ar.config, diags))
    return grpc::Status::OK;
  ar.planned_private = req->planned_private();
  auto api = NeedApi(provider_, diags);
  if (!api) return grpc::Status::OK;
  StateResult r = rt->Apply(*api, ar);
  AddDiags(r.diags, diags);
  Encode(r.state, rt->schema(), res->mutable_new_state(), diags);
  res->set_private_(r.private_state);
  return grpc::Status::OK;
}

grpc::Status ProviderService::ImportResourceState(grpc::ServerContext*,
                                                  const tfplugin6::ImportResourceState::Request* req,
                                                  tfplugin6::ImportResourceState::Response* res) {
  auto* diags = res->mutable_diagnostics();
  const ResourceType* rt = provider_.FindResource(req->type_name());
  if (!rt) {
    AddError(diags, "unknown resource type " + req->type_name());
    return grpc::Status::OK;
  }
  auto api = NeedApi(provider_, diags);
  if (!api) return grpc::Status::OK;
  StateResult r = rt->Import(*api, req->id());
  AddDiags(r.diags, diags);
  if (HasError(r.diags)) return grpc::Status::OK;
  auto* imported = res->add_imported_resources();
  imported->set_type_name(req->type_name());
  Encode(r.state, rt->schema(), imported->mutable_state(), diags);
  imported->set_private_(r.private_state);
  return grpc::Status::OK;
}

grpc::Status ProviderService::ReadDataSource(grpc::ServerContext*, const tfplugin6::ReadDataSource::Request* req,
                                             tfplugin6::ReadDataSource::Response* res) {
  auto* diags = res->mutable_diagnostics();
  const DataSourceType* dt = provider_.FindDataSource(req->type_name());
  if (!dt) {
    AddError(diags, "unknown data source " + req->type_name());
    return grpc::Status::OK;
  }
  Value config;
  if (!DecodeInto(req->config(), dt->schema(), "configuration", config, diags)) return grpc::Status::OK;
  auto api = NeedApi(provider_, diags);
  if (!api) return grpc::Status::OK;
  StateResult r = dt->Read(*api, config);
  AddDiags(r.diags, diags);
  if (!HasError(r.diags)) Encode(r.state, dt->schema(), res->mutable_state(), diags);
  return grpc::Status::OK;
}

grpc::Status ProviderService::StopProvider(grpc::ServerContext*, const tfplugin6::StopProvider::Request*,
                                           tfplugin6::StopProvider::Response*) {
  // Every call is a bounded HTTP request (30 s timeout); nothing long to cancel.
  return grpc::Status::OK;
}

}  // namespace verbatim::terraform::plugin
