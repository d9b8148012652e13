// data "verbatim_access_check": the authorization simulator
// (POST /api/v2/authorization/check) as a data source: principal + action +
// resource → allowed, code, layers and fixes, exactly as the engine answers.
#include "terraform/resources/common.h"
#include "terraform/resources/resources.h"

namespace verbatim::terraform {
namespace {

Type LayerType() {
  return Type::Object({{"layer", Type::String()},
                       {"result", Type::String()},
                       {"code", Type::String()},
                       {"required", Type::List(Type::String())},
                       {"granted", Type::List(Type::String())},
                       {"granted_by", Type::String()},
                       {"detail", Type::String()}});
}

class AccessCheck final : public DataSourceType {
 public:
  AccessCheck() {
    schema_.description =
        "Asks verbatim's authorization engine whether a principal may perform an action, without side effects: "
        "the same decision, layers and fixes a real request would get. The principal is an existing client "
        "(`principal`), or a planned one (`scopes`, `roles`, `name`).";
    schema_.attributes = {
        Optional("principal", Type::String(), "Id of an existing client. With `scopes`/`roles`: a what-if on it."),
        Optional("name", Type::String(), "Name of a planned client (messages only)."),
        Optional("scopes", Type::Set(Type::String()),
                 "Without `principal`: the planned client's scopes. With it: the scopes its token would carry."),
        Optional("roles", Type::Set(Type::String()), "Roles (names or ids) of a planned client."),
        Optional("action", Type::String(), "A concrete permission, e.g. `recording:recording:start`."),
        Optional("method", Type::String(), "Instead of `action`: an HTTP method, with `path`."),
        Optional("path", Type::String(), "Instead of `action`: an API path, with `method`."),
        Optional("resource", Type::String(),
                 "With `action`: e.g. `conversation/<id>`, which also evaluates the resource layer."),
        Computed("allowed", Type::Bool(), "Whether the request would be allowed."),
        Computed("status", Type::Number(), "The HTTP status it would get."),
        Computed("code", Type::String(), "The error code it would get (`missing.scope`, ...); null when allowed."),
        Computed("message", Type::String(), "The message it would get."),
        Computed("layers", Type::List(LayerType()),
                 "token, scope, permission, resource: each layer's result (`detail` of a passing token layer is "
                 "left out: it names the simulated token's expiry, which changes on every read)."),
        Computed("fix", Type::List(Type::String()), "What would make it allowed."),
    };
  }
  std::string name() const override { return "verbatim_access_check"; }
  const Schema& schema() const override { return schema_; }

  Diagnostics Validate(const Value& config) const override {
    Diagnostics d;
    bool has_action = !config.Get("action").is_null();
    bool has_route = !config.Get("method").is_null() || !config.Get("path").is_null();
    if (has_action == has_route)
      d.push_back(Error("give either action, or method and path", "e.g. action = \"recording:recording:start\"."));
    bool planned = !config.Get("roles").is_null() || !config.Get("name").is_null() ||
                   (config.Get("principal").is_null() && !config.Get("scopes").is_null());
    if (config.Get("principal").is_null() && !planned)
      d.push_back(Error("give a principal (a client id) or a planned client (scopes, roles)"));
    return d;
  }

  StateResult Read(AdminApi& api, const Value& config) const override {
    StateResult out;
    json::object body;
    auto principal = config.GetString("principal");
    bool planned = !config.Get("roles").is_null() || !config.Get("name").is_null() || !principal;
    if (planned) {
      json::object p;
      if (principal) p["clientId"] = *principal;
      if (auto n = config.GetString("name")) p["name"] = *n;
      if (auto s = config.GetStrings("scopes")) p["scopes"] = ToJsonStrings(*s);
      if (auto r = config.GetStrings("roles")) p["roles"] = ToJsonStrings(*r);
      body["principal"] = std::move(p);
    } else {
      body["principal"] = *principal;
      if (auto s = config.GetStrings("scopes")) body["scopes"] = ToJsonStrings(*s);
    }
    for (const char* k : {"action", "method", "path", "resource"})
      if (auto v = config.GetString(k)) body[k] = *v;
    json::value v = body;
    auto r = api.Call("POST", "/api/v2/authorization/check", &v);
    if (!r.ok() || !r->ok()) {
      out.diags.push_back(r.ok() ? ApiError("checking access", *r) : Unreachable("checking access", r.status()));
      return out;
    }
    Value s = config;
    s.Put("allowed", Value::Bool(JStr(r->body, "decision") == "allow"));
    const auto* status = JField(r->body, "status");
    s.Put("status", status && status->is_number() ? Value::Number(status->to_number<double>()) : Value::Null());
    std::string code = JStr(r->body, "code");
    s.Put("code", code.empty() ? Value::Null() : Value::String(code));
    s.Put("message", Value::String(JStr(r->body, "message")));
    std::vector<Value> layers;
    std::vector<std::string> fix;
    if (const auto* e = JField(r->body, "explanation")) {
      fix = JStrings(*e, "fix");
      if (const auto* ls = JField(*e, "layers"); ls && ls->is_array())
        for (const auto& l : ls->as_array()) {
          auto opt = [&](const char* k) {
            std::string x = JStr(l, k);
            return x.empty() ? Value::Null() : Value::String(x);
          };
          // A passing token layer's detail carries the simulated token's
          // expiry, new on every read: it would show as a change in every plan.
          const bool volatile_detail = JStr(l, "layer") == "token" && JStr(l, "result") == "pass";
          layers.push_back(Value::Object({{"layer", Value::String(JStr(l, "layer"))},
                                          {"result", Value::String(JStr(l, "result"))},
                                          {"code", opt("code")},
                                          {"required", Value::StringList(JStrings(l, "required"))},
                                          {"granted", Value::StringList(JStrings(l, "granted"))},
                                          {"granted_by", opt("grantedBy")},
                                          {"detail", volatile_detail ? Value::Null() : opt("detail")}}));
        }
    }
    s.Put("layers", Value::List(std::move(layers)));
    s.Put("fix", Value::StringList(fix));
    out.state = std::move(s);
    return out;
  }

 private:
  Schema schema_;
};

}  // namespace

std::unique_ptr<DataSourceType> NewAccessCheckDataSource() { return std::make_unique<AccessCheck>(); }

}  // namespace verbatim::terraform
