// SiprecUas: dispatch, in-dialog requests, timers and teardown. The new
// INVITE (admission and session set-up) is in uas_invite.cc.
#include "media/siprec/uas.h"

#include <algorithm>
#include <future>

#include "core/ids.h"
#include "core/log.h"
#include "media/siprec/invite_checks.h"
#include "media/siprec/multipart.h"
#include "media/siprec/srtp_offer.h"
#include "media/siprec/uas_dialog.h"

namespace verbatim::media::siprec {

namespace {

constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE";
constexpr const char* kAccept = "application/sdp, multipart/mixed, application/rs-metadata+xml";

// A quoted-string for Warning texts: no quotes, no control characters.
std::string WarningText(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200))
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) out += c;
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

SiprecUas::SiprecUas(UasOptions opts, capture::MediaHub& hub, StreamOpener& streams, UasEventSink events)
    : opts_(std::move(opts)),
      hub_(hub),
      streams_(streams),
      events_(std::move(events)),
      auth_(opts_.nonce_lifetime, opts_.wall_now) {}

SiprecUas::~SiprecUas() {
  std::map<std::string, std::unique_ptr<Dialog>> left;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    left.swap(dialogs_);
  }
  left.clear();  // streams close; sessions are finished by the hub's own Stop()
}

void SiprecUas::SetTrunks(std::shared_ptr<const TrunkTable> trunks) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  trunks_ = trunks ? std::move(trunks) : std::make_shared<TrunkTable>();
}

UasStats SiprecUas::Stats() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  UasStats s = stats_;
  s.active_dialogs = dialogs_.size();
  return s;
}

std::vector<std::pair<std::string, size_t>> SiprecUas::SessionsPerTrunk() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& t : trunks_->trunks()) out.emplace_back(t->name, DialogsOf(*t));
  return out;
}

size_t SiprecUas::DialogsOf(const Trunk& trunk) const {
  return static_cast<size_t>(std::count_if(dialogs_.begin(), dialogs_.end(),
                                           [&](const auto& kv) { return kv.second->trunk->id == trunk.id; }));
}

void SiprecUas::Count(std::string_view kind, std::string_view reason) {
  if (events_) events_(kind, reason);
}

sip::Message SiprecUas::Response(const sip::Message& req, int code, std::string_view reason, std::string_view to_tag) {
  sip::Message res = sip::MakeResponse(req, code, reason, to_tag);
  res.SetHeader("Server", "verbatim/0.1");
  if (code == 405 || code == 501 || (req.method == "OPTIONS" && code == 200)) res.SetHeader("Allow", kAllow);
  return res;
}

UasOutput SiprecUas::Reject(const sip::Message& req, int code, std::string_view reason, std::string_view warning,
                            std::string_view metric_reason) {
  UasOutput out;
  sip::Message res = Response(req, code, reason, req.method == "INVITE" ? RandomToken(6) : std::string());
  if (!warning.empty()) res.SetHeader("Warning", "399 verbatim \"" + WarningText(warning) + "\"");
  if (code == 415) res.SetHeader("Accept", kAccept);
  if (code == 503) res.SetHeader("Retry-After", std::to_string(opts_.retry_after_seconds));
  out.responses.push_back(std::move(res));
  if (req.method == "INVITE") ++stats_.rejected;
  Count("refused", metric_reason);
  return out;
}

SiprecUas::Dialog* SiprecUas::Find(const sip::Message& req, const Trunk& trunk) {
  auto it = dialogs_.find(std::string(req.call_id()));
  if (it == dialogs_.end()) return nullptr;
  Dialog& d = *it->second;
  // All of it, or it is not this dialog: a guessed Call-ID alone changes nothing.
  if (req.to_tag() != d.local_tag || req.from_tag() != d.remote_tag || trunk.id != d.trunk->id) return nullptr;
  return &d;
}

UasOutput SiprecUas::Handle(const sip::Message& req, Peer peer) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (!req.is_request()) return {};  // responses to our BYEs: nothing to do
  const std::string& m = req.method;
  std::shared_ptr<const Trunk> trunk = peer.address ? trunks_->Match(*peer.address) : nullptr;
  if (!trunk || !trunk->Allows(peer.transport)) {
    // Nothing but the status, and not even that where no answer is expected
    // or a scanner would use it (OPTIONS): the source may be anyone.
    ++stats_.strangers;
    Count("refused", trunk ? "transport_not_allowed" : "untrusted_source");
    Log(LogLevel::kDebug, "sip request from outside the trunks",
        {{"method", m.substr(0, 16)},
         {"source", peer.address ? peer.address->ToString() : "?"},
         {"transport", ToString(peer.transport)},
         {"trunk", trunk ? trunk->name : ""}});
    if (m == "ACK" || m == "OPTIONS") return {};
    UasOutput out;
    out.responses.push_back(sip::MakeResponse(req, 403, "Forbidden", m == "INVITE" ? RandomToken(6) : ""));
    if (m == "INVITE") ++stats_.rejected;
    return out;
  }
  if (m == "INVITE" && !req.to_tag()) return Invite(req, std::move(peer), trunk);
  if (m == "INVITE" || m == "UPDATE" || m == "BYE") return InDialog(req, *trunk);
  if (m == "ACK") {
    UasOutput out;
    out.ack_matched = Find(req, *trunk) != nullptr;
    return out;
  }
  if (m == "CANCEL") return Cancel(req, *trunk);
  if (m == "OPTIONS") {
    UasOutput out;
    sip::Message res = Response(req, 200, "OK");
    res.SetHeader("Accept", kAccept);
    res.SetHeader("Supported", "siprec, timer");
    out.responses.push_back(std::move(res));
    return out;
  }
  return Reject(req, 501, "Not Implemented", "method " + m.substr(0, 32) + " is not supported by this recorder",
                "not_implemented");
}

UasOutput SiprecUas::InDialog(const sip::Message& req, const Trunk& trunk) {
  Dialog* d = Find(req, trunk);
  if (!d) {
    return Reject(req, 481, "Call/Transaction Does Not Exist",
                  "no dialog with this Call-ID, From tag and To tag from this trunk", "dialog_mismatch");
  }
  if (req.method == "BYE") return Bye(req, *d);
  return Modify(*d, req);
}

UasOutput SiprecUas::Cancel(const sip::Message& req, const Trunk& trunk) {
  UasOutput out;
  auto it = dialogs_.find(std::string(req.call_id()));
  // A CANCEL carries the INVITE's From tag and branch, and no To tag.
  const bool known = it != dialogs_.end() && it->second->trunk->id == trunk.id &&
                     req.from_tag() == it->second->remote_tag && req.via_branch() == it->second->invite_branch;
  if (!known) return Reject(req, 481, "Call/Transaction Does Not Exist", "no such INVITE", "dialog_mismatch");
  out.responses.push_back(Response(req, 200, "OK"));  // already answered: the call goes on (RFC 3261 §9.2)
  return out;
}

UasOutput SiprecUas::Modify(Dialog& d, const sip::Message& req) {
  const TimerDecision timer = NegotiateSessionTimer(req, opts_.min_se);
  if (timer.kind == TimerDecision::Kind::kBad) return Reject(req, 400, "Bad Request", timer.why, "bad_request");
  if (timer.kind == TimerDecision::Kind::kTooSmall) {
    UasOutput out = Reject(req, 422, "Session Interval Too Small",
                           "Session-Expires is below our Min-SE of " + std::to_string(timer.min_se) + " s",
                           "session_interval_too_small");
    out.responses.back().SetHeader("Min-SE", std::to_string(timer.min_se));
    return out;
  }
  std::optional<sdp::SessionDescription> new_offer;
  if (!req.body.empty()) {
    std::string content_type(req.header("Content-Type").value_or(""));
    auto body = SplitSiprecBody(content_type, req.body);
    if (!body.ok()) return Reject(req, 400, "Bad Request", body.status().message(), "bad_request");
    sdp::ParseOptions po;
    po.require_connection = false;
    auto offer = sdp::ParseSdp(body->sdp, po);
    if (!offer.ok()) return Reject(req, 400, "Bad Request", "SDP: " + offer.status().message(), "bad_request");
    new_offer = std::move(*offer);
  }
  // SRTP keys in the new offer: checked before anything changes, applied after.
  std::vector<std::string> crypto_answers = d.crypto_answers;
  std::vector<std::optional<srtp::SrtpKeying>> rekey(d.streams.size());
  if (new_offer) {
    crypto_answers.resize(new_offer->media.size());
    for (size_t k = 0; k < d.streams.size(); ++k) {
      const size_t mline = d.stream_mlines[k];
      if (mline >= new_offer->media.size()) continue;
      const sdp::MediaDescription& m = new_offer->media[mline];
      if (m.port == 0) continue;
      const bool was_srtp = d.stream_keys[k].has_value();
      if ((SecurityOf(m) == MediaSecurity::kSdes) != was_srtp || SecurityOf(m) == MediaSecurity::kUnsupported)
        return Reject(req, 488, "Not Acceptable Here",
                      "a re-INVITE cannot switch a recorded stream between RTP and SRTP", "srtp_policy");
      if (!was_srtp) continue;
      auto sdes = srtp::AnswerSdes(CryptoValues(m));
      if (!sdes.ok()) return Reject(req, 488, "Not Acceptable Here", sdes.status().message(), "srtp_policy");
      if (sdes->inbound().SameAs(*d.stream_keys[k])) continue;  // the same keys: our answer stays the same
      rekey[k] = sdes->inbound();
      crypto_answers[mline] = sdes->answer_value();
    }
  }
  for (size_t k = 0; k < rekey.size(); ++k) {
    if (!rekey[k]) continue;
    Status s = d.streams[k]->Rekey(*rekey[k]);
    if (!s.ok()) return Reject(req, 488, "Not Acceptable Here", s.message(), "srtp_policy");
    d.stream_keys[k] = std::move(rekey[k]);
  }
  d.crypto_answers = std::move(crypto_answers);
  // A refresh (RFC 4028 §10): a new interval, or none if the SRC dropped the timer.
  d.session_interval = timer.kind == TimerDecision::Kind::kAccept ? timer.interval : 0;
  d.refreshed_at = opts_.now();
  if (!new_offer) {
    // No offer (a session refresh): the 2xx to a re-INVITE must carry one
    // (RFC 3261 §14.2); ours describes the session as it is, and nothing changes.
    return Answer(d, req, d.offer, req.method == "INVITE");
  }

  // The SRC pauses by making its streams inactive (RFC 7866 §8.1.3): when
  // none of our streams is being sent any more, the recording pauses.
  const bool any_sending = AnyStreamSending(*new_offer, d.stream_mlines);
  if (any_sending && !d.media_expected) d.media_since = opts_.now();  // the inactivity window starts with the media
  d.media_expected = any_sending;
  const std::string& conv = d.session->conversation_id();
  if (!any_sending && !d.paused_by_sip) {
    Status s = hub_.RequestAction(conv, RecordingAction::kPause, "SIPREC re-INVITE: streams inactive");
    if (s.ok())
      d.paused_by_sip = true;
    else
      Log(LogLevel::kWarn, "siprec pause not applied", {{"conversationId", conv}, {"error", s.message()}});
  } else if (any_sending && d.paused_by_sip) {
    Status s = hub_.RequestAction(conv, RecordingAction::kResume, "SIPREC re-INVITE: streams active again");
    d.paused_by_sip = false;
    if (!s.ok()) Log(LogLevel::kWarn, "siprec resume not applied", {{"conversationId", conv}, {"error", s.message()}});
  }
  // The SRC may move its media (failover to another interface): follow the new offer's addresses.
  for (size_t k = 0; k < d.streams.size(); ++k) {
    const size_t mline = d.stream_mlines[k];
    if (mline < new_offer->media.size())
      d.streams[k]->SetSource(RtpSourceFor(*d.trunk, *new_offer, new_offer->media[mline], d.peer.address));
  }
  d.offer = std::move(*new_offer);
  return Answer(d, req, d.offer, true);
}

UasOutput SiprecUas::Answer(Dialog& d, const sip::Message& req, const sdp::SessionDescription& offer, bool with_sdp) {
  UasOutput out;
  sip::Message res = Response(req, 200, "OK", d.local_tag);
  const bool tls = d.peer.transport == SipTransport::kTls && !opts_.contact_tls.empty();
  res.SetHeader("Contact", "<" + (tls ? opts_.contact_tls : opts_.contact) + ">");
  if (d.session_interval != 0) {
    res.SetHeader("Session-Expires", sip::FormatSessionExpires({d.session_interval, sip::Refresher::kUac}));
    res.SetHeader("Require", "timer");
    res.SetHeader("Supported", "timer");
  }
  if (with_sdp) {
    sdp::AnswerOptions ao;
    ao.address = opts_.media_address;
    ao.addr_type = opts_.media_address.find(':') != std::string::npos ? "IP6" : "IP4";
    ao.session_id = d.sdp_session_id;
    ao.session_version = ++d.sdp_version;
    ao.ports = d.ports;
    ao.ports.resize(offer.media.size(), 0);  // streams added later are declined
    ao.crypto = d.crypto_answers;
    res.SetHeader("Content-Type", "application/sdp");
    res.body = sdp::BuildAnswer(offer, ao);
  }
  out.responses.push_back(std::move(res));
  out.reliable_2xx = req.method == "INVITE";
  return out;
}

UasOutput SiprecUas::Bye(const sip::Message& req, Dialog& d) {
  ++stats_.byes;
  auto owned = std::move(dialogs_[d.call_id]);
  dialogs_.erase(owned->call_id);
  // RTP is read on another thread: what the SRC sent before its BYE may still
  // sit in the sockets. It belongs in the file. The wait is bounded: should
  // that thread ever be stuck, SIP must not be stuck with it.
  std::vector<std::future<void>> delivered;
  for (auto& stream : owned->streams) delivered.push_back(stream->DeliverPending());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (auto& f : delivered) f.wait_until(deadline);
  owned->streams.clear();  // stop receiving before the file is finished
  hub_.Close(owned->session, "SIP BYE");
  Count("ended", "bye");
  UasOutput out;
  out.responses.push_back(Response(req, 200, "OK"));
  return out;
}

void SiprecUas::End(const std::string& call_id, std::string_view metric_reason, std::string_view bye_reason) {
  std::unique_ptr<Dialog> owned;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto it = dialogs_.find(call_id);
    if (it == dialogs_.end()) return;
    owned = std::move(it->second);
    dialogs_.erase(it);
    Count("ended", metric_reason);
  }
  owned->streams.clear();
  hub_.Close(owned->session, std::string(bye_reason));
  Log(LogLevel::kInfo, "siprec session ended",
      {{"callId", owned->call_id}, {"conversationId", owned->session->conversation_id()}, {"reason", bye_reason}});
  if (owned->peer.send && !owned->remote_target.empty()) owned->peer.send(ByeFor(*owned, bye_reason));
}

void SiprecUas::ConversationEnded(const std::string& conversation_id) {
  std::string call_id;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    for (const auto& [id, d] : dialogs_) {
      if (d->session->conversation_id() == conversation_id) {
        call_id = id;
        break;
      }
    }
  }
  if (!call_id.empty()) End(call_id, "disconnected", "conversation disconnected");
}

void SiprecUas::Sweep() {
  std::vector<std::pair<std::string, std::string>> expired;  // (Call-ID, why)
  std::vector<std::string> silent;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    const capture::Nanos now = opts_.now();
    for (const auto& [id, d] : dialogs_) {
      if (d->session_interval != 0) {
        // RFC 4028 §10: the side that does not refresh sends its BYE before
        // the expiry, by the smaller of 32 s and a third of the interval.
        const auto interval = std::chrono::seconds(d->session_interval);
        const auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(32), interval / 3);
        if (now >= d->refreshed_at + interval - margin) {
          expired.emplace_back(id, "session timer expired without a refresh");
          continue;
        }
      }
      if (opts_.rtp_timeout.count() == 0 || !d->media_expected) continue;
      capture::Nanos last = d->media_since;
      for (const auto& s : d->streams) last = std::max(last, s->LastPacket());
      if (now - last >= opts_.rtp_timeout) silent.push_back(id);
    }
  }
  for (const auto& [id, why] : expired) End(id, "session_expired", why);
  for (const auto& id : silent)
    End(id, "rtp_timeout", "no RTP for " + std::to_string(opts_.rtp_timeout.count()) + " s");
}

std::string SiprecUas::ByeFor(const Dialog& d, std::string_view reason) const {
  sip::Message bye;
  bye.method = "BYE";
  bye.request_uri = d.remote_target;
  const std::string& contact =
      d.peer.transport == SipTransport::kTls && !opts_.contact_tls.empty() ? opts_.contact_tls : opts_.contact;
  std::string host = contact.substr(contact.find('@') + 1);
  bye.AddHeader("Via",
                "SIP/2.0/" + Upper(ToString(d.peer.transport)) + " " + host + ";branch=z9hG4bK" + RandomToken(10));
  bye.AddHeader("Max-Forwards", "70");
  bye.AddHeader("From", d.remote_to + ";tag=" + d.local_tag);
  bye.AddHeader("To", d.remote_from);
  bye.AddHeader("Call-ID", d.call_id);
  bye.AddHeader("CSeq", "1 BYE");  // our own CSeq space in this dialog starts here
  bye.AddHeader("Reason", "SIP;cause=200;text=\"" + WarningText(reason) + "\"");
  bye.AddHeader("Server", "verbatim/0.1");
  return sip::Serialize(bye);
}

std::optional<sip::Message> SiprecUas::RejectMalformed(std::string_view raw, const Status& why, const Peer& peer) {
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto trunk = peer.address ? trunks_->Match(*peer.address) : nullptr;
    if (!trunk || !trunk->Allows(peer.transport)) {
      ++stats_.strangers;
      Count("refused", "untrusted_source");
      return std::nullopt;
    }
  }
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
  if (!req.header("Via") || !req.header("From") || !req.header("To") || !req.header("Call-ID") || !req.header("CSeq") ||
      req.method.empty() || req.method == "ACK")
    return std::nullopt;
  sip::Message res = sip::MakeResponse(req, 400, "Bad Request", req.to_tag() ? "" : RandomToken(6));
  res.SetHeader("Server", "verbatim/0.1");
  res.SetHeader("Warning", "399 verbatim \"" + WarningText(why.message()) + "\"");
  return res;
}

}  // namespace verbatim::media::siprec
