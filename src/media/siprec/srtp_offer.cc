#include "media/siprec/srtp_offer.h"

#include "media/sip/text.h"

namespace verbatim::media::siprec {

MediaSecurity SecurityOf(const sdp::MediaDescription& m) {
  if (sip::IEquals(m.proto, "RTP/AVP") || sip::IEquals(m.proto, "RTP/AVPF")) return MediaSecurity::kPlain;
  if (sip::IEquals(m.proto, "RTP/SAVP") || sip::IEquals(m.proto, "RTP/SAVPF")) return MediaSecurity::kSdes;
  return MediaSecurity::kUnsupported;
}

std::vector<std::string_view> CryptoValues(const sdp::MediaDescription& m) {
  std::vector<std::string_view> out;
  for (const auto& a : m.attributes)
    if (sip::IEquals(a.name, "crypto")) out.push_back(a.value);
  return out;
}

SrtpOfferDecision DecideSrtp(const sdp::SessionDescription& offer, const Trunk& trunk, SipTransport transport) {
  SrtpOfferDecision d;
  d.declined.resize(offer.media.size());
  d.sdes.resize(offer.media.size());
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const sdp::MediaDescription& m = offer.media[i];
    if (!sip::IEquals(m.media, "audio") || m.port == 0 || !m.is_rtp()) continue;
    switch (SecurityOf(m)) {
      case MediaSecurity::kPlain:
        if (trunk.srtp == SrtpPolicy::kRequired)
          d.declined[i] = "trunk " + trunk.name + " requires SRTP: offer RTP/SAVP with a=crypto over SIP/TLS";
        break;
      case MediaSecurity::kUnsupported:
        d.declined[i] = m.proto + " is not supported: SRTP is keyed with SDES (RTP/SAVP with a=crypto)";
        break;
      case MediaSecurity::kSdes: {
        if (trunk.srtp == SrtpPolicy::kOff) {
          d.declined[i] = "trunk " + trunk.name + " has SRTP off";
          break;
        }
        if (transport != SipTransport::kTls) {
          // RFC 4568 §8.3: SDES keys need a secure signalling channel.
          d.refuse = "SRTP keys (a=crypto) are accepted over SIP/TLS only: sent over " +
                     std::string(ToString(transport)) + " anyone on the path can read them";
          return d;
        }
        const auto values = CryptoValues(m);
        auto answer = srtp::AnswerSdes(values);
        if (!answer.ok()) {
          d.declined[i] = answer.status().message();
          break;
        }
        d.sdes[i] = std::move(*answer);
        break;
      }
    }
  }
  return d;
}

sdp::SessionDescription WithoutDeclined(sdp::SessionDescription offer, const SrtpOfferDecision& d) {
  for (size_t i = 0; i < offer.media.size() && i < d.declined.size(); ++i)
    if (!d.declined[i].empty()) offer.media[i].port = 0;
  return offer;
}

}  // namespace verbatim::media::siprec
