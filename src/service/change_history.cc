#include "service/change_history.h"

#include <algorithm>

#include "authz/permission.h"
#include "core/json.h"
#include "core/log.h"

namespace verbatim::service {

namespace {

// One field of an entry, its values parsed ("" = absent → null).
struct FieldValues {
  json::value before, after;
  bool present = false;
};

FieldValues FieldOf(const store::ChangeEntry& e, std::string_view name) {
  FieldValues v;
  for (const auto& f : e.fields) {
    if (f.field != name) continue;
    boost::system::error_code ec;
    if (!f.before.empty()) v.before = json::parse(f.before, ec);
    if (!f.after.empty()) v.after = json::parse(f.after, ec);
    v.present = true;
  }
  return v;
}

std::vector<std::string> Strings(const json::value& v) {
  std::vector<std::string> out;
  if (const auto* a = v.if_array())
    for (const auto& s : *a)
      if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// "client 'ops-bot' (contextId …)", "verbatim users create".
std::string Who(const store::ChangeEntry& e) {
  std::string who = e.actor.principal_type == "system" ? e.actor.principal_name
                                                        : e.actor.principal_type + " '" + e.actor.principal_name + "'";
  if (!e.context_id.empty()) who += " (contextId " + e.context_id + ")";
  return who;
}

std::string Subject(const store::ChangeEntry& e) {
  return std::string(e.subject_type == "user" ? "User" : "Client") + " '" + e.subject_name + "'";
}

authz::HistoryNote NoteOf(const store::ChangeEntry& e, const char* layer, std::string message, std::string fix) {
  authz::HistoryNote n;
  n.layer = layer;
  n.change_id = e.id;
  n.kind = e.kind;
  n.at = FormatRfc3339(e.at);
  n.actor_type = e.actor.principal_type;
  n.actor_id = e.actor.principal_id;
  n.actor_name = e.actor.principal_name;
  n.actor_client_id = e.actor.client_id;
  n.context_id = e.context_id;
  n.message = std::move(message);
  n.fix = std::move(fix);
  return n;
}

bool IsSubject(const store::ChangeEntry& e, std::string_view type, std::string_view id) {
  return e.subject_type == type && e.subject_id == id;
}

// ---- token: the tokens of the client or user were refused from some instant on.
std::optional<authz::HistoryNote> TokenNote(const HistorySubject& who, std::span<const store::ChangeEntry> entries) {
  for (const auto& e : entries) {
    const bool own = IsSubject(e, who.type, who.id);
    const bool via = who.type == "user" && IsSubject(e, "client", who.scope_client_id);
    if (!own && !via) continue;
    if (e.kind == e.subject_type + ".deleted") {
      return NoteOf(e, "token", Subject(e) + " was deleted at " + FormatRfc3339(e.at) + " by " + Who(e) + ".", "");
    }
    FieldValues enabled = FieldOf(e, "enabled");
    if (enabled.present && enabled.before == json::value(true) && enabled.after == json::value(false)) {
      const std::string path = e.subject_type == "user" ? "/api/v2/users/" : "/api/v2/oauth/clients/";
      return NoteOf(e, "token", Subject(e) + " was disabled at " + FormatRfc3339(e.at) + " by " + Who(e) + ".",
                    "An administrator can enable it again: PATCH " + path + e.subject_id + " {\"enabled\": true}.");
    }
    FieldValues cutoff = FieldOf(e, "tokensValidAfter");
    if (!cutoff.present || !cutoff.after.is_string()) continue;
    auto until = ParseRfc3339(cutoff.after.as_string());
    if (who.token_issued_at && until && *who.token_issued_at > *until) continue;  // a later token: not this cause
    FieldValues reason = FieldOf(e, "tokensValidAfterReason");
    std::string message = Subject(e) + "'s tokens issued until " + std::string(cutoff.after.as_string()) +
                          " are refused";
    if (reason.after.is_string() && !reason.after.as_string().empty())
      message += " (" + std::string(reason.after.as_string()) + ")";
    message += ": changed at " + FormatRfc3339(e.at) + " by " + Who(e) + ".";
    if (who.token_issued_at) message += " This token was issued at " + FormatRfc3339(*who.token_issued_at) + ".";
    return NoteOf(e, "token", std::move(message), "Request a new token: tokens issued from now on are accepted.");
  }
  return std::nullopt;
}

// ---- scope: the client whose allowed scopes bound the token lost one the call needs.
std::optional<authz::HistoryNote> ScopeNote(const authz::LayerResult& layer, const HistorySubject& who,
                                            std::span<const store::ChangeEntry> entries) {
  for (const auto& e : entries) {
    if (!IsSubject(e, "client", who.scope_client_id)) continue;
    FieldValues scopes = FieldOf(e, "allowedScopes");
    if (!scopes.present) continue;
    const auto before = Strings(scopes.before), after = Strings(scopes.after);
    for (const auto& s : layer.required) {
      // The newest change of the scope decides: given back since, nothing is missing any more.
      if (!Contains(before, s) && Contains(after, s)) return std::nullopt;
      if (!Contains(before, s) || Contains(after, s)) continue;
      return NoteOf(e, "scope",
                    "Client '" + e.subject_name + "' had scope " + s + " until " + FormatRfc3339(e.at) + "; " + Who(e) +
                        " removed it.",
                    "To restore it: PATCH /api/v2/oauth/clients/" + e.subject_id + " with allowedScopes including '" +
                        s + "' (permission oauth:client:edit), then request a new token with scope " + s + ".");
    }
  }
  return std::nullopt;
}

// ---- permission: a role that granted it was taken away, deleted, or lost it.
struct RoleFacts {
  std::string name;
  std::vector<std::string> permissions;
  const store::ChangeEntry* deleted = nullptr;  // the role's deletion, if it is gone
};

std::optional<RoleFacts> FindRole(std::string_view id, std::span<const authz::RoleDef> roles,
                                  std::span<const store::ChangeEntry> entries) {
  for (const auto& r : roles)
    if (r.id == id) return RoleFacts{r.name, r.permissions, nullptr};
  for (const auto& e : entries) {
    if (IsSubject(e, "role", id) && e.kind == "role.deleted")
      return RoleFacts{e.subject_name, Strings(FieldOf(e, "permissions").before), &e};
  }
  return std::nullopt;
}

std::optional<std::string> Granting(const std::vector<std::string>& patterns, std::string_view permission) {
  for (const auto& p : patterns)
    if (authz::Covers(p, permission)) return p;
  return std::nullopt;
}

std::optional<authz::HistoryNote> PermissionNote(const authz::LayerResult& layer, const HistorySubject& who,
                                                 std::span<const store::ChangeEntry> entries,
                                                 std::span<const authz::RoleDef> roles) {
  if (layer.required.empty()) return std::nullopt;
  const std::string& permission = layer.required.front();
  for (const auto& e : entries) {
    if (IsSubject(e, who.type, who.id)) {
      FieldValues ids = FieldOf(e, "roleIds");
      if (!ids.present) continue;
      const auto before = Strings(ids.before), after = Strings(ids.after);
      // A granting role given (back) since: that change is newer, nothing to explain.
      for (const auto& id : after) {
        auto role = Contains(before, id) ? std::nullopt : FindRole(id, roles, entries);
        if (role && Granting(role->permissions, permission)) return std::nullopt;
      }
      for (const auto& id : before) {
        if (Contains(after, id)) continue;
        auto role = FindRole(id, roles, entries);
        if (!role) continue;
        auto pattern = Granting(role->permissions, permission);
        if (!pattern) continue;
        if (role->deleted != nullptr) {
          const auto& d = *role->deleted;
          return NoteOf(d, "permission",
                        "Role '" + role->name + "', which granted " + permission + " ('" + *pattern + "') to " +
                            Subject(e) + ", was deleted at " + FormatRfc3339(d.at) + " by " + Who(d) + ".",
                        "To restore it: create a role with '" + *pattern +
                            "' (POST /api/v2/authorization/roles, permission authorization:role:add) and assign it.");
        }
        const std::string fix =
            who.type == "user"
                ? "To restore it: PATCH /api/v2/users/" + who.id + " with roles including '" + role->name +
                      "' (permission directory:user:edit)."
                : "To restore it: PUT /api/v2/oauth/clients/" + who.id + "/roles/" + id +
                      " (permission oauth:client:edit).";
        return NoteOf(e, "permission",
                      Subject(e) + " had role '" + role->name + "', which grants " + permission + " ('" + *pattern +
                          "'), until " + FormatRfc3339(e.at) + "; " + Who(e) + " removed it.",
                      fix);
      }
    } else if (e.subject_type == "role" && e.kind == "role.updated" && Contains(who.role_ids, e.subject_id)) {
      FieldValues perms = FieldOf(e, "permissions");
      if (!perms.present) continue;
      auto had = Granting(Strings(perms.before), permission);
      const bool has = Granting(Strings(perms.after), permission).has_value();
      if (!had && has) return std::nullopt;  // given back since
      if (!had || has) continue;
      return NoteOf(e, "permission",
                    "Role '" + e.subject_name + "' granted " + permission + " ('" + *had + "') until " +
                        FormatRfc3339(e.at) + "; " + Who(e) + " removed it from the role.",
                    "To restore it: PUT /api/v2/authorization/roles/" + e.subject_id + " with permissions including '" +
                        *had + "' (permission authorization:role:edit).");
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<authz::HistoryNote> FindHistory(const authz::Decision& d, const HistorySubject& who,
                                            std::span<const store::ChangeEntry> entries,
                                            std::span<const authz::RoleDef> roles) {
  std::vector<authz::HistoryNote> out;
  if (d.allowed || who.id.empty()) return out;
  const auto& token = d.layer(authz::Layer::kToken);
  if (token.outcome == authz::Outcome::kFail) {
    if (token.code == "token.revoked")
      if (auto n = TokenNote(who, entries)) out.push_back(std::move(*n));
    return out;
  }
  // Scope and permission are both evaluated; each failing one may have its own cause.
  const auto& scope = d.layer(authz::Layer::kScope);
  if (scope.outcome == authz::Outcome::kFail)
    if (auto n = ScopeNote(scope, who, entries)) out.push_back(std::move(*n));
  const auto& permission = d.layer(authz::Layer::kPermission);
  if (permission.outcome == authz::Outcome::kFail)
    if (auto n = PermissionNote(permission, who, entries, roles)) out.push_back(std::move(*n));
  return out;
}

void ChangeHistory::Annotate(authz::Decision& d, const HistorySubject& who,
                             std::span<const authz::RoleDef> roles) const {
  if (d.allowed || who.id.empty()) return;
  const authz::LayerResult* failed = authz::FirstFailure(d);
  if (failed == nullptr || failed->layer == authz::Layer::kResource) return;
  if (failed->layer == authz::Layer::kToken && failed->code != "token.revoked") return;

  store::ChangeFilter f;
  f.since = clock_.Now() - window_;
  f.newest_first = true;
  f.limit = 100;
  std::vector<store::ChangeEntry> entries;
  auto read = [&](std::string type, std::string id) {
    f.subject_type = std::move(type);
    f.subject_id = std::move(id);
    auto got = store_.ListChanges(f);
    if (!got.ok()) {
      Log(LogLevel::kWarn, "change history unavailable for a denial", {{"error", got.status().message()}});
      return false;
    }
    entries.insert(entries.end(), got->begin(), got->end());
    return true;
  };
  if (!read(who.type, who.id)) return;
  if (!who.scope_client_id.empty() && who.scope_client_id != who.id && !read("client", who.scope_client_id)) return;
  if (d.layer(authz::Layer::kPermission).outcome == authz::Outcome::kFail) {
    f.subject_id.reset();
    f.subject_type = "role";
    auto got = store_.ListChanges(f);
    if (got.ok()) entries.insert(entries.end(), got->begin(), got->end());
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
  d.history = FindHistory(d, who, entries, roles);
}

std::vector<authz::HistoryNote> ChangeHistory::ScopeRemoved(const std::string& client_id,
                                                           const std::string& scope) const {
  authz::Decision d;
  for (auto layer : {authz::Layer::kToken, authz::Layer::kScope, authz::Layer::kPermission, authz::Layer::kResource})
    d.layers.push_back(authz::LayerResult{layer});
  d.layer(authz::Layer::kToken).outcome = authz::Outcome::kPass;
  auto& l = d.layer(authz::Layer::kScope);
  l.outcome = authz::Outcome::kFail;
  l.code = "missing.scope";
  l.required = {scope};
  Annotate(d, HistorySubject{"client", client_id, client_id, std::nullopt, {}}, {});
  return std::move(d.history);
}

}  // namespace verbatim::service
