// verbatim_role: a custom role (POST/GET/PUT/DELETE /api/v2/authorization/roles).
// Built-in roles are read-only on the server and a data source here.
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

class Role final : public ResourceType {
 public:
  Role() {
    schema_.description =
        "A custom role: a named set of permissions (`domain:entity:action`, `*` allowed as a whole part). "
        "Built-in roles are read-only; read them with the `verbatim_role` data source.";
    schema_.attributes = {
        Computed("id", Type::String(), "The role's id (a UUID). `terraform import` takes it."),
        Required("name", Type::String(),
                 "Unique name (case-insensitive), 1 to 128 characters; not the name of a built-in role."),
        OptionalComputed("description", Type::String(), "Free text, up to 1024 characters. Default `\"\"`."),
        Required("permissions", Type::Set(Type::String()),
                 "Permissions the role grants, e.g. `recording:recording:view` or `recording:*:*`."),
    };
  }

  std::string name() const override { return "verbatim_role"; }
  const Schema& schema() const override { return schema_; }

  Diagnostics Validate(const Value& config) const override {
    Diagnostics d;
    CheckLength(config, "name", 1, 128, d);
    CheckLength(config, "description", 0, 1024, d);
    if (auto perms = config.GetStrings("permissions"))
      for (const auto& p : *perms)
        if (!IsPermission(p, true))
          d.push_back(Error("permissions: '" + p + "' is not a permission",
                            "A permission is domain:entity:action, each part lowercase [a-z0-9_-] or '*'.",
                            {"permissions"}));
    return d;
  }

  StateResult Read(AdminApi& api, const Value& state, const std::string& private_state) const override {
    StateResult out;
    out.private_state = private_state;
    auto id = state.GetString("id");
    if (!id) return out;
    auto r = api.Call("GET", "/api/v2/authorization/roles/" + *id, nullptr);
    if (!r.ok() || (!r->ok() && !(r->status == 404 && r->code() == "role.not.found"))) {
      out.diags.push_back(r.ok() ? ApiError("reading verbatim_role " + *id, *r) : Unreachable("reading verbatim_role " + *id, r.status()));
      out.state = state;
      return out;
    }
    if (r->status == 404) return out;
    if (JBool(r->body, "builtin")) {
      out.diags.push_back(Error("role '" + JStr(r->body, "name") + "' is built in",
                                "Built-in roles are read-only and cannot be managed; use data \"verbatim_role\" to "
                                "refer to them."));
      return out;
    }
    out.state = FromServer(r->body);
    return out;
  }

  PlanResult Plan(AdminApi& api, const PlanRequest& req) const override {
    PlanResult out;
    out.planned_private = req.prior_private;
    if (req.proposed.is_null()) return out;
    Value p = req.proposed;
    if (req.config.Get("description").is_null()) p.Put("description", Value::String(""));
    if (req.prior_state.is_null()) p.Put("id", Value::Unknown());
    // A built-in role's name is refused at apply; say so at plan time.
    auto name = p.GetString("name");
    bool renamed = req.prior_state.is_null() || req.prior_state.GetString("name") != name;
    if (name && renamed) {
      auto r = api.Call("GET", "/api/v2/authorization/roles", nullptr);
      if (r.ok() && r->ok())
        if (const auto* all = JField(r->body, "entities"); all && all->is_array())
          for (const auto& role : all->as_array()) {
            if (JBool(role, "builtin") && EqualsIgnoreCase(JStr(role, "name"), *name))
              out.diags.push_back(Error("role name '" + *name + "' belongs to a built-in role",
                                        "Built-in roles are read-only. Choose another name, or refer to the built-in "
                                        "role with data \"verbatim_role\".",
                                        {"name"}));
          }
    }
    out.planned = std::move(p);
    return out;
  }

  StateResult Apply(AdminApi& api, const ApplyRequest& req) const override {
    StateResult out;
    out.private_state = req.planned_private;
    if (req.planned.is_null()) {
      auto id = req.prior_state.GetString("id").value_or("");
      auto r = api.Call("DELETE", "/api/v2/authorization/roles/" + id, nullptr);
      if (!r.ok()) out.diags.push_back(Unreachable("deleting verbatim_role " + id, r.status()));
      else if (!r->ok() && r->status != 404) out.diags.push_back(ApiError("deleting verbatim_role " + id, *r));
      if (!out.diags.empty()) out.state = req.prior_state;
      return out;
    }
    const Value& p = req.planned;
    json::object body;
    body["name"] = p.GetString("name").value_or("");
    body["description"] = p.GetString("description").value_or("");
    body["permissions"] = ToJsonStrings(StringsOr(p, "permissions"));
    json::value v = body;
    const bool create = req.prior_state.is_null();
    const std::string id = req.prior_state.GetString("id").value_or("");
    auto r = create ? api.Call("POST", "/api/v2/authorization/roles", &v)
                    : api.Call("PUT", "/api/v2/authorization/roles/" + id, &v);
    const std::string what = (create ? "creating verbatim_role " : "updating verbatim_role ") + p.GetString("name").value_or("");
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError(what, *r) : Unreachable(what, r.status()));
      if (!create) out.state = req.prior_state;
      return out;
    }
    out.state = FromServer(r->body);
    return out;
  }

  StateResult Import(AdminApi&, const std::string& id) const override {
    StateResult out;
    Value v = Value::Object({});
    for (const auto& a : schema_.attributes) v.Put(a.name, Value::Null());
    v.Put("id", Value::String(id));
    out.state = std::move(v);
    return out;
  }

 private:
  static Value FromServer(const json::value& r) {
    Value v = Value::Object({});
    v.Put("id", Value::String(JStr(r, "id")));
    v.Put("name", Value::String(JStr(r, "name")));
    v.Put("description", Value::String(JStr(r, "description")));
    v.Put("permissions", Value::StringSet(JStrings(r, "permissions")));
    return v;
  }

  Schema schema_;
};

}  // namespace

std::unique_ptr<ResourceType> NewRoleResource() { return std::make_unique<Role>(); }

}  // namespace verbatim::terraform
