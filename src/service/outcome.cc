#include "service/outcome.h"

#include "authz/engine.h"
#include "core/ids.h"

namespace verbatim::service {

int HttpStatusOf(const Status& s) {
  switch (s.kind()) {
    case Status::Kind::kOk: return 200;
    case Status::Kind::kInvalidArgument: return 400;
    case Status::Kind::kNotFound: return 404;
    case Status::Kind::kAlreadyExists:
    case Status::Kind::kFailedPrecondition: return 409;
    case Status::Kind::kPermissionDenied: return 403;
    case Status::Kind::kUnauthenticated: return 401;
    case Status::Kind::kResourceExhausted: return 429;
    case Status::Kind::kUnavailable: return 503;
    case Status::Kind::kInternal: return 500;
  }
  return 500;
}

std::optional<Refusal> RequireUuid(std::string_view value, std::string_view what) {
  if (IsUuid(value)) return std::nullopt;
  std::string shown(value.substr(0, 64));
  for (auto& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return Refusal::Invalid("'" + shown + "' is not a valid " + std::string(what) + " id: expected a UUID.",
                          std::string(what) + "Id", "UUID, e.g. 6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90");
}

bool ConcludeRefused(authz::Decision& decision, const std::string& id, const store::ChangeRefused& refused,
                     std::optional<RecordingAction> action) {
  using Reason = store::ChangeRefused::Reason;
  switch (refused.reason) {
    case Reason::kNone:
      return false;
    case Reason::kConversationNotFound:
      authz::ResourceNotFound(decision, "conversation", id);
      return true;
    case Reason::kConversationEnded:
      if (!refused.ended_at) return false;
      authz::ConversationEnded(decision, id, *refused.ended_at);
      return true;
    case Reason::kInvalidTransition:
      if (!action) return false;
      authz::InvalidTransition(decision, refused.state, *action);
      return true;
  }
  return false;
}

}  // namespace verbatim::service
