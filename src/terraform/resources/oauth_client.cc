// verbatim_oauth_client: an OAuth client of verbatim (POST/GET/PATCH/DELETE
// /api/v2/oauth/clients), plus `expected_actions`, which lives only in
// Terraform: what the client exists to do, checked at every plan by the
// server's engine (terraform/access_checks.h).
#include "terraform/access_checks.h"
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

const Type kStrings = Type::Set(Type::String());

class OAuthClient final : public ResourceType {
 public:
  OAuthClient() {
    schema_.description =
        "An OAuth 2.0 client (client_credentials) of verbatim: its allowed scopes and its roles. The effective "
        "permissions of its tokens are the permissions of its roles ∩ those unlocked by the token's scopes. "
        "`expected_actions` makes every plan check, with verbatim's own engine, that the client can do what it "
        "exists for.";
    schema_.attributes = {
        Computed("id", Type::String(), "The client's id (a UUID). `terraform import` takes it."),
        Computed("client_id", Type::String(), "The OAuth `client_id` to request tokens with (equal to `id`)."),
        Required("name", Type::String(), "Name, 1 to 128 characters; names the client in every explanation."),
        OptionalComputed("description", Type::String(), "Free text, up to 1024 characters. Default `\"\"`."),
        Required("scopes", kStrings,
                 "Scopes the client may request (`allowedScopes`), e.g. `recording:control`. A token gets all of "
                 "them unless it asks for fewer."),
        OptionalComputed("roles", kStrings,
                         "Roles of the client, by name (case-insensitive) or id; built-in or `verbatim_role`. "
                         "Default: none."),
        OptionalComputed("enabled", Type::Bool(),
                         "Whether the client may get tokens (a disabled client's tokens stop working). Unset: as "
                         "the server has it, `true` for a new client; a client disabled by hand stays disabled "
                         "until the configuration says `enabled = true`."),
        OptionalComputed("access_token_validity_seconds", Type::Number(),
                         "Lifetime of its access tokens, 60 to 86400 seconds. Default: the server's (3600)."),
        Optional("expected_actions", kStrings,
                 "Actions (concrete permissions such as `recording:recording:start`) this client exists to "
                 "perform. Every plan asks verbatim's engine whether the planned scopes and roles allow each one; "
                 "a denial fails the plan with the 403 the client would get and its fix. Not sent to the server."),
        Optional("rotate_secret_trigger", Type::String(),
                 "Any value; changing it rotates the client secret (the new one is in `client_secret`)."),
        Sensitive(Computed("client_secret", Type::String(),
                           "The client secret. Known only after create and after a rotation (the server shows "
                           "it once); null after import.")),
    };
  }

  std::string name() const override { return "verbatim_oauth_client"; }

  // After an import the state names roles as the server does ("Auditor");
  // a configuration saying "auditor" or the id means the same roles.
  static void KeepPriorRoleSpelling(AdminApi& api, const Value& prior, Value& planned) {
    auto want = planned.GetStrings("roles");
    auto had = prior.GetStrings("roles");
    if (want && had && !(planned.Get("roles") == prior.Get("roles")) && SameRoles(api, *want, *had))
      planned.Put("roles", prior.Get("roles"));
  }
  const Schema& schema() const override { return schema_; }

  Diagnostics Validate(const Value& config) const override {
    Diagnostics d;
    CheckLength(config, "name", 1, 128, d);
    CheckLength(config, "description", 0, 1024, d);
    if (auto actions = config.GetStrings("expected_actions"))
      for (const auto& a : *actions)
        if (!IsPermission(a, false))
          d.push_back(Error("expected_actions: '" + a + "' is not an action",
                            "An action is a concrete permission domain:entity:action without '*', e.g. "
                            "recording:recording:start.",
                            {"expected_actions"}));
    const Value& v = config.Get("access_token_validity_seconds");
    if (v.kind() == Value::Kind::kNumber &&
        (v.as_number() < 60 || v.as_number() > 86400 || v.as_number() != static_cast<double>(static_cast<int64_t>(v.as_number()))))
      d.push_back(Error("access_token_validity_seconds must be a whole number from 60 to 86400", {},
                        {"access_token_validity_seconds"}));
    return d;
  }

  StateResult Read(AdminApi& api, const Value& state, const std::string& private_state) const override {
    StateResult out;
    out.private_state = private_state;
    auto id = state.GetString("id");
    if (!id) return out;
    auto r = api.Call("GET", "/api/v2/oauth/clients/" + *id, nullptr);
    if (!r.ok()) {
      out.diags.push_back(Unreachable("reading verbatim_oauth_client " + *id, r.status()));
      out.state = state;
      return out;
    }
    if (r->status == 404 && r->code() == "client.not.found") return out;  // deleted by hand: planned again
    if (!r->ok()) {
      out.diags.push_back(ApiError("reading verbatim_oauth_client " + *id, *r));
      out.state = state;
      return out;
    }
    out.state = FromServer(r->body, state);
    return out;
  }

  PlanResult Plan(AdminApi& api, const PlanRequest& req) const override {
    PlanResult out;
    out.planned_private = req.prior_private;
    if (req.proposed.is_null()) return out;  // destroy
    Value p = req.proposed;
    if (req.config.Get("description").is_null()) p.Put("description", Value::String(""));
    if (req.config.Get("roles").is_null()) p.Put("roles", Value::StringSet({}));
    if (req.prior_state.is_null()) {
      for (const char* k : {"id", "client_id", "client_secret"}) p.Put(k, Value::Unknown());
      for (const char* k : {"access_token_validity_seconds", "enabled"})
        if (req.config.Get(k).is_null()) p.Put(k, Value::Unknown());
    } else {
      if (!(req.config.Get("rotate_secret_trigger") == req.prior_state.Get("rotate_secret_trigger")))
        p.Put("client_secret", Value::Unknown());
      KeepPriorRoleSpelling(api, req.prior_state, p);
    }
    out.diags = Checks(api, p, req.prior_state, req.access_checks);
    out.planned = std::move(p);
    return out;
  }

  StateResult Apply(AdminApi& api, const ApplyRequest& req) const override {
    StateResult out;
    out.private_state = req.planned_private;
    const Value& p = req.planned;
    if (p.is_null()) {  // destroy
      auto id = req.prior_state.GetString("id").value_or("");
      auto r = api.Call("DELETE", "/api/v2/oauth/clients/" + id, nullptr);
      if (!r.ok()) out.diags.push_back(Unreachable("deleting verbatim_oauth_client " + id, r.status()));
      else if (!r->ok() && r->status != 404) out.diags.push_back(ApiError("deleting verbatim_oauth_client " + id, *r));
      if (!out.diags.empty()) out.state = req.prior_state;
      return out;
    }
    json::object body;
    body["name"] = p.GetString("name").value_or("");
    body["description"] = p.GetString("description").value_or("");
    body["allowedScopes"] = ToJsonStrings(StringsOr(p, "scopes"));
    body["roles"] = ToJsonStrings(StringsOr(p, "roles"));
    const Value& validity = p.Get("access_token_validity_seconds");
    if (validity.kind() == Value::Kind::kNumber) body["accessTokenValiditySeconds"] = static_cast<int64_t>(validity.as_number());
    if (p.Get("enabled").kind() == Value::Kind::kBool) body["enabled"] = p.Get("enabled").as_bool();

    if (req.prior_state.is_null()) {
      body["allowedGrantTypes"] = json::array{"client_credentials"};
      json::value v = body;
      auto r = api.Call("POST", "/api/v2/oauth/clients", &v);
      if (!r.ok()) {
        out.diags.push_back(Unreachable("creating verbatim_oauth_client " + p.GetString("name").value_or(""), r.status()));
        return out;
      }
      if (!r->ok()) {
        out.diags.push_back(ApiError("creating verbatim_oauth_client " + p.GetString("name").value_or(""), *r));
        return out;
      }
      out.state = FromServer(r->body, p);
      out.state.Put("client_secret", Value::String(JStr(r->body, "clientSecret")));
      return out;
    }

    const std::string id = req.prior_state.GetString("id").value_or("");
    json::value v = body;
    auto r = api.Call("PATCH", "/api/v2/oauth/clients/" + id, &v);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("updating verbatim_oauth_client " + id, *r)
                                 : Unreachable("updating verbatim_oauth_client " + id, r.status()));
      out.state = req.prior_state;
      return out;
    }
    out.state = FromServer(r->body, p);
    if (p.Get("client_secret").is_unknown()) {
      auto s = api.Call("POST", "/api/v2/oauth/clients/" + id + "/secret", nullptr);
      if (!s.ok() || !s->ok()) {
        out.diags.push_back(s.ok() ? ApiError("rotating the secret of verbatim_oauth_client " + id, *s)
                                   : Unreachable("rotating the secret of verbatim_oauth_client " + id, s.status()));
        out.state.Put("client_secret", req.prior_state.Get("client_secret"));
        out.state.Put("rotate_secret_trigger", req.prior_state.Get("rotate_secret_trigger"));
        return out;
      }
      out.state.Put("client_secret", Value::String(JStr(s->body, "clientSecret")));
    }
    return out;
  }

  StateResult Import(AdminApi&, const std::string& id) const override {
    StateResult out;
    if (id.empty()) {
      out.diags.push_back(Error("import needs the client's id",
                                "terraform import verbatim_oauth_client.NAME <id>; GET /api/v2/oauth/clients lists ids."));
      return out;
    }
    Value v = Value::Object({});
    for (const auto& a : schema_.attributes) v.Put(a.name, Value::Null());
    v.Put("id", Value::String(id));
    out.state = std::move(v);
    return out;
  }

 private:
  // The server's answer as state. `like` (planned or prior) supplies what only
  // Terraform knows: role spelling, expected_actions, the trigger, the secret.
  Value FromServer(const json::value& c, const Value& like) const {
    Value v = Value::Object({});
    const std::string id = JStr(c, "id");
    v.Put("id", Value::String(id));
    v.Put("client_id", Value::String(id));
    v.Put("name", Value::String(JStr(c, "name")));
    v.Put("description", Value::String(JStr(c, "description")));
    v.Put("scopes", Value::StringSet(JStrings(c, "allowedScopes")));
    const json::value* roles = c.is_object() ? c.as_object().if_contains("roles") : nullptr;
    v.Put("roles", Value::StringSet(RoleRefsLike(roles ? *roles : json::value(), StringsOr(like, "roles"))));
    const json::value* validity = c.is_object() ? c.as_object().if_contains("accessTokenValiditySeconds") : nullptr;
    v.Put("access_token_validity_seconds",
          validity && validity->is_number() ? Value::Number(validity->to_number<double>()) : Value::Null());
    const json::value* enabled = JField(c, "enabled");
    v.Put("enabled", enabled && enabled->is_bool() ? Value::Bool(enabled->as_bool()) : Value::Null());
    v.Put("expected_actions", like.Get("expected_actions"));
    v.Put("rotate_secret_trigger", like.Get("rotate_secret_trigger"));
    const Value& secret = like.Get("client_secret");
    v.Put("client_secret", secret.is_unknown() ? Value::Null() : secret);
    return v;
  }

  Diagnostics Checks(AdminApi& api, const Value& planned, const Value& prior, AccessCheckMode mode) const {
    if (mode == AccessCheckMode::kOff) return {};
    auto scopes = planned.GetStrings("scopes");
    auto roles = planned.GetStrings("roles");
    const Value& actions = planned.Get("expected_actions");
    // Unknown until apply (e.g. roles = [verbatim_role.x.id]): Terraform plans
    // again during apply with the values known, and the checks run then.
    if (!scopes || !roles || !actions.WhollyKnown() || !planned.Get("name").is_known()) return {};
    PlannedClient c;
    c.name = planned.GetString("name").value_or("");
    c.client_id = prior.GetString("id").value_or("");
    c.scopes = *scopes;
    c.roles = *roles;
    c.expected_actions = StringsOr(planned, "expected_actions");
    return CheckPlannedClient(api, c, mode);
  }

  Schema schema_;
};

}  // namespace

std::unique_ptr<ResourceType> NewOAuthClientResource() { return std::make_unique<OAuthClient>(); }

}  // namespace verbatim::terraform
