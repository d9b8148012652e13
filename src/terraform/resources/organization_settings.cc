// verbatim_organization_settings: the organization's recording settings
// (GET/PATCH /api/v2/organization/settings), a singleton that always exists.
// "Create" takes the settings over, remembering their values in the private
// state; "destroy" puts those values back, so a destroy leaves the server as
// it was before Terraform. Attributes left out of the configuration are not
// touched.
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

constexpr const char* kPath = "/api/v2/organization/settings";

class OrganizationSettings final : public ResourceType {
 public:
  OrganizationSettings() {
    schema_.description =
        "The organization's recording settings. There is one per server: creating this resource manages them, "
        "destroying it restores the values they had before. Attributes not set are left as they are.";
    schema_.attributes = {
        Computed("id", Type::String(), "Always `organization`."),
        OptionalComputed("auto_start", Type::Bool(),
                         "Whether SIPREC and AudioHook sessions start recording at once."),
        OptionalComputed("pause_behavior", Type::String(),
                         "What a paused recording writes: `silence` (default) or `skip`."),
        OptionalComputed("retention_days", Type::Number(), "Default retention of new recordings, 1 to 36500 days."),
    };
  }

  std::string name() const override { return "verbatim_organization_settings"; }
  const Schema& schema() const override { return schema_; }

  Diagnostics Validate(const Value& config) const override {
    Diagnostics d;
    if (auto pb = config.GetString("pause_behavior"); pb && *pb != "silence" && *pb != "skip")
      d.push_back(Error("pause_behavior must be \"silence\" or \"skip\"", "It is \"" + *pb + "\".", {"pause_behavior"}));
    const Value& r = config.Get("retention_days");
    if (r.kind() == Value::Kind::kNumber &&
        (r.as_number() < 1 || r.as_number() > 36500 || r.as_number() != static_cast<double>(static_cast<int64_t>(r.as_number()))))
      d.push_back(Error("retention_days must be a whole number from 1 to 36500", {}, {"retention_days"}));
    return d;
  }

  StateResult Read(AdminApi& api, const Value& state, const std::string& private_state) const override {
    StateResult out;
    out.private_state = private_state;
    auto r = api.Call("GET", kPath, nullptr);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("reading verbatim_organization_settings", *r)
                                 : Unreachable("reading verbatim_organization_settings", r.status()));
      out.state = state;
      return out;
    }
    out.state = FromServer(r->body);
    return out;
  }

  PlanResult Plan(AdminApi&, const PlanRequest& req) const override {
    PlanResult out;
    out.planned_private = req.prior_private;
    if (req.proposed.is_null()) return out;
    Value p = req.proposed;
    p.Put("id", Value::String("organization"));
    if (req.prior_state.is_null())
      for (const char* k : {"auto_start", "pause_behavior", "retention_days"})
        if (req.config.Get(k).is_null()) p.Put(k, Value::Unknown());
    out.planned = std::move(p);
    return out;
  }

  StateResult Apply(AdminApi& api, const ApplyRequest& req) const override {
    StateResult out;
    out.private_state = req.planned_private;
    if (req.planned.is_null()) {  // destroy: put back what was there before
      auto before = ParseJsonObject(req.planned_private.empty() ? std::string_view("{}") : std::string_view(req.planned_private));
      if (!before.ok() || before->empty()) {
        out.diags.push_back(Warning("organization settings stay as they are",
                                    "This resource was imported, so the values before Terraform are not known; "
                                    "destroying it only stops managing the settings."));
        return out;
      }
      json::value v = *before;
      auto r = api.Call("PATCH", kPath, &v);
      if (!r.ok() || !r->ok()) {
        out.diags.push_back(r.ok() ? ApiError("restoring the organization settings", *r)
                                   : Unreachable("restoring the organization settings", r.status()));
        out.state = req.prior_state;
      }
      return out;
    }
    if (req.prior_state.is_null()) {
      auto before = api.Call("GET", kPath, nullptr);
      if (!before.ok() || !before->ok()) {
        out.diags.push_back(before.ok() ? ApiError("reading the organization settings", *before)
                                        : Unreachable("reading the organization settings", before.status()));
        return out;
      }
      json::object saved;
      for (const char* k : {"autoStart", "pauseBehavior", "retentionDays"})
        if (const auto* f = JField(before->body, k)) saved[k] = *f;
      out.private_state = json::serialize(saved);
    }
    const Value& p = req.planned;
    json::object body;
    if (p.Get("auto_start").kind() == Value::Kind::kBool) body["autoStart"] = p.Get("auto_start").as_bool();
    if (auto pb = p.GetString("pause_behavior")) body["pauseBehavior"] = *pb;
    if (p.Get("retention_days").kind() == Value::Kind::kNumber)
      body["retentionDays"] = static_cast<int64_t>(p.Get("retention_days").as_number());
    json::value v = body;
    auto r = api.Call("PATCH", kPath, &v);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("updating the organization settings", *r)
                                 : Unreachable("updating the organization settings", r.status()));
      if (!req.prior_state.is_null()) out.state = req.prior_state;
      return out;
    }
    out.state = FromServer(r->body);
    return out;
  }

  StateResult Import(AdminApi&, const std::string&) const override {
    StateResult out;
    Value v = Value::Object({});
    for (const auto& a : schema_.attributes) v.Put(a.name, Value::Null());
    v.Put("id", Value::String("organization"));
    out.state = std::move(v);
    return out;
  }

 private:
  static Value FromServer(const json::value& s) {
    Value v = Value::Object({});
    v.Put("id", Value::String("organization"));
    const auto* a = JField(s, "autoStart");
    v.Put("auto_start", a && a->is_bool() ? Value::Bool(a->as_bool()) : Value::Null());
    v.Put("pause_behavior", Value::String(JStr(s, "pauseBehavior")));
    const auto* r = JField(s, "retentionDays");
    v.Put("retention_days", r && r->is_number() ? Value::Number(r->to_number<double>()) : Value::Null());
    return v;
  }

  Schema schema_;
};

}  // namespace

std::unique_ptr<ResourceType> NewOrganizationSettingsResource() { return std::make_unique<OrganizationSettings>(); }

}  // namespace verbatim::terraform
