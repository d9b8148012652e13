#include "service/conversations.h"

#include <algorithm>

#include "core/ids.h"
#include "service/audit_event.h"

namespace verbatim::service {

std::optional<std::string> Conversations::CheckParticipant(store::Participant& p) {
  const auto& purpose = p.purpose;
  if (p.name.empty() || p.name.size() > 256) return "Participant 'name' is required (1 to 256 characters).";
  if (purpose != "agent" && purpose != "customer" && purpose != "ivr" && purpose != "external")
    return "Participant 'purpose' must be one of: agent, customer, ivr, external.";
  if (p.id.empty()) {
    p.id = NewUuid();
  } else if (!IsUuid(p.id)) {
    return "Participant 'id' must be a UUID (or omitted to have one generated).";
  }
  return std::nullopt;
}

std::optional<std::string> Conversations::CheckOwner(const std::string& type, const std::string& id,
                                                     std::string& owner) const {
  if (type.empty()) return "Field 'mediaOwner.type' is required: trunk, integration or client.";
  if (id.empty() || !IsUuid(id)) return "Field 'mediaOwner.id' is required: the UUID of the trunk, integration or client.";
  if (type != "trunk" && type != "integration" && type != "client")
    return "Field 'mediaOwner.type' must be trunk, integration or client.";
  if (!owner_exists_ || !owner_exists_(type, id))
    return "There is no " + type + " with id '" + id + "' to own this conversation's media.";
  owner = type + ":" + id;
  return std::nullopt;
}

Outcome<store::Conversation> Conversations::Create(authz::Decision& decision, const authz::Principal& who,
                                                   NewConversation input) {
  store::Conversation c;
  c.id = NewUuid();
  c.started_at = clock_.Now();
  c.created_by = who.id;
  if (input.external_id.size() > 256)
    return Refusal::Invalid("Field 'externalId' must be at most 256 characters.", "externalId");
  c.external_id = std::move(input.external_id);
  if (!input.owner_type.empty() || !input.owner_id.empty()) {
    // Which media source may join: without one, no SIPREC or AudioHook session can (docs/sip-trunks.md).
    if (auto problem = CheckOwner(input.owner_type, input.owner_id, c.owner))
      return Refusal::Invalid(*problem, "mediaOwner", "{type: trunk|integration|client, id}");
  }
  if (input.participants.size() > kMaxParticipants)
    return Refusal::Invalid("At most " + std::to_string(kMaxParticipants) + " participants.", "participants");
  for (auto& p : input.participants) {
    if (auto problem = CheckParticipant(p)) return Refusal::Invalid(*problem, "participants");
    bool dup = std::any_of(c.participants.begin(), c.participants.end(), [&](const auto& q) { return q.id == p.id; });
    if (dup) return Refusal::Invalid("Participant id '" + p.id + "' appears twice.", "participants");
    c.participants.push_back(std::move(p));
  }
  if (Status s = store_.CreateConversation(c); !s.ok()) return Refusal::Failed(s);
  authz::ResourceFound(decision);
  return c;
}

Outcome<store::Conversation> Conversations::Get(authz::Decision& decision, const std::string& id) {
  auto conv = store_.GetConversation(id);
  if (!conv.ok()) {
    if (conv.status().kind() != Status::Kind::kNotFound) return Refusal::Failed(conv.status());
    authz::ResourceNotFound(decision, "conversation", id);
    return Refusal::Denied();
  }
  authz::ResourceFound(decision);
  return std::move(*conv);
}

Outcome<store::Conversation> Conversations::GetLive(authz::Decision& decision, const std::string& id) {
  auto conv = Get(decision, id);
  if (conv.ok() && conv->ended_at) {
    authz::ConversationEnded(decision, conv->id, *conv->ended_at);
    return Refusal::Denied();
  }
  return conv;
}

Outcome<store::Conversation> Conversations::Disconnect(authz::Decision& decision, const authz::Principal& who,
                                                       const std::string& id, const std::string& context_id) {
  auto conv = GetLive(decision, id);
  if (!conv.ok()) return conv;
  store::ChangeRefused refused;
  auto done = store_.DisconnectConversation(id, clock_.Now(), ActorOf(who), context_id, &refused);
  if (!done.ok()) {
    if (ConcludeRefused(decision, id, refused)) return Refusal::Denied();
    return Refusal::Failed(done.status());
  }
  if (auto rec = store_.GetRecording(id); rec.ok()) feed_.Publish(id, *rec);
  return std::move(*done);
}

}  // namespace verbatim::service
