// data "verbatim_role": a built-in or custom role by name (case-insensitive) or id.
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

class RoleData final : public DataSourceType {
 public:
  RoleData() {
    schema_.description = "A role, built in or custom, found by `name` (case-insensitive) or `id`.";
    schema_.attributes = {
        OptionalComputed("name", Type::String(), "The role's name. Give `name` or `id`."),
        OptionalComputed("id", Type::String(), "The role's id."),
        Computed("description", Type::String(), "What the role is for."),
        Computed("permissions", Type::Set(Type::String()), "The permissions it grants."),
        Computed("builtin", Type::Bool(), "True for the read-only built-in roles."),
    };
  }
  std::string name() const override { return "verbatim_role"; }
  const Schema& schema() const override { return schema_; }

  Diagnostics Validate(const Value& config) const override {
    if (config.Get("name").is_null() && config.Get("id").is_null())
      return {Error("data \"verbatim_role\" needs name or id", "Give the role's name (case-insensitive) or its id.")};
    return {};
  }

  StateResult Read(AdminApi& api, const Value& config) const override {
    StateResult out;
    auto r = api.Call("GET", "/api/v2/authorization/roles", nullptr);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("listing roles", *r) : Unreachable("listing roles", r.status()));
      return out;
    }
    auto name = config.GetString("name");
    auto id = config.GetString("id");
    std::string names;
    if (const auto* all = JField(r->body, "entities"); all && all->is_array()) {
      for (const auto& role : all->as_array()) {
        names += (names.empty() ? "" : ", ") + JStr(role, "name");
        bool match = (!name || EqualsIgnoreCase(*name, JStr(role, "name"))) && (!id || *id == JStr(role, "id"));
        if (!match) continue;
        Value v = Value::Object({});
        v.Put("id", Value::String(JStr(role, "id")));
        // Keep the configured spelling so the data source reads back what was asked.
        v.Put("name", name ? Value::String(*name) : Value::String(JStr(role, "name")));
        v.Put("description", Value::String(JStr(role, "description")));
        v.Put("permissions", Value::StringSet(JStrings(role, "permissions")));
        v.Put("builtin", Value::Bool(JBool(role, "builtin")));
        out.state = std::move(v);
        return out;
      }
    }
    out.diags.push_back(Error("no role " + (name ? "named '" + *name + "'" : "with id '" + id.value_or("") + "'"),
                              "Roles: " + names + ".", {name ? "name" : "id"}));
    return out;
  }

 private:
  Schema schema_;
};

}  // namespace

std::unique_ptr<DataSourceType> NewRoleDataSource() { return std::make_unique<RoleData>(); }

}  // namespace verbatim::terraform
