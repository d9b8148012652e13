// The store's values as verbatim.v1 messages (proto/verbatim/v1/verbatim.proto):
// the same fields as the REST views (transports/http/views.cc), in gRPC's shape.
#pragma once

#include <string>

#include "store/model.h"
#include "verbatim/v1/verbatim.pb.h"

namespace verbatim::transports::grpc {

void Fill(v1::Segment& out, const store::Segment& s);
void Fill(v1::Transition& out, const store::Transition& t);
// `ended`: the conversation is disconnected, so no action is allowed any more.
void Fill(v1::Recording& out, const store::Recording& r, bool ended);
void Fill(v1::Conversation& out, const store::Conversation& c);

}  // namespace verbatim::transports::grpc
