#include "core/status.h"

namespace verbatim {

const char* KindName(Status::Kind kind) {
  switch (kind) {
    case Status::Kind::kOk: return "ok";
    case Status::Kind::kInvalidArgument: return "invalid_argument";
    case Status::Kind::kNotFound: return "not_found";
    case Status::Kind::kAlreadyExists: return "already_exists";
    case Status::Kind::kFailedPrecondition: return "failed_precondition";
    case Status::Kind::kPermissionDenied: return "permission_denied";
    case Status::Kind::kUnauthenticated: return "unauthenticated";
    case Status::Kind::kResourceExhausted: return "resource_exhausted";
    case Status::Kind::kUnavailable: return "unavailable";
    case Status::Kind::kInternal: return "internal";
  }
  return "?";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = KindName(kind_);
  out += " [";
  out += code_;
  out += "]: ";
  out += message_;
  return out;
}

}  // namespace verbatim
