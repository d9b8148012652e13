#include "transports/siprec/media_owner.h"

#include <algorithm>

#include "transports/http/app.h"
#include "core/ids.h"

namespace verbatim::api {

std::optional<std::string> ParseMediaOwner(const json::value& v, std::string& type, std::string& id) {
  if (!v.is_object()) return "Field 'mediaOwner' must be an object {type, id} or null.";
  const auto& o = v.as_object();
  for (const auto& kv : o) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "type" && k != "id")
      return "Unknown field 'mediaOwner." + std::string(k.substr(0, 64)) + "'. Known fields: type, id.";
  }
  auto t = GetString(o, "type");
  auto i = GetString(o, "id");
  if (!t.ok() || !*t || (*t)->empty()) return "Field 'mediaOwner.type' is required: trunk, integration or client.";
  if (!i.ok() || !*i || (*i)->empty())
    return "Field 'mediaOwner.id' is required: the UUID of the trunk, integration or client.";
  type = **t;
  id = **i;
  return std::nullopt;
}

json::value MediaOwnerJson(const std::string& owner) {
  const size_t colon = owner.find(':');
  if (owner.empty() || colon == std::string::npos) return nullptr;
  return json::object{{"type", owner.substr(0, colon)}, {"id", owner.substr(colon + 1)}};
}

}  // namespace verbatim::api
