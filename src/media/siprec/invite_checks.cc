#include "media/siprec/invite_checks.h"

#include "media/sip/header_values.h"
#include "media/sip/text.h"

namespace verbatim::media::siprec {
namespace {

// A boolean feature tag is TRUE when present without a value or with "TRUE".
bool FeatureTrue(const sip::Params& params, std::string_view tag) {
  for (const sip::Param& p : params) {
    if (!sip::IEquals(p.name, tag)) continue;
    return p.value.empty() || sip::IEquals(p.value, "TRUE");
  }
  return false;
}

bool ListHasTag(const sip::Message& m, std::string_view header, std::string_view tag) {
  for (auto value : m.headers(header))
    for (auto t : sip::SplitList(value))
      if (sip::IEquals(t, tag)) return true;
  return false;
}

}  // namespace

bool IsRecordingSessionContact(const sip::Message& invite) {
  for (std::string_view value : invite.headers("Contact")) {
    auto na = sip::ParseNameAddr(value);
    if (!na.ok()) continue;
    if (FeatureTrue(na->params, "+sip.src")) return true;
    // "<sip:src@host;+sip.src>": the tag as a URI parameter.
    const size_t semi = na->uri.find(';');
    if (semi != std::string::npos) {
      std::string_view uri_params(na->uri);
      uri_params.remove_prefix(semi);
      const size_t headers = uri_params.find('?');
      auto p = sip::ParseParams(uri_params.substr(0, headers));
      if (p.ok() && FeatureTrue(*p, "+sip.src")) return true;
    }
  }
  return false;
}

std::optional<std::string> UnsupportedRequire(const sip::Message& request) {
  for (auto value : request.headers("Require")) {
    for (auto tag : sip::SplitList(value)) {
      if (!sip::IEquals(tag, "siprec") && !sip::IEquals(tag, "timer")) return std::string(tag.substr(0, 64));
    }
  }
  return std::nullopt;
}

TimerDecision NegotiateSessionTimer(const sip::Message& request, uint32_t our_min_se) {
  TimerDecision d;
  auto se_header = request.header("Session-Expires");
  if (!se_header) return d;
  auto se = sip::ParseSessionExpires(*se_header);
  if (!se.ok()) {
    d.kind = TimerDecision::Kind::kBad;
    d.why = "Session-Expires: " + se.status().message();
    return d;
  }
  uint32_t their_min = 0;
  if (auto min_header = request.header("Min-SE")) {
    auto min = sip::ParseMinSe(*min_header);
    if (!min.ok()) {
      d.kind = TimerDecision::Kind::kBad;
      d.why = "Min-SE: " + min.status().message();
      return d;
    }
    their_min = *min;
  }
  const bool supported = ListHasTag(request, "Supported", "timer") || ListHasTag(request, "Require", "timer");
  if (!supported) return d;  // we would be the refresher: no timer (docs/sip-trunks.md "Session timers")
  if (se->seconds < our_min_se) {
    d.kind = TimerDecision::Kind::kTooSmall;
    d.min_se = std::max(our_min_se, their_min);
    return d;
  }
  d.kind = TimerDecision::Kind::kAccept;
  d.interval = se->seconds;
  return d;
}

StreamPlan PlanStreams(const sdp::SessionDescription& offer, const TrunkLimits& limits) {
  StreamPlan plan;
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const auto& md = offer.media[i];
    if (md.media != "audio" || !md.is_rtp() || md.port == 0) continue;
    auto chosen = sdp::ChooseCodec(md);
    std::optional<codec::Decoder> audio;
    if (chosen && (plan.clock_rate == 0 || chosen->clock_rate == plan.clock_rate)) {
      auto dec = codec::Decoder::Select(chosen->payload_type, chosen->encoding, chosen->clock_rate, chosen->channels);
      if (dec.ok()) audio = *dec;
    }
    if (!audio) {
      ++plan.declined_codec;
      continue;
    }
    if (limits.max_channels != 0 && plan.accepted.size() >= limits.max_channels) {
      ++plan.declined_channels;
      continue;
    }
    const uint32_t kbps = chosen->clock_rate * 16 / 1000;
    if (limits.max_bandwidth_kbps != 0 && plan.kbps + kbps > limits.max_bandwidth_kbps) {
      ++plan.declined_bandwidth;
      continue;
    }
    std::optional<codec::Decoder> events;
    if (auto te = sdp::FindTelephoneEvent(md, chosen->clock_rate)) {
      auto ev = codec::Decoder::Select(te->payload_type, te->encoding, te->clock_rate, te->channels);
      if (ev.ok()) events = *ev;
    }
    plan.clock_rate = chosen->clock_rate;
    plan.kbps += kbps;
    plan.accepted.push_back({i, *audio, events, md.label.value_or(std::to_string(i + 1))});
  }
  return plan;
}

bool AnyStreamSending(const sdp::SessionDescription& offer, const std::vector<size_t>& mlines) {
  for (size_t i : mlines) {
    if (i >= offer.media.size()) continue;
    const auto& m = offer.media[i];
    if (m.port != 0 && (m.direction == sdp::Direction::kSendOnly || m.direction == sdp::Direction::kSendRecv))
      return true;
  }
  return false;
}

RtpSourcePolicy RtpSourceFor(const Trunk& trunk, const sdp::SessionDescription& offer,
                             const sdp::MediaDescription& media, const std::optional<IpAddress>& signalling_source) {
  RtpSourcePolicy p;
  p.mode = trunk.rtp_source;
  if (p.mode == RtpSource::kLatch) {
    p.networks = trunk.networks;
    return p;
  }
  if (const sdp::Connection* c = offer.ConnectionFor(media)) {
    std::string_view address = c->address;
    address = address.substr(0, address.find('/'));  // multicast "/ttl": never a usable unicast source anyway
    if (auto a = ParseIpAddress(address)) {
      static const IpAddress kAny4{}, kAny6 = [] {
        IpAddress a6;
        a6.v4 = false;
        return a6;
      }();
      if (!(*a == kAny4) && !(*a == kAny6)) p.address = *a;
    }
  }
  if (!p.address) p.address = signalling_source;
  return p;
}

}  // namespace verbatim::media::siprec
