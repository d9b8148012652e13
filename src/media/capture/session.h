// RecordingSession: one live media session (a SIPREC dialog or an AudioHook
// connection) feeding one conversation's SegmentRecorder. Each channel has its
// own jitter buffer; all buffers share the session's origin, so positions are
// on one timeline and the participants stay aligned in the file.
//
// Time: Nanos on the steady clock, passed in by the caller (the hub's ticker
// and the transports), never read here.
// Thread-safe: transports push from their threads, the hub ticks from its own.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "media/capture/control.h"
#include "media/codec/decoder.h"
#include "media/recorder/segment_recorder.h"
#include "media/rtp/jitter_buffer.h"
#include "media/rtp/packet.h"

namespace verbatim::media::capture {

using Nanos = rtp::Nanos;

struct SessionStats {
  uint64_t packets = 0;        // RTP packets / audio frames pushed
  uint64_t decode_errors = 0;  // payloads the negotiated codec could not decode
  uint64_t lost_packets = 0;   // summed over channels
  uint64_t late_packets = 0;
  uint64_t duplicates = 0;
  uint64_t frames_written = 0;
};

class RecordingSession {
 public:
  RecordingSession(std::string conversation_id, Attachment attachment, std::vector<std::string> channel_labels,
                   std::unique_ptr<recorder::SegmentRecorder> recorder, uint32_t sample_rate, Nanos origin);
  ~RecordingSession();

  const std::string& conversation_id() const { return conversation_id_; }
  const Attachment& attachment() const { return attachment_; }
  size_t channels() const { return channels_.size(); }

  // A parsed RTP packet for `channel`, decoded with the negotiated codec.
  void PushRtp(size_t channel, const rtp::Packet& packet, const codec::Decoder& decoder, Nanos arrival);
  // Linear PCM for `channel` at stream offset `timestamp` (in samples, like an
  // RTP timestamp), with a per-channel sequence number.
  void PushPcm(size_t channel, uint16_t sequence, uint32_t timestamp, std::span<const int16_t> samples,
               Nanos arrival);
  // The control state changed (API action, autoStart, SIPREC pause).
  void SetState(RecordingState state, Nanos at);
  // Plays out the jitter buffers up to `now` and writes the file.
  void Tick(Nanos now);
  // End of media: flush everything and close the open segment.
  void Finish(Nanos now);

  // Segments whose catalog entry changed since the last call (new, grown or closed).
  std::vector<MediaFileInfo> TakeFileUpdates(bool include_growth);
  SessionStats Stats() const;
  Status error() const;

 private:
  int64_t PositionAt(Nanos t) const;
  void DrainLocked(Nanos now, bool flush);

  // Constant after construction.
  const std::string conversation_id_;
  const Attachment attachment_;
  const std::vector<std::string> labels_;
  const uint32_t sample_rate_;
  const Nanos origin_;

  mutable std::mutex mu_;  // guards everything below
  struct Channel;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::unique_ptr<recorder::SegmentRecorder> recorder_;
  std::vector<int16_t> scratch_;
  std::vector<uint64_t> reported_frames_;  // per segment index (1-based), frames last reported
  std::vector<bool> reported_closed_;
  SessionStats stats_;
  bool finished_ = false;
  Status error_;
};

}  // namespace verbatim::media::capture
