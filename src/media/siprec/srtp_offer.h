// SRTP in a SIPREC offer (docs/sip-trunks.md "SRTP"): for each offered m=
// line, whether the trunk's SRTP policy and the signalling transport let us
// record it, and for RTP/SAVP the SDES keys (RFC 4568): the SRC's, which
// decrypt what it sends, and ours for the answer.
//
//   RTP/AVP, RTP/AVPF    plain RTP: declined when the trunk requires SRTP
//   RTP/SAVP, RTP/SAVPF  SRTP keyed by a=crypto: only over SIP/TLS (the keys
//                        are in the SDP; over UDP/TCP anyone on the path reads
//                        them, so the whole INVITE is refused: 488); declined
//                        when the trunk has SRTP off or no a=crypto is usable
//   anything else        (DTLS-SRTP "UDP/TLS/RTP/SAVP", ...) declined
//
// Thread-safety: pure functions (our keys come from libsodium's RNG).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/sdp/sdp.h"
#include "media/siprec/trunks.h"
#include "media/srtp/sdes.h"

namespace verbatim::media::siprec {

enum class MediaSecurity { kPlain, kSdes, kUnsupported };
MediaSecurity SecurityOf(const sdp::MediaDescription& m);

struct SrtpOfferDecision {
  // Set: refuse the whole request with 488 and this Warning text.
  std::optional<std::string> refuse;
  // Per offered m= line (same size as offer.media):
  std::vector<std::string> declined;                     // why the stream is not recorded; "" = it may be
  std::vector<std::optional<srtp::SdesAnswer>> sdes;     // RTP/SAVP streams that may be recorded
};

// `offer` is a parsed SDP offer; only audio RTP m= lines with a port are judged.
SrtpOfferDecision DecideSrtp(const sdp::SessionDescription& offer, const Trunk& trunk, SipTransport transport);

// The offer with every m= line `d` declines disabled (port 0), for stream planning.
sdp::SessionDescription WithoutDeclined(sdp::SessionDescription offer, const SrtpOfferDecision& d);

// The values of a m= line's a=crypto attributes, in order.
std::vector<std::string_view> CryptoValues(const sdp::MediaDescription& m);

}  // namespace verbatim::media::siprec
