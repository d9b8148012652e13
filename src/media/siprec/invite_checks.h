// The pure decisions the SIPREC UAS takes on an INVITE before anything is
// created (uas.h runs them in order): is it a recording session at all, which
// option tags it requires, which session timer to run, which offered streams
// to record within a trunk's limits, and whom to accept each stream's RTP
// from. Each names the rule it applied, so a refusal can say why.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/codec/decoder.h"
#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/sip/session_timer.h"
#include "media/siprec/streams.h"
#include "media/siprec/trunks.h"

namespace verbatim::media::siprec {

// RFC 7866 §6.1.1: an SRC marks its Contact with the +sip.src feature tag.
// Accepted spellings: ";+sip.src" (the RFC's), any case, "=\"TRUE\"", and
// the tag inside the URI's angle brackets (seen from SBCs that append it to
// the URI); "=\"FALSE\"" (RFC 3840 §9) is not a recording session.
bool IsRecordingSessionContact(const sip::Message& invite);

// The first option tag in Require that we do not support (siprec, timer), if any.
std::optional<std::string> UnsupportedRequire(const sip::Message& request);

// RFC 4028 §9 as a UAS that never refreshes: we run a timer only when the
// SRC supports it (Supported/Require: timer) and asks for one, and then it
// refreshes (refresher=uac). A Session-Expires from an SRC without timer
// support is ignored (we would have to refresh). Too short → 422.
struct TimerDecision {
  enum class Kind { kNone, kAccept, kTooSmall, kBad };
  Kind kind = Kind::kNone;
  uint32_t interval = 0;  // kAccept: the session interval, seconds
  uint32_t min_se = 0;    // kTooSmall: the Min-SE to answer with
  std::string why;        // kBad: what did not parse
};
TimerDecision NegotiateSessionTimer(const sip::Message& request, uint32_t our_min_se);

// Which offered m= lines become recorded channels: RTP audio with a codec we
// decode, all at the first accepted stream's clock rate, at most
// limits.max_channels of them and within limits.max_bandwidth_kbps (decoded:
// rate × 16 bit per channel). The rest are declined (port 0 in the answer).
struct PlannedStream {
  size_t mline = 0;
  codec::Decoder audio;
  std::optional<codec::Decoder> events;
  std::string label;  // a=label, else the m= line's 1-based index
};
struct StreamPlan {
  std::vector<PlannedStream> accepted;
  uint32_t clock_rate = 0;
  size_t declined_codec = 0;      // no codec we decode, or another clock rate
  size_t declined_channels = 0;   // over max_channels
  size_t declined_bandwidth = 0;  // over max_bandwidth_kbps
  uint32_t kbps = 0;              // of the accepted streams
};
StreamPlan PlanStreams(const sdp::SessionDescription& offer, const TrunkLimits& limits);

// Whether the SRC says it sends on any of the streams we record (the offered
// m= lines at `mlines`): sendonly or sendrecv with a port. inactive/recvonly
// everywhere means paused (RFC 7866 §8.1.3) or not started yet.
bool AnyStreamSending(const sdp::SessionDescription& offer, const std::vector<size_t>& mlines);

// Whom a stream's RTP is accepted from: the offer's c= address for that m=
// line when it is a usable literal (not 0.0.0.0 / ::, not a name), else the
// address the signalling came from; with RtpSource::kLatch, the trunk's networks.
RtpSourcePolicy RtpSourceFor(const Trunk& trunk, const sdp::SessionDescription& offer,
                             const sdp::MediaDescription& media, const std::optional<IpAddress>& signalling_source);

}  // namespace verbatim::media::siprec
