// ServerSession: the AudioHook v2 server side of one WebSocket connection, as a
// pure state machine. Input: a text or binary frame with its arrival time.
// Output: the text messages to send (in order), the decoded audio to deliver,
// and what the transport must do (open a media session, finish it, drop the
// connection). No sockets, no clock reads, no threads; not thread-safe (the
// endpoint drives it from one strand).
//
// Rules enforced (each violation is a named SessionError; the session answers
// with `disconnect` {reason: "error", info: "<code>: <detail>"} and fails):
//   - the first message is `open`, and only one `open` per connection;
//   - client `seq` is the previous one + 1 (starting at 1); `serverseq` never
//     exceeds the last server `seq` nor goes backwards;
//   - `id` is the session id (from the Audiohook-Session-Id header when the
//     transport had one, else from `open`); `organizationId` matches the
//     Audiohook-Organization-Id header when given (else `disconnect`
//     {reason: "unauthorized"});
//   - binary audio only while open and not paused by the client, a whole number
//     of sample frames of the negotiated media (PCMU or L16, 8 kHz, channels
//     interleaved in the negotiated order), at most max_binary_bytes;
//   - text messages are rate limited (token bucket), and the stream position
//     may not run ahead of real time by more than audio_ahead_limit.
// Position: samples since the start of the stream. Audio advances it by its
// length; `resumed`/`discarded` move it to start + discarded, so audio that
// the client paused or dropped becomes a gap (silence), as in the protocol.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "media/audiohook/protocol.h"

namespace verbatim::media::audiohook {

using Nanos = std::chrono::nanoseconds;

enum class SessionError {
  kOpenExpected,          // first message is not `open`
  kOpenRepeated,          // a second `open`
  kSeqOutOfOrder,         // seq != previous + 1
  kBadServerSeq,          // serverseq ahead of what we sent, or going backwards
  kSessionIdMismatch,     // id differs from the session's
  kOrganizationMismatch,  // organizationId differs from the header's
  kAudioBeforeOpened,     // binary frame before `opened`
  kAudioWhilePaused,      // binary frame after the client said `paused`
  kBadAudioFrame,         // empty, or not a whole number of sample frames
  kFrameTooLarge,         // binary frame over max_binary_bytes
  kTooManyMessages,       // text message rate over the limit
  kPositionAhead,         // audio or a resumed/discarded position runs ahead of real time
  kMediaUnsupported,      // nothing offered that we can record
};
const char* ToString(SessionError e);  // "open.expected", ...; "?" past the last value
// InvalidArgument with code "audiohook.<ToString(e)>".
Status SessionFailure(SessionError e, std::string_view detail);

enum class State { kAwaitingOpen, kOpening, kActive, kPaused, kClosed, kFailed };
const char* ToString(State s);

struct SessionOptions {
  std::string session_id;       // Audiohook-Session-Id header; empty = taken from `open`
  std::string organization_id;  // Audiohook-Organization-Id header; empty = not checked
  size_t max_binary_bytes = 64 * 1024;
  double text_burst = 32;         // messages
  double text_per_second = 16;    // sustained
  Nanos audio_ahead_limit = std::chrono::seconds(5);
};

// One channel's samples from one binary frame.
struct AudioBlock {
  size_t channel = 0;     // index into selected media channels
  int64_t position = 0;   // stream position (samples) of samples[0]
  uint64_t frame = 0;     // 0-based binary frame count (for per-channel sequence numbers)
  std::vector<int16_t> samples;
};

struct Output {
  std::vector<std::string> send;  // text messages, in order
  std::vector<AudioBlock> audio;
  bool open_requested = false;  // `open` accepted: call CompleteOpen() or FailOpen() next
  bool closed = false;          // close transaction done (`closed` is in `send`): finish the media session
  bool disconnect = false;      // the session failed (`disconnect` is in `send`): finish the media session;
                                // the client should now close (it may first run a close transaction)
  Status error;                 // why the session failed (ok otherwise)
};

struct SessionStats {
  uint64_t text_messages = 0;
  uint64_t binary_frames = 0;
  uint64_t samples = 0;          // per channel
  uint64_t gap_samples = 0;      // skipped by resumed/discarded
  uint64_t client_errors = 0;    // `error` messages from the client
};

class ServerSession {
 public:
  explicit ServerSession(SessionOptions options = {});

  Output OnText(std::string_view text, Nanos arrival);
  Output OnBinary(std::span<const std::byte> data, Nanos arrival);

  // Completes the open transaction (state kOpening): sends `opened`.
  Output CompleteOpen(bool start_paused);
  // Refuses it: `disconnect` with the reason; the session fails.
  Output FailOpen(DisconnectReason reason, std::string_view code, std::string_view info);
  // Server-initiated pause/resume (recording paused/resumed by the control API).
  // Sends `pause`/`resume` when it changes what was last asked; else nothing.
  Output RequestPause();
  Output RequestResume();
  // The transport gave up (idle timeout, shutdown): `disconnect` and fail.
  Output Abort(DisconnectReason reason, std::string_view info);

  State state() const { return state_; }
  const std::string& session_id() const { return session_id_; }
  const OpenParams& open_params() const { return open_; }
  const std::optional<MediaParams>& selected_media() const { return selected_; }
  // A Genesys connection probe (conversationId is the null UUID): no recording.
  bool is_probe() const { return open_.conversation_id == kNullUuid; }
  int64_t position() const { return position_; }  // samples
  const std::string& language() const { return language_; }
  const SessionStats& stats() const { return stats_; }

 private:
  std::string Next(std::string (*serialize)(const ServerHeader&));
  ServerHeader NextHeader();
  Output Fail(Status error, DisconnectReason reason = DisconnectReason::kError);
  bool TakeTextToken(Nanos arrival);
  bool AheadOfRealTime(int64_t position, Nanos arrival) const;
  Output HandleMessage(const ClientMessage& m, Nanos arrival);

  // Constant after construction.
  const SessionOptions opts_;

  State state_ = State::kAwaitingOpen;
  std::string session_id_;
  OpenParams open_;
  std::optional<MediaParams> selected_;
  std::string language_;
  uint64_t seq_ = 0;        // last server seq sent
  uint64_t clientseq_ = 0;  // last client seq received
  uint64_t serverseq_seen_ = 0;
  int64_t position_ = 0;
  std::optional<Nanos> opened_at_;  // arrival of `open`: real time starts here
  bool pause_requested_ = false;    // we sent `pause` (or opened with startPaused)
  double tokens_;
  std::optional<Nanos> last_refill_;
  SessionStats stats_;
};

}  // namespace verbatim::media::audiohook
