// RecordingSession: one live media session (a SIPREC dialog or an AudioHook
// connection) feeding one conversation's SegmentRecorder. Each channel has its
// own jitter buffer; all buffers share the session's origin, so positions are
// on one timeline and the participants stay aligned in the file.
//
// Time: Nanos on the steady clock, passed in by the caller (the hub's ticker
// and the transports), never read here.
// Thread-safe: transports push from their threads, the hub ticks from its own.
// Two locks, so that a transport's push never waits for the disk: input_mu_
// guards only the jitter buffers (held for a push or to take out what is due);
// record_mu_ guards the recorder and is held while it writes. Work that can
// block for long (finalizing files, catalog rows) is not done here at all: it
// is handed to the FileWorkSink, in the order it must happen.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/mutex.h"
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

// What a session leaves to the background after a change, to be done in this
// order: first finalize the files of closed segments (Close(): fdatasync,
// rename .part → .wav, directory fsync), then write the catalog rows, so that
// a row saying "complete" never precedes its file's rename.
struct FileWork {
  std::vector<std::unique_ptr<wav::WavWriter>> finalize;
  std::vector<MediaFileInfo> updates;  // new, grown or closed segments
};
// Called with the session's lock held, in the order the work arose: it must
// only queue the work, never do it.
using FileWorkSink = std::function<void(FileWork)>;

class RecordingSession {
 public:
  // `recorder` should have defer_finalize set; without it, it finalizes files
  // itself, on whichever thread closes a segment.
  RecordingSession(std::string conversation_id, Attachment attachment, std::vector<std::string> channel_labels,
                   std::unique_ptr<recorder::SegmentRecorder> recorder, uint32_t sample_rate, Nanos origin,
                   FileWorkSink publish);
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
  // Plays out the jitter buffers up to `now` and writes the file. Publishes
  // new and closed segments, and with `report_growth` grown ones too.
  void Tick(Nanos now, bool report_growth);
  // End of media: flush everything, close the open segment, publish it.
  void Finish(Nanos now);

  SessionStats Stats() const;
  Status error() const;

 private:
  struct Channel;
  struct Playout;
  int64_t PositionAt(Nanos t) const;
  void DrainLocked(Nanos now, bool flush) REQUIRES(record_mu_) EXCLUDES(input_mu_);
  void PublishLocked(bool include_growth) REQUIRES(record_mu_);
  std::vector<MediaFileInfo> FileUpdatesLocked(bool include_growth) REQUIRES(record_mu_);

  // Constant after construction.
  const std::string conversation_id_;
  const Attachment attachment_;
  const std::vector<std::string> labels_;
  const uint32_t sample_rate_;
  const Nanos origin_;
  const FileWorkSink publish_;

  // Order: record_mu_ before input_mu_, never the other way.
  mutable Mutex input_mu_ ACQUIRED_AFTER(record_mu_);  // also guards channels_' jitter buffers
  std::vector<std::unique_ptr<Channel>> channels_;  // the vector itself is constant after construction
  std::vector<int16_t> scratch_ GUARDED_BY(input_mu_);
  SessionStats stats_ GUARDED_BY(input_mu_);
  bool input_closed_ GUARDED_BY(input_mu_) = false;

  mutable Mutex record_mu_;
  std::unique_ptr<recorder::SegmentRecorder> recorder_ GUARDED_BY(record_mu_);
  std::unique_ptr<Playout> playout_ GUARDED_BY(record_mu_);  // what the jitter buffers released, on its way to the recorder
  std::vector<uint64_t> reported_frames_ GUARDED_BY(record_mu_);  // per segment index (1-based), frames last reported
  std::vector<bool> reported_closed_ GUARDED_BY(record_mu_);
  bool finished_ GUARDED_BY(record_mu_) = false;
  Status error_ GUARDED_BY(record_mu_);
};

}  // namespace verbatim::media::capture
