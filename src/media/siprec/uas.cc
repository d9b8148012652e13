#include "media/siprec/uas.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "media/siprec/multipart.h"
#include "media/siprec/rs_metadata.h"

namespace verbatim::media::siprec {

namespace {

constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS";
constexpr const char* kAccept = "application/sdp, multipart/mixed, application/rs-metadata+xml";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A quoted-string for Warning texts: no quotes, no control characters.
std::string WarningText(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200))
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) out += c;
  return out;
}

}  // namespace

struct SiprecUas::Dialog {
  std::string call_id;
  std::string local_tag;
  std::string invite_branch;
  sip::Message invite_response;  // resent on an INVITE retransmission
  std::shared_ptr<capture::RecordingSession> session;
  std::vector<std::unique_ptr<StreamHandle>> streams;  // per accepted stream
  std::vector<uint16_t> ports;                         // per offered m= line (0 = rejected)
  std::string sdp_session_id;
  uint64_t sdp_version = 1;
  sdp::SessionDescription offer;  // the SRC's latest offer
  bool paused_by_sip = false;
  // For the BYE we send if the control API ends the conversation.
  Peer peer;
  std::string remote_target;  // the SRC's Contact URI
  std::string remote_from;    // INVITE From (with the SRC's tag): our BYE's To
  std::string remote_to;      // INVITE To: our BYE's From (plus our tag)
};

SiprecUas::SiprecUas(UasOptions opts, capture::MediaHub& hub, StreamOpener& streams)
    : opts_(std::move(opts)), hub_(hub), streams_(streams) {}

SiprecUas::~SiprecUas() {
  std::map<std::string, std::unique_ptr<Dialog>> left;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    left.swap(dialogs_);
  }
  left.clear();  // streams close; sessions are finished by the hub's own Stop()
}

UasStats SiprecUas::Stats() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  UasStats s = stats_;
  s.active_dialogs = dialogs_.size();
  return s;
}

sip::Message SiprecUas::Response(const sip::Message& req, int code, std::string_view reason, std::string_view to_tag) {
  sip::Message res = sip::MakeResponse(req, code, reason, to_tag);
  res.SetHeader("Server", "verbatim/0.1");
  if (code == 405 || code == 501 || (req.method == "OPTIONS" && code == 200)) res.SetHeader("Allow", kAllow);
  return res;
}

UasOutput SiprecUas::Reject(const sip::Message& req, int code, std::string_view reason, std::string_view warning) {
  UasOutput out;
  sip::Message res = Response(req, code, reason, req.method == "INVITE" ? RandomToken(6) : std::string());
  if (!warning.empty()) res.SetHeader("Warning", "399 verbatim \"" + WarningText(warning) + "\"");
  if (code == 415) res.SetHeader("Accept", kAccept);
  if (code == 503) res.SetHeader("Retry-After", std::to_string(opts_.retry_after_seconds));
  out.responses.push_back(std::move(res));
  if (req.method == "INVITE") ++stats_.rejected;
  return out;
}

SiprecUas::Dialog* SiprecUas::Find(const sip::Message& req) {
  auto it = dialogs_.find(std::string(req.call_id()));
  if (it == dialogs_.end()) return nullptr;
  auto to_tag = req.to_tag();
  if (to_tag && *to_tag != it->second->local_tag) return nullptr;
  return it->second.get();
}

UasOutput SiprecUas::Handle(const sip::Message& req, Peer peer) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (!req.is_request()) return {};  // we send no requests, so no responses are expected
  const std::string& m = req.method;
  if (m == "INVITE") {
    if (!req.to_tag()) {
      auto it = dialogs_.find(std::string(req.call_id()));
      if (it != dialogs_.end()) {
        // A retransmitted INVITE: answer it again, do not record twice.
        if (req.via_branch() == it->second->invite_branch) {
          UasOutput out;
          out.responses.push_back(it->second->invite_response);
          out.reliable_2xx = true;
          return out;
        }
        return Reject(req, 482, "Loop Detected", "a dialog with this Call-ID already exists");
      }
      return Invite(req, std::move(peer));
    }
    Dialog* d = Find(req);
    if (!d) return Reject(req, 481, "Call/Transaction Does Not Exist", "no such dialog");
    return ReInvite(*d, req);
  }
  if (m == "ACK") return {};
  if (m == "BYE") return Bye(req);
  if (m == "CANCEL") {
    UasOutput out;
    bool known = dialogs_.count(std::string(req.call_id())) > 0;
    out.responses.push_back(known ? Response(req, 200, "OK") : Response(req, 481, "Call/Transaction Does Not Exist"));
    return out;
  }
  if (m == "OPTIONS") {
    UasOutput out;
    sip::Message res = Response(req, 200, "OK");
    res.SetHeader("Accept", kAccept);
    res.SetHeader("Supported", "siprec");
    out.responses.push_back(std::move(res));
    return out;
  }
  return Reject(req, 501, "Not Implemented", "method " + m + " is not supported by this recorder");
}

UasOutput SiprecUas::Invite(const sip::Message& req, Peer peer) {
  ++stats_.invites;
  for (auto value : req.headers("Require")) {
    for (auto tag : sip::SplitList(value)) {
      if (Lower(tag) != "siprec") {
        UasOutput out = Reject(req, 420, "Bad Extension", "unsupported option-tag " + std::string(tag));
        out.responses.back().SetHeader("Unsupported", std::string(tag));
        return out;
      }
    }
  }
  std::string content_type(req.header("Content-Type").value_or(""));
  auto media_type = sip::ParseMediaType(content_type);
  if (content_type.empty() || !media_type.ok() ||
      (media_type->essence() != "application/sdp" && media_type->essence() != "multipart/mixed")) {
    return Reject(req, 415, "Unsupported Media Type",
                  "the body must be application/sdp or multipart/mixed (SDP + rs-metadata+xml)");
  }
  auto body = SplitSiprecBody(content_type, req.body);
  if (!body.ok()) return Reject(req, 400, "Bad Request", body.status().message());
  auto offer = sdp::ParseSdp(body->sdp);
  if (!offer.ok()) return Reject(req, 400, "Bad Request", "SDP: " + offer.status().message());
  std::optional<RecordingMetadata> meta;
  if (body->metadata) {
    auto parsed = ParseRecordingMetadata(*body->metadata);
    if (!parsed.ok()) return Reject(req, 400, "Bad Request", "rs-metadata: " + parsed.status().message());
    meta = std::move(*parsed);
  }

  // One channel per RTP audio stream whose codec we decode, all at one rate.
  struct Accepted {
    size_t mline;
    codec::Decoder audio;
    std::optional<codec::Decoder> events;
    std::string label;
  };
  std::vector<Accepted> accepted;
  uint32_t rate = 0;
  for (size_t i = 0; i < offer->media.size(); ++i) {
    const auto& md = offer->media[i];
    if (md.media != "audio" || !md.is_rtp() || md.port == 0) continue;
    auto chosen = sdp::ChooseCodec(md);
    if (!chosen) continue;
    if (rate != 0 && chosen->clock_rate != rate) continue;
    auto dec = codec::Decoder::Select(chosen->payload_type, chosen->encoding, chosen->clock_rate, chosen->channels);
    if (!dec.ok()) continue;
    std::optional<codec::Decoder> events;
    if (auto te = sdp::FindTelephoneEvent(md, chosen->clock_rate)) {
      auto ev = codec::Decoder::Select(te->payload_type, te->encoding, te->clock_rate, te->channels);
      if (ev.ok()) events = *ev;
    }
    rate = chosen->clock_rate;
    accepted.push_back({i, *dec, events, md.label.value_or(std::to_string(i + 1))});
  }
  if (accepted.empty()) {
    UasOutput out = Reject(req, 488, "Not Acceptable Here",
                           "no acceptable audio stream: offer PCMU, PCMA or L16 over RTP/AVP");
    out.responses.back().SetHeader("Warning", "305 verbatim \"Incompatible media format\"");
    return out;
  }

  // Refuse before the hub creates (or joins) a conversation and starts its
  // recording: a call we cannot take must leave nothing behind.
  if (streams_.Available() < accepted.size())
    return Reject(req, 503, "Service Unavailable",
                  "not enough free RTP ports for " + std::to_string(accepted.size()) + " streams");

  capture::SessionSpec spec;
  spec.source = "siprec";
  spec.external_id = std::string(req.call_id());
  spec.sample_rate = rate;
  if (auto h = req.header("X-Conversation-Id")) spec.conversation_id = std::string(*h);
  else if (meta && meta->conversation_id) spec.conversation_id = meta->conversation_id;
  for (const auto& a : accepted) {
    capture::ParticipantInfo p;
    p.purpose = "external";
    const MetadataParticipant* who = meta ? meta->SenderOfLabel(a.label) : nullptr;
    if (who) p.name = !who->name.empty() ? who->name : !who->aor.empty() ? who->aor : "participant " + who->id;
    else p.name = "stream " + a.label;
    spec.participants.push_back(std::move(p));
  }

  auto session = hub_.Open(spec);
  if (!session.ok()) {
    const std::string& code = session.status().code();
    if (code == "media.capacity") return Reject(req, 503, "Service Unavailable", session.status().message());
    if (code == "media.busy") return Reject(req, 486, "Busy Here", session.status().message());
    if (code == "conversation.ended") return Reject(req, 403, "Forbidden", session.status().message());
    Log(LogLevel::kError, "siprec session failed", {{"callId", spec.external_id}, {"error", session.status().ToString()}});
    return Reject(req, 500, "Server Internal Error", "the recording could not start");
  }

  auto d = std::make_unique<Dialog>();
  d->call_id = spec.external_id;
  d->local_tag = RandomToken(8);
  d->invite_branch = req.via_branch().value_or("");
  d->session = *session;
  d->ports.assign(offer->media.size(), 0);
  d->sdp_session_id = std::to_string(ToUnixSeconds(SystemClock::Instance().Now()));
  d->offer = *offer;
  for (size_t k = 0; k < accepted.size(); ++k) {
    auto stream = streams_.Open({*session, k, accepted[k].audio, accepted[k].events});
    if (!stream.ok()) {
      d->streams.clear();
      hub_.Close(*session, "no RTP port");
      return Reject(req, 503, "Service Unavailable", stream.status().message());
    }
    d->ports[accepted[k].mline] = (*stream)->port();
    d->streams.push_back(std::move(*stream));
  }

  sdp::AnswerOptions ao;
  ao.address = opts_.media_address;
  ao.addr_type = opts_.media_address.find(':') != std::string::npos ? "IP6" : "IP4";
  ao.session_id = d->sdp_session_id;
  ao.session_version = d->sdp_version;
  ao.ports = d->ports;
  UasOutput out;
  sip::Message res = Response(req, 200, "OK", d->local_tag);
  res.SetHeader("Contact", "<" + opts_.contact + ">");
  res.SetHeader("Content-Type", "application/sdp");
  res.body = sdp::BuildAnswer(*offer, ao);
  d->invite_response = res;
  d->peer = std::move(peer);
  d->remote_from = std::string(req.header("From").value_or(""));
  d->remote_to = std::string(req.header("To").value_or(""));
  auto contact = sip::ParseNameAddr(req.header("Contact").value_or(""));
  auto from = sip::ParseNameAddr(d->remote_from);
  d->remote_target = contact.ok() ? contact->uri : from.ok() ? from->uri : std::string();
  out.responses.push_back(std::move(res));
  out.reliable_2xx = true;
  ++stats_.sessions;
  Log(LogLevel::kInfo, "siprec session started",
      {{"callId", d->call_id}, {"conversationId", d->session->conversation_id()}, {"streams", accepted.size()}});
  dialogs_.emplace(d->call_id, std::move(d));
  return out;
}

UasOutput SiprecUas::ReInvite(Dialog& d, const sip::Message& req) {
  if (req.body.empty()) {
    // No offer (e.g. a session refresh): the 2xx must carry one (RFC 3261
    // §14.2); ours describes the session as it is, and nothing changes.
    return ReInviteAnswer(d, req, d.offer);
  }
  std::string content_type(req.header("Content-Type").value_or(""));
  auto body = SplitSiprecBody(content_type, req.body);
  if (!body.ok()) return Reject(req, 400, "Bad Request", body.status().message());
  auto offer = sdp::ParseSdp(body->sdp);
  if (!offer.ok()) return Reject(req, 400, "Bad Request", "SDP: " + offer.status().message());

  // The SRC pauses by making its streams inactive (RFC 7866 §8.1.3): when
  // none of our streams is being sent any more, the recording pauses.
  bool any_sending = false;
  for (size_t i = 0; i < offer->media.size() && i < d.ports.size(); ++i) {
    if (d.ports[i] == 0) continue;
    auto dir = offer->media[i].direction;
    if (offer->media[i].port != 0 && (dir == sdp::Direction::kSendOnly || dir == sdp::Direction::kSendRecv))
      any_sending = true;
  }
  const std::string& conv = d.session->conversation_id();
  if (!any_sending && !d.paused_by_sip) {
    Status s = hub_.RequestAction(conv, RecordingAction::kPause, "SIPREC re-INVITE: streams inactive");
    if (s.ok()) d.paused_by_sip = true;
    else Log(LogLevel::kWarn, "siprec pause not applied", {{"conversationId", conv}, {"error", s.message()}});
  } else if (any_sending && d.paused_by_sip) {
    Status s = hub_.RequestAction(conv, RecordingAction::kResume, "SIPREC re-INVITE: streams active again");
    d.paused_by_sip = false;
    if (!s.ok()) Log(LogLevel::kWarn, "siprec resume not applied", {{"conversationId", conv}, {"error", s.message()}});
  }
  d.offer = *offer;
  return ReInviteAnswer(d, req, d.offer);
}

UasOutput SiprecUas::ReInviteAnswer(Dialog& d, const sip::Message& req, const sdp::SessionDescription& offer) {
  sdp::AnswerOptions ao;
  ao.address = opts_.media_address;
  ao.addr_type = opts_.media_address.find(':') != std::string::npos ? "IP6" : "IP4";
  ao.session_id = d.sdp_session_id;
  ao.session_version = ++d.sdp_version;
  ao.ports = d.ports;
  ao.ports.resize(offer.media.size(), 0);  // streams added later are declined
  UasOutput out;
  sip::Message res = Response(req, 200, "OK", d.local_tag);
  res.SetHeader("Contact", "<" + opts_.contact + ">");
  res.SetHeader("Content-Type", "application/sdp");
  res.body = sdp::BuildAnswer(offer, ao);
  out.responses.push_back(std::move(res));
  out.reliable_2xx = true;
  return out;
}

UasOutput SiprecUas::Bye(const sip::Message& req) {
  Dialog* d = Find(req);
  if (!d) return Reject(req, 481, "Call/Transaction Does Not Exist", "no such dialog");
  ++stats_.byes;
  auto owned = std::move(dialogs_[d->call_id]);
  dialogs_.erase(owned->call_id);
  // RTP is read on another thread: what the SRC sent before its BYE may still
  // sit in the sockets. It belongs in the file. The wait is bounded: should
  // that thread ever be stuck, SIP must not be stuck with it.
  std::vector<std::future<void>> delivered;
  for (auto& stream : owned->streams) delivered.push_back(stream->DeliverPending());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (auto& d : delivered) d.wait_until(deadline);
  owned->streams.clear();  // stop receiving before the file is finished
  hub_.Close(owned->session, "SIP BYE");
  UasOutput out;
  out.responses.push_back(Response(req, 200, "OK"));
  return out;
}

void SiprecUas::ConversationEnded(const std::string& conversation_id) {
  std::unique_ptr<Dialog> owned;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    for (auto it = dialogs_.begin(); it != dialogs_.end(); ++it) {
      if (it->second->session->conversation_id() == conversation_id) {
        owned = std::move(it->second);
        dialogs_.erase(it);
        break;
      }
    }
  }
  if (!owned) return;
  owned->streams.clear();
  hub_.Close(owned->session, "conversation disconnected");
  if (owned->peer.send && !owned->remote_target.empty()) owned->peer.send(ByeFor(*owned));
}

std::string SiprecUas::ByeFor(const Dialog& d) const {
  sip::Message bye;
  bye.method = "BYE";
  bye.request_uri = d.remote_target;
  std::string host = opts_.contact.substr(opts_.contact.find('@') + 1);
  bye.AddHeader("Via", "SIP/2.0/" + (d.peer.transport.empty() ? std::string("UDP") : d.peer.transport) + " " + host +
                           ";branch=z9hG4bK" + RandomToken(10));
  bye.AddHeader("Max-Forwards", "70");
  bye.AddHeader("From", d.remote_to + ";tag=" + d.local_tag);
  bye.AddHeader("To", d.remote_from);
  bye.AddHeader("Call-ID", d.call_id);
  bye.AddHeader("CSeq", "1 BYE");  // our own CSeq space in this dialog starts here
  bye.AddHeader("Reason", "SIP;cause=200;text=\"conversation disconnected\"");
  bye.AddHeader("Server", "verbatim/0.1");
  return sip::Serialize(bye);
}

std::optional<sip::Message> SiprecUas::RejectMalformed(std::string_view raw, const Status& why) {
  // Pull out just enough to address a response (RFC 3261 §8.2.6.1): the
  // message failed full parsing, so read header lines leniently.
  sip::Message req;
  size_t pos = raw.find('\n');
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view start = raw.substr(0, pos);
  if (start.rfind("SIP/", 0) == 0) return std::nullopt;  // a response: never answer those
  req.method = std::string(start.substr(0, start.find(' ')));
  while (pos + 1 < raw.size() && req.header_fields.size() < sip::kMaxHeaders) {
    size_t end = raw.find('\n', pos + 1);
    std::string_view line = raw.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      std::string canonical(sip::CanonicalHeaderName(name));
      if (canonical == "Via" || canonical == "From" || canonical == "To" || canonical == "Call-ID" ||
          canonical == "CSeq")
        req.AddHeader(canonical, value.substr(0, 1024));
    }
    if (end == std::string_view::npos) break;
    pos = end;
  }
  if (!req.header("Via") || !req.header("From") || !req.header("To") || !req.header("Call-ID") ||
      !req.header("CSeq") || req.method.empty() || req.method == "ACK")
    return std::nullopt;
  sip::Message res = sip::MakeResponse(req, 400, "Bad Request", req.to_tag() ? "" : RandomToken(6));
  res.SetHeader("Server", "verbatim/0.1");
  res.SetHeader("Warning", "399 verbatim \"" + WarningText(why.message()) + "\"");
  return res;
}

}  // namespace verbatim::media::siprec
