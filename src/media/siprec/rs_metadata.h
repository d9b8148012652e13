// SIPREC recording metadata (RFC 7865, application/rs-metadata+xml): who the
// participants are and which RTP stream (by SDP a=label) carries whom.
//
// Lenient by design: elements are matched by local name (any namespace prefix),
// unknown elements are ignored, and the draft-era forms that SRCs still send are
// accepted: "id" for the *_id attributes, <aor>/<name> directly in
// <participant>, <send>/<recv> inside <participant>. Elements that repeat an id
// (partial updates) are merged. Parsing is bounded by the XML reader (xml.h).
// Thread-safety: plain values; all functions are pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "media/siprec/xml.h"

namespace verbatim::media::siprec {

struct MetadataParticipant {
  std::string id;    // participant_id
  std::string name;  // <nameID><name>, first one
  std::string aor;   // <nameID aor="sip:alice@example.com">
  std::vector<std::string> send;         // stream_ids this participant sends
  std::vector<std::string> recv;         // stream_ids it receives
  std::vector<std::string> send_labels;  // SDP labels of `send`, where known
};

struct MetadataStream {
  std::string id;  // stream_id
  std::string session_id;
  std::string label;  // matches the SDP a=label of the m= line carrying it
};

struct MetadataSession {
  std::string id;  // session_id
  std::vector<std::string> sip_session_ids;  // <sipSessionID>, as sent
  std::string group_ref;
};

struct RecordingMetadata {
  std::string data_mode;  // "complete" | "partial" | "" when absent
  std::vector<std::string> group_ids;
  std::vector<MetadataSession> sessions;
  std::vector<MetadataParticipant> participants;
  std::vector<MetadataStream> streams;
  // From the first element (or attribute) named conversationId or
  // conversation-id anywhere in the document: the SRC's hint to join a conversation.
  std::optional<std::string> conversation_id;

  const MetadataStream* StreamByLabel(std::string_view label) const;
  // The participant that sends the stream labelled `label`, or nullptr.
  const MetadataParticipant* SenderOfLabel(std::string_view label) const;
};

// Bounds on what one document may describe; far above any real recording
// session, low enough that every lookup stays cheap.
inline constexpr size_t kMaxMetadataItems = 256;  // participants, streams, sessions, groups
inline constexpr size_t kMaxStreamRefs = 256;     // <send> + <recv> per participant

// Errors are MetadataError (xml.h); kNotRecording when the root is not
// <recording>, kTooManyItems past the bounds above.
Result<RecordingMetadata> ParseRecordingMetadata(std::string_view xml);

}  // namespace verbatim::media::siprec
