// data "verbatim_effective_access": a client → its effective permissions
// (scopes ∩ roles), from POST /api/v2/authorization/effective-access.
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

class EffectiveAccess final : public DataSourceType {
 public:
  EffectiveAccess() {
    schema_.description =
        "What an OAuth client can do: the permissions of its roles ∩ those its scopes unlock, and the scopes "
        "no role of it can ever use.";
    const Type strings = Type::Set(Type::String());
    schema_.attributes = {
        Required("client_id", Type::String(), "The client's id."),
        Optional("scopes", strings, "The scopes its token would carry (default: all its allowed scopes)."),
        Computed("name", Type::String(), "The client's name."),
        Computed("roles", strings, "Its roles, by name."),
        Computed("allowed_scopes", strings, "The scopes it may request."),
        Computed("effective_permissions", strings, "Permissions its tokens have: roles ∩ scopes."),
        Computed("granted_by_roles_but_not_by_scopes", strings, "Would need another scope."),
        Computed("unlocked_by_scopes_but_not_by_roles", strings, "Would need another role."),
        Computed("unusable_scopes", strings, "Scopes no role of the client can ever use."),
    };
  }
  std::string name() const override { return "verbatim_effective_access"; }
  const Schema& schema() const override { return schema_; }

  StateResult Read(AdminApi& api, const Value& config) const override {
    StateResult out;
    json::object body;
    body["principal"] = config.GetString("client_id").value_or("");
    if (auto s = config.GetStrings("scopes")) body["scopes"] = ToJsonStrings(*s);
    json::value v = body;
    auto r = api.Call("POST", "/api/v2/authorization/effective-access", &v);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("reading the effective access", *r, {"client_id"})
                                 : Unreachable("reading the effective access", r.status()));
      return out;
    }
    const json::value& b = r->body;
    Value s = config;
    const json::value* who = JField(b, "principal");
    s.Put("name", Value::String(who ? JStr(*who, "name") : ""));
    std::vector<std::string> roles;
    if (const auto* rs = JField(b, "roles"); rs && rs->is_array())
      for (const auto& role : rs->as_array()) roles.push_back(JStr(role, "name").empty() ? JStr(role, "id") : JStr(role, "name"));
    s.Put("roles", Value::StringSet(roles));
    s.Put("allowed_scopes", Value::StringSet(JStrings(b, "allowedScopes")));
    if (s.Get("scopes").is_null()) s.Put("scopes", Value::Null());
    s.Put("effective_permissions", Value::StringSet(JStrings(b, "effectivePermissions")));
    s.Put("granted_by_roles_but_not_by_scopes", Value::StringSet(JStrings(b, "grantedByRolesButNotByScopes")));
    s.Put("unlocked_by_scopes_but_not_by_roles", Value::StringSet(JStrings(b, "unlockedByScopesButNotByRoles")));
    s.Put("unusable_scopes", Value::StringSet(JStrings(b, "unusableScopes")));
    out.state = std::move(s);
    return out;
  }

 private:
  Schema schema_;
};

}  // namespace

std::unique_ptr<DataSourceType> NewEffectiveAccessDataSource() { return std::make_unique<EffectiveAccess>(); }

}  // namespace verbatim::terraform
