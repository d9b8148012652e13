// The recording use cases (docs/api.md §4), shared by every transport. Each
// takes a call its transport has already authorized (token, scope and
// permission passed: service/authorizer.h) and concludes the decision's
// resource layer itself: found, not found (404), conversation ended (409),
// invalid transition (409). The transport only parses and renders.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "authz/engine.h"
#include "core/clock.h"
#include "core/recording_state.h"
#include "service/metrics.h"
#include "service/outcome.h"
#include "service/recording_feed.h"
#include "store/store.h"

namespace verbatim::service {

// A partial update of the metadata: an unset member is left as it is.
struct MetadataPatch {
  std::optional<std::vector<std::string>> labels;
  std::optional<std::optional<int64_t>> retention_days;  // set to nullopt = clear
  std::optional<std::string> notes;
};

class Recordings {
 public:
  Recordings(store::Store& store, const Clock& clock, Metrics& metrics, RecordingFeed& feed)
      : store_(store), clock_(clock), metrics_(metrics), feed_(feed) {}

  // Builds the audit event of the successful action, committed in the
  // action's own transaction (called after the resource layer passed).
  using SuccessAudit = std::function<store::AuditEvent(const authz::Decision&)>;

  // start | stop | pause | resume. `id` must already be a UUID (RequireUuid).
  Outcome<store::ActionOutcome> Apply(authz::Decision& decision, const authz::Principal& who, const std::string& id,
                                      RecordingAction action, const std::string& reason, const std::string& context_id,
                                      const SuccessAudit& audit);
  Outcome<store::Recording> Get(authz::Decision& decision, const std::string& id);
  Outcome<store::Recording> UpdateMetadata(authz::Decision& decision, const std::string& id, const MetadataPatch& patch);

  // Validation shared by the transports (limits of docs/api.md §4).
  static std::optional<Refusal> CheckReason(const std::string& reason);

 private:
  store::Store& store_;
  const Clock& clock_;
  Metrics& metrics_;
  RecordingFeed& feed_;
};

}  // namespace verbatim::service
