// verbatim_audiohook_integration: what an AudioHook client authenticates as
// (POST/GET/DELETE /api/v2/media/integrations). The server has no update, so
// every change replaces the integration (new API key and secret).
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

class AudioHookIntegration final : public ResourceType {
 public:
  AudioHookIntegration() {
    schema_.description =
        "An AudioHook integration: the API key and client secret a Genesys-style AudioHook client signs its "
        "WebSocket requests with, and the roles it streams as. Changing `name` or `roles` replaces it (new key "
        "and secret).";
    schema_.attributes = {
        Computed("id", Type::String(), "The integration's id (a UUID). `terraform import` takes it."),
        Required("name", Type::String(), "Unique name (case-insensitive), 1 to 128 characters. Changing it replaces the integration."),
        OptionalComputed("roles", Type::Set(Type::String()),
                         "Roles by name or id. Default: `Media Ingest`. Changing them replaces the integration."),
        Sensitive(Computed("api_key", Type::String(), "The `X-API-KEY`. Known only after create; null after import.")),
        Sensitive(Computed("client_secret", Type::String(),
                           "The base64 secret that keys the HTTP message signature. Known only after create; null "
                           "after import.")),
        Computed("api_key_prefix", Type::String(), "The first characters of the API key, to tell keys apart."),
        Computed("path", Type::String(), "The WebSocket path AudioHook clients connect to."),
    };
  }

  std::string name() const override { return "verbatim_audiohook_integration"; }
  const Schema& schema() const override { return schema_; }

  Diagnostics Validate(const Value& config) const override {
    Diagnostics d;
    CheckLength(config, "name", 1, 128, d);
    return d;
  }

  StateResult Read(AdminApi& api, const Value& state, const std::string& private_state) const override {
    StateResult out;
    out.private_state = private_state;
    auto id = state.GetString("id");
    if (!id) return out;
    // The API lists integrations; there is no GET by id.
    auto r = api.Call("GET", "/api/v2/media/integrations", nullptr);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("reading verbatim_audiohook_integration " + *id, *r)
                                 : Unreachable("reading verbatim_audiohook_integration " + *id, r.status()));
      out.state = state;
      return out;
    }
    if (const auto* all = JField(r->body, "entities"); all && all->is_array())
      for (const auto& m : all->as_array())
        if (JStr(m, "id") == *id) out.state = FromServer(m, state);
    return out;  // null when gone
  }

  PlanResult Plan(AdminApi& api, const PlanRequest& req) const override {
    PlanResult out;
    out.planned_private = req.prior_private;
    if (req.proposed.is_null()) return out;
    Value p = req.proposed;
    bool create = req.prior_state.is_null();
    if (!create) {
      auto want = p.GetStrings("roles");
      auto had = req.prior_state.GetStrings("roles");
      if (want && had && !(p.Get("roles") == req.prior_state.Get("roles")) && SameRoles(api, *want, *had))
        p.Put("roles", req.prior_state.Get("roles"));  // same roles, other spelling: no replacement
      if (!(p.Get("name") == req.prior_state.Get("name"))) out.requires_replace.push_back("name");
      if (!(p.Get("roles") == req.prior_state.Get("roles"))) out.requires_replace.push_back("roles");
    }
    if (create || !out.requires_replace.empty()) {
      for (const char* k : {"id", "api_key", "client_secret", "api_key_prefix", "path"}) p.Put(k, Value::Unknown());
      if (req.config.Get("roles").is_null()) p.Put("roles", Value::Unknown());
    }
    out.planned = std::move(p);
    return out;
  }

  StateResult Apply(AdminApi& api, const ApplyRequest& req) const override {
    StateResult out;
    out.private_state = req.planned_private;
    if (req.planned.is_null()) {
      auto id = req.prior_state.GetString("id").value_or("");
      auto r = api.Call("DELETE", "/api/v2/media/integrations/" + id, nullptr);
      if (!r.ok()) out.diags.push_back(Unreachable("deleting verbatim_audiohook_integration " + id, r.status()));
      else if (!r->ok() && r->status != 404) out.diags.push_back(ApiError("deleting verbatim_audiohook_integration " + id, *r));
      if (!out.diags.empty()) out.state = req.prior_state;
      return out;
    }
    if (!req.prior_state.is_null()) {  // nothing the server stores changed (changes replace)
      out.state = req.planned;
      return out;
    }
    const Value& p = req.planned;
    json::object body;
    body["name"] = p.GetString("name").value_or("");
    if (auto roles = p.GetStrings("roles")) body["roles"] = ToJsonStrings(*roles);
    json::value v = body;
    auto r = api.Call("POST", "/api/v2/media/integrations", &v);
    const std::string what = "creating verbatim_audiohook_integration " + p.GetString("name").value_or("");
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError(what, *r) : Unreachable(what, r.status()));
      return out;
    }
    out.state = FromServer(r->body, p);
    out.state.Put("api_key", Value::String(JStr(r->body, "apiKey")));
    out.state.Put("client_secret", Value::String(JStr(r->body, "clientSecret")));
    out.state.Put("path", Value::String(JStr(r->body, "path")));
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
  static constexpr const char* kPath = "/api/v2/media/audiohook";

  static Value FromServer(const json::value& m, const Value& like) {
    Value v = Value::Object({});
    v.Put("id", Value::String(JStr(m, "id")));
    v.Put("name", Value::String(JStr(m, "name")));
    const json::value* roles = JField(m, "roles");
    v.Put("roles", Value::StringSet(RoleRefsLike(roles ? *roles : json::value(), StringsOr(like, "roles"))));
    v.Put("api_key_prefix", Value::String(JStr(m, "apiKeyPrefix")));
    // Listed integrations do not repeat the path; it is the same for all.
    std::string path = JStr(m, "path");
    v.Put("path", Value::String(path.empty() ? kPath : path));
    for (const char* k : {"api_key", "client_secret"}) {
      const Value& s = like.Get(k);
      v.Put(k, s.is_unknown() ? Value::Null() : s);
    }
    return v;
  }

  Schema schema_;
};

}  // namespace

std::unique_ptr<ResourceType> NewAudioHookIntegrationResource() { return std::make_unique<AudioHookIntegration>(); }

}  // namespace verbatim::terraform
