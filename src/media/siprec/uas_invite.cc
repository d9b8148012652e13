// SiprecUas::Invite: a new INVITE from a trunk, from admission to the 200 OK.
// Every refusal happens before anything is created (no conversation, no
// file, no port), names its rule in a Warning, and is counted.
#include <algorithm>

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "media/siprec/invite_checks.h"
#include "media/siprec/multipart.h"
#include "media/siprec/rs_metadata.h"
#include "media/siprec/srtp_offer.h"
#include "media/siprec/uas.h"
#include "media/siprec/uas_dialog.h"

namespace verbatim::media::siprec {

UasOutput SiprecUas::Invite(const sip::Message& req, Peer peer, const std::shared_ptr<const Trunk>& trunk) {
  const std::string call_id(req.call_id());
  auto live = dialogs_.find(call_id);
  if (live != dialogs_.end()) {
    const Dialog& d = *live->second;
    // A retransmitted INVITE: answer it again, do not record twice. Only the
    // same transaction from the same trunk is a retransmission (it was
    // authenticated the first time; its nonce count must not count twice).
    if (req.via_branch() == d.invite_branch && req.from_tag() == d.remote_tag && d.trunk->id == trunk->id) {
      UasOutput out;
      out.responses.push_back(d.invite_response);
      out.reliable_2xx = true;
      return out;
    }
  }
  ++stats_.invites;

  if (trunk->digest) {
    DigestVerdict v = auth_.Check(*trunk, req);
    switch (v.outcome) {
      case DigestVerdict::Outcome::kOk:
        break;
      case DigestVerdict::Outcome::kChallenge:
      case DigestVerdict::Outcome::kStale: {
        const bool stale = v.outcome == DigestVerdict::Outcome::kStale;
        UasOutput out = Reject(req, 401, "Unauthorized", "", stale ? "auth_stale_nonce" : "auth_challenge");
        for (const auto& c : v.challenges) out.responses.back().AddHeader("WWW-Authenticate", c);
        return out;
      }
      case DigestVerdict::Outcome::kFailed:
        // The sender may not be the trunk at all: the status says enough.
        Log(LogLevel::kWarn, "sip digest authentication failed",
            {{"trunk", trunk->name}, {"source", peer.address->ToString()}, {"why", v.why}});
        UasOutput out = Reject(req, 403, "Forbidden", "", "auth_failed");
        return out;
    }
  }

  // Authentication first: whether a Call-ID is live is nobody else's business.
  // Anyone reusing a live Call-ID is refused, never joined to the dialog.
  if (live != dialogs_.end())
    return Reject(req, 482, "Loop Detected", "a dialog with this Call-ID already exists", "call_id_in_use");

  if (!IsRecordingSessionContact(req)) {
    return Reject(req, 403, "Not a Recording Session",
                  "the Contact lacks the +sip.src feature tag (RFC 7866 6.1.1): only SIPREC recording sessions "
                  "are accepted",
                  "not_recording_session");
  }
  if (auto tag = UnsupportedRequire(req)) {
    UasOutput out = Reject(req, 420, "Bad Extension", "unsupported option-tag " + *tag, "bad_extension");
    out.responses.back().SetHeader("Unsupported", *tag);
    return out;
  }
  std::string content_type(req.header("Content-Type").value_or(""));
  auto media_type = sip::ParseMediaType(content_type);
  if (content_type.empty() || !media_type.ok() ||
      (media_type->essence() != "application/sdp" && media_type->essence() != "multipart/mixed")) {
    return Reject(req, 415, "Unsupported Media Type",
                  "the body must be application/sdp or multipart/mixed (SDP + rs-metadata+xml)",
                  "unsupported_media_type");
  }
  auto body = SplitSiprecBody(content_type, req.body);
  if (!body.ok()) return Reject(req, 400, "Bad Request", body.status().message(), "bad_request");
  sdp::ParseOptions sdp_options;
  sdp_options.require_connection = false;  // no c=: RTP from the signalling address (invite_checks.h)
  auto offer = sdp::ParseSdp(body->sdp, sdp_options);
  if (!offer.ok()) return Reject(req, 400, "Bad Request", "SDP: " + offer.status().message(), "bad_request");
  std::optional<RecordingMetadata> meta;
  if (body->metadata) {
    auto parsed = ParseRecordingMetadata(*body->metadata);
    if (!parsed.ok())
      return Reject(req, 400, "Bad Request", "rs-metadata: " + parsed.status().message(), "bad_request");
    meta = std::move(*parsed);
  }
  const TimerDecision timer = NegotiateSessionTimer(req, opts_.min_se);
  if (timer.kind == TimerDecision::Kind::kBad) return Reject(req, 400, "Bad Request", timer.why, "bad_request");
  if (timer.kind == TimerDecision::Kind::kTooSmall) {
    UasOutput out = Reject(req, 422, "Session Interval Too Small",
                           "Session-Expires is below our Min-SE of " + std::to_string(timer.min_se) + " s",
                           "session_interval_too_small");
    out.responses.back().SetHeader("Min-SE", std::to_string(timer.min_se));
    return out;
  }

  // SDES keys over a cleartext transport are refused before anything else is looked at.
  const SrtpOfferDecision srtp = DecideSrtp(*offer, *trunk, peer.transport);
  if (srtp.refuse) return Reject(req, 488, "Not Acceptable Here", *srtp.refuse, "srtp_insecure_transport");

  // Capacity, cheapest first; the hub checks its own (sessions, free disk) before it creates anything.
  if (trunk->limits.max_sessions != 0 && DialogsOf(*trunk) >= trunk->limits.max_sessions) {
    return Reject(req, 503, "Service Unavailable",
                  "trunk " + trunk->name + " is at its limit of " + std::to_string(trunk->limits.max_sessions) +
                      " concurrent sessions",
                  "trunk_sessions");
  }
  const StreamPlan plan = PlanStreams(WithoutDeclined(*offer, srtp), trunk->limits);
  std::string srtp_declined;  // why the SRTP policy left streams out, for the 488 if nothing is left
  for (const std::string& why : srtp.declined) {
    if (why.empty()) continue;
    Count("declined", "srtp");
    if (srtp_declined.empty()) srtp_declined = why;
  }
  if (plan.declined_codec) Count("declined", "codec");
  if (plan.declined_channels) Count("declined", "channels");
  if (plan.declined_bandwidth) Count("declined", "bandwidth");
  std::string limited;  // what the trunk's limits left out, said in a Warning on the 200
  if (plan.declined_channels || plan.declined_bandwidth) {
    limited = "recording " + std::to_string(plan.accepted.size()) + " of " +
              std::to_string(plan.accepted.size() + plan.declined_channels + plan.declined_bandwidth) +
              " audio streams: trunk " + trunk->name + " allows " + std::to_string(trunk->limits.max_channels) +
              " channels and " + std::to_string(trunk->limits.max_bandwidth_kbps) + " kbit/s per session";
  }
  if (plan.accepted.empty()) {
    if (!srtp_declined.empty()) return Reject(req, 488, "Not Acceptable Here", srtp_declined, "srtp_policy");
    if (!limited.empty()) return Reject(req, 488, "Not Acceptable Here", limited, "trunk_limits");
    UasOutput out = Reject(req, 488, "Not Acceptable Here",
                           "no acceptable audio stream: offer PCMU, PCMA or L16 over RTP/AVP", "no_acceptable_media");
    out.responses.back().SetHeader("Warning", "305 verbatim \"Incompatible media format\"");
    return out;
  }
  // Refuse before the hub creates (or joins) a conversation and starts its
  // recording: a call we cannot take must leave nothing behind.
  if (streams_.Available() < plan.accepted.size()) {
    return Reject(req, 503, "Service Unavailable",
                  "not enough free RTP ports for " + std::to_string(plan.accepted.size()) + " streams", "rtp_ports");
  }

  capture::SessionSpec spec;
  spec.source = "siprec";
  spec.owner = trunk->owner();
  spec.external_id = call_id;
  spec.sample_rate = plan.clock_rate;
  if (auto h = req.header("X-Conversation-Id"))
    spec.conversation_id = std::string(*h);
  else if (meta && meta->conversation_id)
    spec.conversation_id = meta->conversation_id;
  for (const auto& a : plan.accepted) {
    capture::ParticipantInfo p;
    p.purpose = "external";
    const MetadataParticipant* who = meta ? meta->SenderOfLabel(a.label) : nullptr;
    if (who)
      p.name = !who->name.empty() ? who->name : !who->aor.empty() ? who->aor : "participant " + who->id;
    else
      p.name = "stream " + a.label;
    spec.participants.push_back(std::move(p));
  }

  auto session = hub_.Open(spec);
  if (!session.ok()) {
    const std::string& code = session.status().code();
    if (code == "media.capacity")
      return Reject(req, 503, "Service Unavailable", session.status().message(), "global_sessions");
    if (code == "media.disk.low")
      return Reject(req, 503, "Service Unavailable", session.status().message(), "disk_low");
    if (code == "media.busy") return Reject(req, 486, "Busy Here", session.status().message(), "conversation_busy");
    if (code == "conversation.ended")
      return Reject(req, 403, "Forbidden", session.status().message(), "conversation_ended");
    if (code == "conversation.not.owned")
      return Reject(req, 403, "Forbidden", session.status().message(), "conversation_not_owned");
    Log(LogLevel::kError, "siprec session failed",
        {{"callId", spec.external_id}, {"error", session.status().ToString()}});
    return Reject(req, 500, "Server Internal Error", "the recording could not start", "internal");
  }

  auto d = std::make_unique<Dialog>();
  d->call_id = call_id;
  d->local_tag = RandomToken(8);
  d->remote_tag = req.from_tag().value_or("");
  d->trunk = trunk;
  d->invite_branch = req.via_branch().value_or("");
  d->session = *session;
  d->ports.assign(offer->media.size(), 0);
  d->crypto_answers.assign(offer->media.size(), "");
  d->sdp_session_id = std::to_string(ToUnixSeconds(SystemClock::Instance().Now()));
  d->sdp_version = 0;  // Answer() makes it 1
  for (size_t k = 0; k < plan.accepted.size(); ++k) {
    const PlannedStream& a = plan.accepted[k];
    StreamSpec ss{*session, k, a.audio, a.events, RtpSourceFor(*trunk, *offer, offer->media[a.mline], peer.address)};
    if (const auto& sdes = srtp.sdes[a.mline]) {
      ss.srtp = sdes->inbound();
      d->crypto_answers[a.mline] = sdes->answer_value();
    }
    d->stream_keys.push_back(ss.srtp);
    auto stream = streams_.Open(std::move(ss));
    if (!stream.ok()) {
      d->streams.clear();
      hub_.Close(*session, "no RTP port");
      if (stream.status().code() == "srtp.keying")
        return Reject(req, 488, "Not Acceptable Here", stream.status().message(), "srtp_policy");
      return Reject(req, 503, "Service Unavailable", stream.status().message(), "rtp_ports");
    }
    d->ports[a.mline] = (*stream)->port();
    d->streams.push_back(std::move(*stream));
    d->stream_mlines.push_back(a.mline);
  }
  const capture::Nanos now = opts_.now();
  d->media_since = now;
  d->media_expected = AnyStreamSending(*offer, d->stream_mlines);
  d->refreshed_at = now;
  d->session_interval = timer.kind == TimerDecision::Kind::kAccept ? timer.interval : 0;
  d->offer = std::move(*offer);
  d->peer = std::move(peer);
  d->remote_from = std::string(req.header("From").value_or(""));
  d->remote_to = std::string(req.header("To").value_or(""));
  auto contact = sip::ParseNameAddr(req.header("Contact").value_or(""));
  auto from = sip::ParseNameAddr(d->remote_from);
  d->remote_target = contact.ok() ? contact->uri : from.ok() ? from->uri : std::string();

  UasOutput out = Answer(*d, req, d->offer, true);
  if (!limited.empty()) out.responses.back().SetHeader("Warning", "399 verbatim \"" + limited + "\"");
  d->invite_response = out.responses.back();
  ++stats_.sessions;
  Log(LogLevel::kInfo, "siprec session started",
      {{"callId", d->call_id},
       {"conversationId", d->session->conversation_id()},
       {"trunk", trunk->name},
       {"streams", plan.accepted.size()},
       {"srtp", std::any_of(d->stream_keys.begin(), d->stream_keys.end(), [](const auto& k) { return k.has_value(); })},
       {"sessionInterval", d->session_interval}});
  dialogs_.emplace(d->call_id, std::move(d));
  return out;
}

}  // namespace verbatim::media::siprec
