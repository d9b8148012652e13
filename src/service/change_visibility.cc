#include "service/change_visibility.h"

namespace verbatim::service {

namespace {

constexpr ChangeVisibility kVisibility[] = {
    {"conversation", "recording:recording:view"}, {"client", "oauth:client:view"},
    {"user", "directory:user:view"},              {"role", "authorization:role:view"},
    {"settings", "organization:settings:view"},   {"integration", "oauth:integration:view"},
    {"trunk", "organization:trunk:view"},         {"webhook", "organization:webhook:view"},
};

}  // namespace

std::span<const ChangeVisibility> ChangeVisibilities() { return kVisibility; }

std::optional<std::string_view> SubjectTypeOfKind(std::string_view kind) {
  const std::string_view head = kind.substr(0, kind.find('.'));
  if (head == "recording" || head == "media") return "conversation";
  for (const auto& v : kVisibility)
    if (v.subject_type == head && head != "conversation") return v.subject_type;
  return std::nullopt;
}

bool IsSubjectType(std::string_view t) {
  for (const auto& v : kVisibility)
    if (v.subject_type == t) return true;
  return false;
}

}  // namespace verbatim::service
