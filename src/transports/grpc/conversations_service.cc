// verbatim.v1.Conversations over gRPC, through the same service::Conversations
// use cases as /api/v2/conversations.
#include "transports/grpc/messages.h"
#include "transports/grpc/services.h"

namespace verbatim::transports::grpc {
namespace {
constexpr char kRpcPrefix[] = "/verbatim.v1.Conversations/";
}  // namespace

::grpc::Status ConversationsService::Create(::grpc::ServerContext* c, const v1::CreateConversationRequest* q,
                                            v1::Conversation* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "Create");
  if (!call.Authorize("conversation:conversation:create", "conversations")) return call.status();
  service::NewConversation input;
  input.external_id = q->external_id();
  if (q->has_media_owner()) {
    input.owner_type = q->media_owner().type();
    input.owner_id = q->media_owner().id();
  }
  for (const auto& p : q->participants()) input.participants.push_back({p.id(), p.name(), p.purpose()});
  auto conv = call.core().conversations.Create(call.decision(), call.principal(), std::move(input));
  if (!conv.ok()) return call.Refuse(conv.refusal());
  Fill(*r, *conv);
  return call.Ok();
}

::grpc::Status ConversationsService::Get(::grpc::ServerContext* c, const v1::GetConversationRequest* q,
                                         v1::Conversation* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "Get");
  if (!call.AuthorizeConversation("conversation:conversation:view", q->conversation_id())) return call.status();
  auto conv = call.core().conversations.Get(call.decision(), q->conversation_id());
  if (!conv.ok()) return call.Refuse(conv.refusal());
  Fill(*r, *conv);
  return call.Ok();
}

::grpc::Status ConversationsService::Disconnect(::grpc::ServerContext* c, const v1::DisconnectConversationRequest* q,
                                                v1::Conversation* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "Disconnect");
  if (!call.AuthorizeConversation("conversation:conversation:disconnect", q->conversation_id())) return call.status();
  auto done = call.core().conversations.Disconnect(call.decision(), call.principal(), q->conversation_id(),
                                                   call.context_id());
  if (!done.ok()) return call.Refuse(done.refusal());
  Fill(*r, *done);
  return call.Ok();
}

}  // namespace verbatim::transports::grpc
