// MediaBridge: media capture's view of the rest of verbatim
// (media::capture::ConversationControl over the Store and the App). SIPREC and
// AudioHook sessions create or join conversations here, autoStart applies
// here, and media-initiated actions (SIPREC pause) go through the same store
// transaction, timeline and audit log as API actions, as the system principal.
#pragma once

#include "transports/http/app.h"
#include "media/capture/control.h"

namespace verbatim::api {

class MediaBridge final : public media::capture::ConversationControl {
 public:
  explicit MediaBridge(App& app) : app_(app) {}

  Result<media::capture::Attachment> Attach(const media::capture::SessionSpec& spec) override;
  void Detach(const std::string& conversation_id, bool created, const std::string& reason) override;
  Status RequestAction(const std::string& conversation_id, RecordingAction action, const std::string& reason) override;
  void MediaFileUpdated(const std::string& conversation_id, const media::capture::MediaFileInfo& file) override;

 private:
  Result<store::Recording> Act(const std::string& conversation_id, RecordingAction action, const std::string& source,
                               const std::string& reason);

  App& app_;
};

}  // namespace verbatim::api
