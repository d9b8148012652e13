#include "service/console_client.h"

#include <algorithm>

#include "authz/catalog.h"
#include "store/change_diff.h"

namespace verbatim::service {
namespace {

constexpr int kAccessTokenSeconds = 600;  // the console refreshes; a stolen token is short-lived

bool Add(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) != list.end()) return false;
  list.push_back(value);
  return true;
}

}  // namespace

std::string ConsoleRedirectUri(std::string_view issuer) { return std::string(issuer) + "/console/callback"; }

Status EnsureConsoleClient(Directory& directory, std::string_view issuer, TimePoint now) {
  const std::string id(kConsoleClientId);
  if (auto existing = directory.FindClient(id)) {
    store::OAuthClient c = *existing;
    bool changed = c.client_type != "public" || !c.secret_hash.empty();
    c.client_type = "public";
    c.secret_hash.clear();
    changed |= Add(c.allowed_grant_types, "authorization_code");
    changed |= Add(c.allowed_grant_types, "refresh_token");
    if (auto cc = std::find(c.allowed_grant_types.begin(), c.allowed_grant_types.end(), "client_credentials");
        cc != c.allowed_grant_types.end()) {
      c.allowed_grant_types.erase(cc);
      changed = true;
    }
    changed |= Add(c.redirect_uris, ConsoleRedirectUri(issuer));  // several nodes, several issuers
    if (!changed) return Status::Ok();
    c.updated_at = now;
    const store::ChangeAuthor by = store::OfflineAuthor("verbatim (the built-in console client)", now);
    auto updated = directory.UpdateClient(std::move(c), &by);
    return updated.ok() ? Status::Ok() : updated.status();
  }
  store::OAuthClient c;
  c.id = id;
  c.name = std::string(kConsoleClientName);
  c.description = "The admin console at /console (docs/console.md). Registered by the server.";
  for (const auto& s : authz::AllScopes()) c.allowed_scopes.push_back(s.name);
  c.allowed_grant_types = {"authorization_code", "refresh_token"};
  c.redirect_uris = {ConsoleRedirectUri(issuer)};
  c.client_type = "public";
  c.access_token_validity_seconds = kAccessTokenSeconds;
  c.created_at = c.updated_at = now;
  const store::ChangeAuthor by = store::OfflineAuthor("verbatim (the built-in console client)", now);
  return directory.CreateClient(c, &by);
}

}  // namespace verbatim::service
