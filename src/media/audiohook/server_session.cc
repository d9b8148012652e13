#include "media/audiohook/server_session.h"

#include <algorithm>

#include "media/codec/g711.h"

namespace verbatim::media::audiohook {
namespace {

constexpr uint32_t kRate = 8000;

bool Supported(const MediaParams& m) { return m.rate == kRate && !m.channels.empty() && m.channels.size() <= 2; }

size_t BytesPerSample(Format f) {
  switch (f) {
    case Format::kPcmu: return 1;
    case Format::kL16: return 2;
  }
  return 1;
}

}  // namespace

const char* ToString(SessionError e) {
  switch (e) {
    case SessionError::kOpenExpected: return "open.expected";
    case SessionError::kOpenRepeated: return "open.repeated";
    case SessionError::kSeqOutOfOrder: return "seq.out.of.order";
    case SessionError::kBadServerSeq: return "bad.serverseq";
    case SessionError::kSessionIdMismatch: return "session.id.mismatch";
    case SessionError::kOrganizationMismatch: return "organization.mismatch";
    case SessionError::kAudioBeforeOpened: return "audio.before.opened";
    case SessionError::kAudioWhilePaused: return "audio.while.paused";
    case SessionError::kBadAudioFrame: return "bad.audio.frame";
    case SessionError::kFrameTooLarge: return "frame.too.large";
    case SessionError::kTooManyMessages: return "too.many.messages";
    case SessionError::kPositionAhead: return "position.ahead";
    case SessionError::kMediaUnsupported: return "media.unsupported";
  }
  return "?";
}

Status SessionFailure(SessionError e, std::string_view detail) {
  std::string msg = ToString(e);
  if (!detail.empty()) msg += ": " + std::string(detail);
  return Status::InvalidArgument(std::string("audiohook.") + ToString(e), std::move(msg));
}

const char* ToString(State s) {
  switch (s) {
    case State::kAwaitingOpen: return "awaiting-open";
    case State::kOpening: return "opening";
    case State::kActive: return "active";
    case State::kPaused: return "paused";
    case State::kClosed: return "closed";
    case State::kFailed: return "failed";
  }
  return "?";
}

ServerSession::ServerSession(SessionOptions options)
    : opts_(std::move(options)), session_id_(opts_.session_id), tokens_(opts_.text_burst) {}

ServerHeader ServerSession::NextHeader() {
  // Before a valid first message the session has no id yet: the null UUID keeps
  // the message well-formed for the client.
  return ServerHeader{session_id_.empty() ? std::string(kNullUuid) : session_id_, ++seq_, clientseq_};
}

std::string ServerSession::Next(std::string (*serialize)(const ServerHeader&)) { return serialize(NextHeader()); }

Output ServerSession::Fail(Status error, DisconnectReason reason) {
  Output out;
  if (state_ == State::kFailed || state_ == State::kClosed) return out;  // already ending: say nothing more
  // `info` carries the machine code first, so a client log shows it verbatim.
  std::string info = error.code() + ": " + error.message();
  if (error.code() == "audiohook." + error.message().substr(0, error.message().find(':')))
    info = "audiohook." + error.message();  // "audiohook.bad.seq: <detail>", not the name twice
  out.send.push_back(SerializeDisconnect(NextHeader(), reason, info));
  out.disconnect = true;
  out.error = std::move(error);
  state_ = State::kFailed;
  return out;
}

bool ServerSession::TakeTextToken(Nanos arrival) {
  if (last_refill_ && arrival > *last_refill_) {
    double secs = std::chrono::duration<double>(arrival - *last_refill_).count();
    tokens_ = std::min(opts_.text_burst, tokens_ + secs * opts_.text_per_second);
  }
  if (!last_refill_ || arrival > *last_refill_) last_refill_ = arrival;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool ServerSession::AheadOfRealTime(int64_t position, Nanos arrival) const {
  if (!opened_at_) return false;
  Nanos elapsed = arrival > *opened_at_ ? arrival - *opened_at_ : Nanos{0};
  return position > NanosToSamples((elapsed + opts_.audio_ahead_limit).count(), kRate);
}

Output ServerSession::OnText(std::string_view text, Nanos arrival) {
  if (state_ == State::kClosed) return {};
  ++stats_.text_messages;
  if (state_ == State::kFailed) {
    // After our `disconnect` the client runs its close transaction: answer
    // `close` (whatever its seq) and ignore the rest.
    auto parsed = ParseClientMessage(text);
    if (!parsed.ok() || parsed->type != ClientType::kClose) return {};
    clientseq_ = parsed->seq;
    state_ = State::kClosed;
    Output out;
    out.closed = true;
    out.send.push_back(Next(SerializeClosed));
    return out;
  }
  if (!TakeTextToken(arrival))
    return Fail(SessionFailure(SessionError::kTooManyMessages,
                               "more than " + std::to_string(static_cast<int>(opts_.text_per_second)) +
                                   " messages per second"));
  auto parsed = ParseClientMessage(text);
  if (!parsed.ok()) return Fail(parsed.status());
  return HandleMessage(*parsed, arrival);
}

Output ServerSession::HandleMessage(const ClientMessage& m, Nanos arrival) {
  if (state_ == State::kClosed) return {};  // stragglers after `closed`: the client is going away
  if (m.seq != clientseq_ + 1)
    return Fail(SessionFailure(SessionError::kSeqOutOfOrder, "expected seq " + std::to_string(clientseq_ + 1) +
                                                                 ", got " + std::to_string(m.seq)));
  clientseq_ = m.seq;
  if (m.serverseq > seq_ || m.serverseq < serverseq_seen_)
    return Fail(SessionFailure(SessionError::kBadServerSeq, "serverseq " + std::to_string(m.serverseq) +
                                                                " (last sent " + std::to_string(seq_) + ")"));
  serverseq_seen_ = m.serverseq;
  if (session_id_.empty()) session_id_ = m.id;
  if (m.id != session_id_) {
    return Fail(SessionFailure(SessionError::kSessionIdMismatch, "message id " + m.id + " is not session " +
                                                                     session_id_));
  }
  if (state_ == State::kAwaitingOpen && m.type != ClientType::kOpen && m.type != ClientType::kPing &&
      m.type != ClientType::kClose && m.type != ClientType::kError) {
    return Fail(SessionFailure(SessionError::kOpenExpected, std::string("got '") + ToString(m.type) + "'"));
  }

  Output out;
  switch (m.type) {
    case ClientType::kOpen: {
      if (state_ != State::kAwaitingOpen) return Fail(SessionFailure(SessionError::kOpenRepeated, ""));
      if (!opts_.organization_id.empty() && m.open.organization_id != opts_.organization_id) {
        return Fail(SessionFailure(SessionError::kOrganizationMismatch,
                                   "organizationId differs from the Audiohook-Organization-Id header"),
                    DisconnectReason::kUnauthorized);
      }
      open_ = m.open;
      language_ = m.open.language;
      auto it = std::find_if(open_.media.begin(), open_.media.end(), Supported);
      if (it != open_.media.end()) selected_ = *it;
      if (!selected_ && !is_probe())
        return Fail(SessionFailure(SessionError::kMediaUnsupported, "offer PCMU or L16 at 8000 Hz, 1 or 2 channels"));
      opened_at_ = arrival;
      state_ = State::kOpening;
      out.open_requested = true;
      return out;
    }
    case ClientType::kPing:
      out.send.push_back(Next(SerializePong));
      return out;
    case ClientType::kClose:
      state_ = State::kClosed;
      out.closed = true;
      out.send.push_back(Next(SerializeClosed));
      return out;
    case ClientType::kPaused:
      if (state_ == State::kActive) state_ = State::kPaused;
      return out;
    case ClientType::kResumed:
    case ClientType::kDiscarded: {
      // The client skipped [start, start + discarded): the stream continues after it.
      int64_t to = NanosToSamples(m.start, kRate) + NanosToSamples(m.discarded, kRate);
      if (AheadOfRealTime(to, arrival))
        return Fail(SessionFailure(
            SessionError::kPositionAhead,
            std::string(ToString(m.type)) + " moves the stream to " + FormatDuration(m.start + m.discarded)));
      if (to > position_) {
        stats_.gap_samples += static_cast<uint64_t>(to - position_);
        position_ = to;
      }
      if (m.type == ClientType::kResumed && state_ == State::kPaused) state_ = State::kActive;
      return out;
    }
    case ClientType::kUpdate:
      language_ = m.language;
      out.send.push_back(Next(SerializeUpdated));
      return out;
    case ClientType::kError:
      ++stats_.client_errors;  // informational: the client follows up with `close`
      return out;
  }
  return out;
}

Output ServerSession::OnBinary(std::span<const std::byte> data, Nanos arrival) {
  switch (state_) {
    case State::kFailed:
    case State::kClosed:
      return {};  // in flight when the session ended
    case State::kAwaitingOpen:
    case State::kOpening:
      return Fail(SessionFailure(SessionError::kAudioBeforeOpened, "audio is allowed after 'opened'"));
    case State::kPaused:
      return Fail(SessionFailure(SessionError::kAudioWhilePaused, "the client reported 'paused'"));
    case State::kActive:
      break;
  }
  if (!selected_) return {};  // probe without media: nothing to record
  if (data.size() > opts_.max_binary_bytes)
    return Fail(SessionFailure(SessionError::kFrameTooLarge, std::to_string(data.size()) + " bytes, the limit is " +
                                                                 std::to_string(opts_.max_binary_bytes)));
  const size_t channels = selected_->channels.size();
  const size_t frame_bytes = channels * BytesPerSample(selected_->format);
  if (data.empty() || data.size() % frame_bytes != 0)
    return Fail(
        SessionFailure(SessionError::kBadAudioFrame,
                       std::to_string(data.size()) + " bytes is not a multiple of " + std::to_string(frame_bytes)));
  const size_t n = data.size() / frame_bytes;
  if (AheadOfRealTime(position_ + static_cast<int64_t>(n), arrival))
    return Fail(SessionFailure(SessionError::kPositionAhead, "audio arrives faster than real time"));

  Output out;
  out.audio.resize(channels);
  for (size_t c = 0; c < channels; ++c) {
    AudioBlock& b = out.audio[c];
    b.channel = c;
    b.position = position_;
    b.frame = stats_.binary_frames;
    b.samples.resize(n);
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < channels; ++c) {
      int16_t s;
      if (selected_->format == Format::kPcmu) {
        s = codec::MulawToLinear(bytes[i * channels + c]);
      } else {
        const uint8_t* p = bytes + (i * channels + c) * 2;
        s = static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
      }
      out.audio[c].samples[i] = s;
    }
  }
  position_ += static_cast<int64_t>(n);
  ++stats_.binary_frames;
  stats_.samples += n;
  return out;
}

Output ServerSession::CompleteOpen(bool start_paused) {
  Output out;
  if (state_ != State::kOpening) return out;
  state_ = State::kActive;
  pause_requested_ = start_paused;
  out.send.push_back(SerializeOpened(NextHeader(), selected_, start_paused, open_.supported_languages));
  return out;
}

Output ServerSession::FailOpen(DisconnectReason reason, std::string_view code, std::string_view info) {
  if (state_ != State::kOpening) return {};
  return Fail(Status::FailedPrecondition(std::string(code), std::string(info)), reason);
}

Output ServerSession::RequestPause() {
  Output out;
  if ((state_ != State::kActive && state_ != State::kPaused) || pause_requested_) return out;
  pause_requested_ = true;
  out.send.push_back(Next(SerializePause));
  return out;
}

Output ServerSession::RequestResume() {
  Output out;
  if ((state_ != State::kActive && state_ != State::kPaused) || !pause_requested_) return out;
  pause_requested_ = false;
  out.send.push_back(Next(SerializeResume));
  return out;
}

Output ServerSession::Abort(DisconnectReason reason, std::string_view info) {
  return Fail(Status::Unavailable("audiohook.aborted", std::string(info)), reason);
}

}  // namespace verbatim::media::audiohook
