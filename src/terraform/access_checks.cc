#include "terraform/access_checks.h"

#include <algorithm>

#include "terraform/resources/common.h"

namespace verbatim::terraform {
namespace {

std::string JoinWith(const std::vector<std::string>& items, const std::string& last_sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : i + 1 == items.size() ? last_sep : ", ") + items[i];
  return out;
}

const json::value* Layer(const json::value& check, std::string_view name) {
  if (!check.is_object()) return nullptr;
  const auto* e = check.as_object().if_contains("explanation");
  if (!e || !e->is_object()) return nullptr;
  const auto* layers = e->as_object().if_contains("layers");
  if (!layers || !layers->is_array()) return nullptr;
  for (const auto& l : layers->as_array())
    if (JStr(l, "layer") == name) return &l;
  return nullptr;
}

bool Failed(const json::value* layer) { return layer && JStr(*layer, "result") == "fail"; }

std::string LayerLine(const json::value& l) {
  std::string name = JStr(l, "layer");
  std::string result = JStr(l, "result");
  std::string line = "  " + name + std::string(name.size() < 12 ? 12 - name.size() : 1, ' ');
  if (name == "resource" && result == "not-evaluated")
    return line + "not evaluated at plan time: which object a request names, and its state, are known only per request";
  line += result;
  auto required = JStrings(l, "required");
  auto granted = JStrings(l, "granted");
  std::string by = JStr(l, "grantedBy");
  if (result == "fail") {
    if (!required.empty()) line += "  required: " + JoinWith(required, " or ");
    line += "  granted: " + (granted.empty() ? std::string("none") : JoinWith(granted, ", "));
  } else if (!by.empty()) {
    line += "  (by " + by + ")";
  }
  return line;
}

Diagnostic RoleNotYetThere(const PlannedClient& c, const ApiResponse& r) {
  return Warning(c.name + ": access not checked yet",
                 JStr(r.body, "message") +
                     " If the role is created in this same run, Terraform plans this client again during apply, "
                     "once the role exists, and the check runs then.",
                 {"roles"});
}

}  // namespace

Diagnostic RenderDenial(const std::string& client_name, const std::string& action, const json::value& check) {
  const json::value* scope = Layer(check, "scope");
  const json::value* perm = Layer(check, "permission");
  std::vector<std::string> granting_roles;
  if (perm && perm->is_object())
    if (const auto* extra = perm->as_object().if_contains("grantingRoles"); extra && extra->is_array())
      for (const auto& r : extra->as_array())
        if (r.is_string()) granting_roles.emplace_back(r.as_string());

  // The short fix, in the configuration's terms.
  std::vector<std::string> todo;
  std::vector<std::string> in_config;
  if (Failed(scope)) {
    auto required = JStrings(*scope, "required");
    todo.push_back("scope " + (required.empty() ? std::string("(none unlocks it)") : JoinWith(required, " or ")));
    if (!required.empty()) in_config.push_back("add \"" + required.front() + "\" to scopes");
  }
  if (Failed(perm)) {
    if (granting_roles.empty()) {
      todo.push_back("a role with permission " + action);
      in_config.push_back("add a verbatim_role with permission \"" + action + "\" to roles");
    } else {
      todo.push_back("a role that grants it (" + JoinWith(granting_roles, " or ") + ")");
      in_config.push_back("add one of " + JoinWith(granting_roles, ", ") + " to roles");
    }
  }
  const std::string status = check.is_object() && check.as_object().contains("status")
                                 ? json::serialize(check.as_object().at("status"))
                                 : "403";
  std::string code = JStr(check, "code");
  std::string summary = client_name + " will get " + status + " " + code + " on " + action;
  if (!todo.empty()) summary += ": add " + JoinWith(todo, " and ");

  std::string detail = JStr(check, "message");
  detail += "\n\nverbatim's authorization engine (POST /api/v2/authorization/check), with the planned scopes and roles:";
  if (check.is_object())
    if (const auto* e = check.as_object().if_contains("explanation"); e && e->is_object())
      if (const auto* layers = e->as_object().if_contains("layers"); layers && layers->is_array())
        for (const auto& l : layers->as_array()) detail += "\n" + LayerLine(l);
  std::vector<std::string> fixes;
  if (check.is_object())
    if (const auto* e = check.as_object().if_contains("explanation")) fixes = JStrings(*e, "fix");
  if (!fixes.empty()) {
    detail += "\nFix:";
    for (const auto& f : fixes) detail += "\n  - " + f;
  }
  if (!in_config.empty()) detail += "\nIn this configuration: " + JoinWith(in_config, " and ") + ".";
  return Error(std::move(summary), std::move(detail), {"expected_actions"});
}

Diagnostic RenderUnusableScope(const std::string& client_name, const json::value& scope_use) {
  std::string scope = JStr(scope_use, "scope");
  std::string detail = JStr(scope_use, "fix");
  auto unlocks = JStrings(scope_use, "unlocks");
  if (!unlocks.empty()) detail += "\nScope " + scope + " unlocks: " + JoinWith(unlocks, ", ") + ".";
  return Warning(client_name + ": scope " + scope + " can never be used", std::move(detail), {"scopes"});
}

Diagnostics CheckPlannedClient(AdminApi& api, const PlannedClient& c, AccessCheckMode mode) {
  Diagnostics out;
  if (mode == AccessCheckMode::kOff) return out;
  json::object principal;
  principal["name"] = c.name;
  principal["scopes"] = ToJsonStrings(c.scopes);
  principal["roles"] = ToJsonStrings(c.roles);
  if (!c.client_id.empty()) principal["clientId"] = c.client_id;

  json::value access_body = json::object{{"principal", principal}};
  auto access = api.Call("POST", "/api/v2/authorization/effective-access", &access_body);
  if (!access.ok()) {
    out.push_back(Unreachable(c.name + ": cannot check its access", access.status()));
    return out;
  }
  if (!access->ok()) {
    if (access->status == 400 && access->field() == "principal.roles") out.push_back(RoleNotYetThere(c, *access));
    else if (access->status == 400 && access->field() == "principal.scopes")
      out.push_back(ApiError(c.name + ": unknown scope", *access, {"scopes"}));
    else out.push_back(ApiError(c.name + ": cannot check its access", *access));
    return out;
  }
  if (access->body.is_object())
    if (const auto* uses = access->body.as_object().if_contains("scopeUse"); uses && uses->is_array())
      for (const auto& u : uses->as_array())
        if (JStrings(u, "usable").empty()) out.push_back(RenderUnusableScope(c.name, u));

  for (const auto& action : c.expected_actions) {
    json::value check_body = json::object{{"principal", principal}, {"action", action}};
    auto check = api.Call("POST", "/api/v2/authorization/check", &check_body);
    if (!check.ok()) {
      out.push_back(Unreachable(c.name + ": cannot check " + action, check.status()));
      continue;
    }
    if (!check->ok()) {
      out.push_back(ApiError(c.name + ": cannot check expected action " + action, *check, {"expected_actions"}));
      continue;
    }
    if (JStr(check->body, "decision") != "allow") {
      out.push_back(RenderDenial(c.name, action, check->body));
      if (mode == AccessCheckMode::kWarning) out.back().severity = Diagnostic::Severity::kWarning;
    }
  }
  return out;
}

}  // namespace verbatim::terraform
