// The verbatim.v1 services (proto/verbatim/v1/verbatim.proto), each a thin
// adapter: parse the message → Call::Authorize → a service:: use case →
// the reply, or Call::Refuse.
#pragma once

#include <atomic>

#include "transports/grpc/call.h"
#include "verbatim/v1/verbatim.grpc.pb.h"

namespace verbatim::transports::grpc {

class RecordingsService final : public v1::Recordings::Service {
 public:
  RecordingsService(Deps& deps, size_t max_watches) : deps_(deps), max_watches_(max_watches) {}

  ::grpc::Status Start(::grpc::ServerContext* c, const v1::RecordingActionRequest* q, v1::RecordingActionResponse* r) override;
  ::grpc::Status Stop(::grpc::ServerContext* c, const v1::RecordingActionRequest* q, v1::RecordingActionResponse* r) override;
  ::grpc::Status Pause(::grpc::ServerContext* c, const v1::RecordingActionRequest* q, v1::RecordingActionResponse* r) override;
  ::grpc::Status Resume(::grpc::ServerContext* c, const v1::RecordingActionRequest* q, v1::RecordingActionResponse* r) override;
  ::grpc::Status Get(::grpc::ServerContext* c, const v1::GetRecordingRequest* q, v1::Recording* r) override;
  ::grpc::Status UpdateMetadata(::grpc::ServerContext* c, const v1::UpdateMetadataRequest* q, v1::Recording* r) override;
  ::grpc::Status Watch(::grpc::ServerContext* c, const v1::WatchRequest* q,
                       ::grpc::ServerWriter<v1::RecordingEvent>* w) override;

  // Ends every Watch stream (server shutdown): they return within one poll.
  void StopWatches() { stopping_.store(true); }

 private:
  ::grpc::Status Act(::grpc::ServerContext* c, RecordingAction action, const v1::RecordingActionRequest* q,
                     v1::RecordingActionResponse* r);

  Deps& deps_;
  const size_t max_watches_;
  std::atomic<size_t> watches_{0};
  std::atomic<bool> stopping_{false};
};

class ConversationsService final : public v1::Conversations::Service {
 public:
  explicit ConversationsService(Deps& deps) : deps_(deps) {}
  ::grpc::Status Create(::grpc::ServerContext* c, const v1::CreateConversationRequest* q, v1::Conversation* r) override;
  ::grpc::Status Get(::grpc::ServerContext* c, const v1::GetConversationRequest* q, v1::Conversation* r) override;
  ::grpc::Status Disconnect(::grpc::ServerContext* c, const v1::DisconnectConversationRequest* q,
                            v1::Conversation* r) override;

 private:
  Deps& deps_;
};

class AuthorizationService final : public v1::Authorization::Service {
 public:
  explicit AuthorizationService(Deps& deps) : deps_(deps) {}
  ::grpc::Status Check(::grpc::ServerContext* c, const v1::CheckRequest* q, v1::CheckResponse* r) override;
  ::grpc::Status TokensMe(::grpc::ServerContext* c, const v1::TokensMeRequest* q, v1::TokensMeResponse* r) override;

 private:
  Deps& deps_;
};

}  // namespace verbatim::transports::grpc
