// The conversation use cases (docs/api.md §5), shared by every transport.
// Like service/recordings.h: the call is authorized already; these conclude
// the resource layer (found, not found, ended) and validate the input.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "authz/engine.h"
#include "core/clock.h"
#include "service/outcome.h"
#include "service/recording_feed.h"
#include "store/store.h"

namespace verbatim::service {

struct NewConversation {
  std::vector<store::Participant> participants;  // an empty id gets a fresh UUID
  std::string external_id;
  std::string owner_type, owner_id;  // both empty = no media owner
};

class Conversations {
 public:
  // Whether a media owner exists: trunks may live in the config file, which
  // only the transport's trunk registry knows.
  using OwnerExists = std::function<bool(const std::string& type, const std::string& id)>;

  Conversations(store::Store& store, const Clock& clock, RecordingFeed& feed, OwnerExists owner_exists)
      : store_(store), clock_(clock), feed_(feed), owner_exists_(std::move(owner_exists)) {}

  static constexpr size_t kMaxParticipants = 32;

  Outcome<store::Conversation> Create(authz::Decision& decision, const authz::Principal& who, NewConversation input);
  Outcome<store::Conversation> Get(authz::Decision& decision, const std::string& id);
  // Get, then 409 conversation.ended through the decision if it has ended.
  Outcome<store::Conversation> GetLive(authz::Decision& decision, const std::string& id);
  Outcome<store::Conversation> Disconnect(authz::Decision& decision, const authz::Principal& who, const std::string& id,
                                          const std::string& context_id);

  // One participant's fields (a missing id is generated); the message of a 400 on "participants".
  static std::optional<std::string> CheckParticipant(store::Participant& p);
  // "<type>:<id>" for a media owner that exists, or the message of a 400 on "mediaOwner".
  std::optional<std::string> CheckOwner(const std::string& type, const std::string& id, std::string& owner) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  RecordingFeed& feed_;
  const OwnerExists owner_exists_;
};

}  // namespace verbatim::service
