#include "api/trunks/media_owner.h"

#include <algorithm>

#include "api/app.h"
#include "core/ids.h"

namespace verbatim::api {

std::optional<std::string> ParseMediaOwner(App& app, const json::value& v, std::string& owner) {
  if (v.is_null()) {
    owner.clear();
    return std::nullopt;
  }
  if (!v.is_object()) return "Field 'mediaOwner' must be an object {type, id} or null.";
  const auto& o = v.as_object();
  for (const auto& kv : o) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "type" && k != "id")
      return "Unknown field 'mediaOwner." + std::string(k.substr(0, 64)) + "'. Known fields: type, id.";
  }
  auto type = GetString(o, "type");
  auto id = GetString(o, "id");
  if (!type.ok() || !*type) return "Field 'mediaOwner.type' is required: trunk, integration or client.";
  if (!id.ok() || !*id || !IsUuid(**id))
    return "Field 'mediaOwner.id' is required: the UUID of the trunk, integration or client.";
  const std::string& t = **type;
  const std::string& i = **id;
  bool exists = false;
  if (t == "trunk") {
    exists = app.sip_trunks().Find(i).has_value() || app.store().GetTrunk(i).ok();
  } else if (t == "integration") {
    auto all = app.store().ListIntegrations();
    exists = all.ok() && std::any_of(all->begin(), all->end(), [&](const auto& m) { return m.id == i; });
  } else if (t == "client") {
    exists = app.store().GetClient(i).ok();
  } else {
    return "Field 'mediaOwner.type' must be trunk, integration or client.";
  }
  if (!exists) return "There is no " + t + " with id '" + i + "' to own this conversation's media.";
  owner = t + ":" + i;
  return std::nullopt;
}

json::value MediaOwnerJson(const std::string& owner) {
  const size_t colon = owner.find(':');
  if (owner.empty() || colon == std::string::npos) return nullptr;
  return json::object{{"type", owner.substr(0, colon)}, {"id", owner.substr(colon + 1)}};
}

}  // namespace verbatim::api
