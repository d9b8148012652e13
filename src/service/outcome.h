// Outcome<T>: what a use case returns to its transport: the value, or a
// Refusal saying why not in terms every transport can render (HTTP status and
// body, gRPC status and details).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "authz/decision.h"
#include "core/recording_state.h"
#include "core/status.h"
#include "store/model.h"

namespace verbatim::service {

struct Refusal {
  enum class Kind {
    kDenied,   // the call's authz::Decision now says why (resource not found, conversation ended, invalid transition)
    kInvalid,  // the input is malformed: 400 / INVALID_ARGUMENT
    kFailed,   // the store refused or failed: `status`
  };
  Kind kind = Kind::kFailed;
  std::string message;   // kInvalid: one sentence for the caller
  std::string field;     // kInvalid: which field (the REST name, e.g. "retentionDays")
  std::string expected;  // kInvalid: what it should be
  std::string fix;       // kInvalid: what to do; empty = a generic hint
  Status status;         // kFailed

  static Refusal Denied() { return {Kind::kDenied, {}, {}, {}, {}, {}}; }
  static Refusal Invalid(std::string message, std::string field = {}, std::string expected = {}, std::string fix = {}) {
    return {Kind::kInvalid, std::move(message), std::move(field), std::move(expected), std::move(fix), {}};
  }
  static Refusal Failed(Status s) { return {Kind::kFailed, {}, {}, {}, {}, std::move(s)}; }
};

template <class T>
class Outcome {
 public:
  Outcome(T value) : v_(std::move(value)) {}         // NOLINT: implicit, like Result<T>
  Outcome(Refusal refusal) : v_(std::move(refusal)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const Refusal& refusal() const { return std::get<1>(v_); }

 private:
  std::variant<T, Refusal> v_;
};

// The REST status of a Status (InvalidArgument 400, NotFound 404, ...):
// what every transport reports a store failure as (gRPC maps it on).
int HttpStatusOf(const Status& s);

// Concludes the resource layer of `decision` from the facts of a store
// refusal (store::ChangeRefused); false when there are none (a failure, not a refusal).
bool ConcludeRefused(authz::Decision& decision, const std::string& id, const store::ChangeRefused& refused,
                     std::optional<RecordingAction> action = std::nullopt);

// Path and message ids are UUIDs; anything else is refused before any lookup
// (never a query, never a file path). `what` is "conversation", "client", ...
std::optional<Refusal> RequireUuid(std::string_view value, std::string_view what);

}  // namespace verbatim::service
