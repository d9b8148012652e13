// Who may see which entries of the change log (docs/changes.md "Events"): an
// entry is visible to a principal allowed the view permission of its
// subject type. Shared by the event stream, webhooks and GET /api/v2/changes.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace verbatim::service {

struct ChangeVisibility {
  std::string_view subject_type;
  std::string_view permission;  // needed to see its entries
};

// Every subject type of the log, in a stable order.
std::span<const ChangeVisibility> ChangeVisibilities();
// The subject type of a kind or family ("recording.paused", "media.", "client."):
// recording.* and media.* are about a conversation. nullopt: no such subject.
std::optional<std::string_view> SubjectTypeOfKind(std::string_view kind);
bool IsSubjectType(std::string_view t);

}  // namespace verbatim::service
