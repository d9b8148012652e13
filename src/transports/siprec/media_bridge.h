// MediaBridge: media capture's view of the rest of verbatim
// (media::capture::ConversationControl over the Store and the App). SIPREC and
// AudioHook sessions create or join conversations here, autoStart applies
// here, and media-initiated actions (SIPREC pause) go through the same store
// transaction, timeline and audit log as API actions, as the system principal.
#pragma once

#include <map>
#include <set>

#include "core/mutex.h"
#include "service/node_presence.h"
#include "transports/http/app.h"
#include "media/capture/control.h"

namespace verbatim::api {

class MediaBridge final : public media::capture::ConversationControl {
 public:
  // `node_id`: this node's (service/node_presence.h); it claims each
  // conversation it records, so that one node at a time records a call.
  MediaBridge(App& app, std::string node_id) : app_(app), node_id_(std::move(node_id)) {}

  Result<media::capture::Attachment> Attach(const media::capture::SessionSpec& spec) override;
  void Detach(const std::string& conversation_id, bool created, const std::string& reason) override;
  Status RequestAction(const std::string& conversation_id, RecordingAction action, const std::string& reason) override;
  void MediaFileUpdated(const std::string& conversation_id, const media::capture::MediaFileInfo& file) override;

  // The claims of the sessions open here (NodePresence claims them again after a lapse).
  std::vector<store::MediaSessionClaim> Claims() const;
  // Releases again the claims whose release failed (the store was down when
  // their session ended); NodePresence calls it every round.
  void RetryReleases();
  // Audits and counts sessions a node interrupted (its own previous run's, or a
  // lapsed node's): the change log already holds "media.interrupted".
  void RecordInterrupted(const std::vector<store::MediaSessionClaim>& ended, TimePoint at,
                         service::InterruptCause cause);

 private:
  Result<store::Recording> Act(const std::string& conversation_id, RecordingAction action, const std::string& source,
                               const std::string& reason);

  void Release(const std::string& conversation_id);

  App& app_;
  const std::string node_id_;
  mutable Mutex mu_;
  std::map<std::string, store::MediaSessionClaim> claims_ GUARDED_BY(mu_);  // by conversation id
  std::set<std::string> unreleased_ GUARDED_BY(mu_);  // conversations whose release failed
};

}  // namespace verbatim::api
