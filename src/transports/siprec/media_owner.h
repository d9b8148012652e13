// The media owner of a conversation (docs/sip-trunks.md "Who may join a
// conversation"): which trunk, AudioHook integration or OAuth client may feed
// it audio. Stored as "<type>:<id>"; shown and given in the API as
// {"type": "trunk"|"integration"|"client", "id": "<uuid>"}.
#pragma once

#include <optional>
#include <string>

#include "core/json.h"

namespace verbatim::api {

// Parses a mediaOwner object {type, id} (not null). On error, returns the
// message for a 400 on field "mediaOwner". Whether the owner exists is
// service::Conversations::CheckOwner's to say.
std::optional<std::string> ParseMediaOwner(const json::value& v, std::string& type, std::string& id);
// {"type", "id"}, or null for no owner.
json::value MediaOwnerJson(const std::string& owner);

}  // namespace verbatim::api
