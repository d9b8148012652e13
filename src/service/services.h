// Services: the transport-free core, as one bundle of references a transport
// is given. The HTTP App owns these today (transports/http/app.h); the gRPC server
// (transports/grpc/) only borrows them, so both take one decision path.
#pragma once

#include "core/clock.h"
#include "oauth/token_service.h"
#include "service/audit_log.h"
#include "service/authorizer.h"
#include "service/conversations.h"
#include "service/directory.h"
#include "service/metrics.h"
#include "service/recording_feed.h"
#include "service/recordings.h"
#include "store/store.h"

namespace verbatim::service {

struct Services {
  store::Store& store;
  const Clock& clock;
  oauth::TokenService& tokens;
  Directory& directory;
  Authorizer& authorizer;
  AuditLog& audit;
  Metrics& metrics;
  RecordingFeed& feed;
  Recordings& recordings;
  Conversations& conversations;
};

}  // namespace verbatim::service
