// What media capture needs from the rest of verbatim, as an interface so the
// media module never touches the store or the HTTP layer. The API layer
// implements it (transports/siprec/media_bridge.cc); tests implement it with a fake.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/recording_state.h"
#include "core/status.h"

namespace verbatim::media::capture {

struct ParticipantInfo {
  std::string id;       // empty: assigned by the control side
  std::string name;     // display name or AOR; also the WAV channel label
  std::string purpose;  // agent | customer | ivr | external
};

// A new media session (one SIPREC dialog or one AudioHook connection).
struct SessionSpec {
  std::string source;       // "siprec" | "audiohook"
  std::string external_id;  // SIP Call-ID or AudioHook session id
  std::optional<std::string> conversation_id;  // join this conversation if it exists
  // Who feeds it: "trunk:<id>", "integration:<id>" or "client:<id>". A
  // session joins only a conversation with the same owner; one it creates
  // gets it (docs/sip-trunks.md "Who may join a conversation").
  std::string owner;
  std::vector<ParticipantInfo> participants;   // one per channel, in channel order
  uint32_t sample_rate = 8000;
};

struct Attachment {
  std::string conversation_id;
  bool created = false;                     // this session created the conversation
  RecordingState state = RecordingState::kNone;  // after autoStart
  int current_segment = 0;                  // segment open now (0 if none)
  int next_segment = 1;                     // index the next start opens
  std::string pause_behavior = "silence";   // org setting: silence | skip
};

struct MediaFileInfo {
  int segment = 0;
  std::string relative_path;  // under the media root, e.g. "<conv>/segment-1.wav"
  int channels = 0;
  int sample_rate = 8000;
  int64_t frames = 0;
  int64_t bytes = 0;
  bool complete = false;
  std::vector<std::string> channel_labels;
};

class ConversationControl {
 public:
  virtual ~ConversationControl() = default;
  // Creates or joins the conversation and applies the org's autoStart.
  // PermissionDenied "conversation.not.owned" if it names (by id or external
  // id) a conversation whose owner is not spec.owner; FailedPrecondition
  // "conversation.ended" if it names an ended conversation it owns.
  virtual Result<Attachment> Attach(const SessionSpec& spec) = 0;
  // The media session ended (BYE, close). Disconnects the conversation if the
  // session created it.
  virtual void Detach(const std::string& conversation_id, bool created, const std::string& reason) = 0;
  // A recording action requested by the media peer (SIPREC a=inactive →
  // pause), done as the system principal so it shows in the timeline.
  virtual Status RequestAction(const std::string& conversation_id, RecordingAction action,
                               const std::string& reason) = 0;
  virtual void MediaFileUpdated(const std::string& conversation_id, const MediaFileInfo& file) = 0;
};

}  // namespace verbatim::media::capture
