// SiprecUas: the SIPREC recording server's dialog logic (RFC 7866 SRS side),
// free of sockets: a SIP request and where it came from in, the responses
// out. Transports (sip_server.h) frame messages and send what it returns; RTP
// streams come from a StreamOpener; recordings go through the MediaHub; the
// trunks (trunks.h) say who may record at all (docs/sip-trunks.md).
//
//   from outside every trunk → 403 with nothing else (INVITE, BYE, …), or no
//                    answer (OPTIONS, ACK, malformed): strangers learn nothing
//   INVITE (new)   → admission in order: trunk transport, digest (401/403),
//                    live Call-ID (482), +sip.src (403), Require (420), body (415/400), session
//                    timer (422), SDES keys over TLS only (488, srtp_offer.h), trunk and global capacity, free disk, RTP
//                    ports (503 + Retry-After); then streams within the
//                    trunk's limits (the rest declined, port 0), a hub session
//                    owned by the trunk (joins only its own conversations),
//                    200 OK recvonly
//   re-INVITE/UPDATE → must match the dialog (Call-ID, both tags, same trunk),
//                    else 481; a=inactive on every stream = pause, back = resume;
//                    a Session-Expires refreshes the session timer
//   ACK            → ends 2xx retransmission (transport) if it matches a dialog
//   BYE            → must match the dialog, else 481 and nothing changes;
//                    200, close the session once the RTP already received is in
//   CANCEL         → 200 if it names an INVITE of a dialog (already answered: no effect), else 481
//   OPTIONS        → 200 (keep-alive pings of trunks)
// Sweep() ends dialogs whose RTP went silent for rtp_timeout or whose session
// timer expired without a refresh, with a BYE to the SRC; the file is finalized.
//
// Thread-safe: one recursive mutex, because closing a session ends its
// conversation, whose listeners call back into ConversationEnded().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "media/capture/hub.h"
#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/siprec/streams.h"
#include "media/siprec/trunk_auth.h"
#include "media/siprec/trunks.h"

namespace verbatim::media::siprec {

struct UasOptions {
  std::string media_address = "127.0.0.1";   // c= in our answers
  std::string contact;                       // "sip:verbatim@127.0.0.1:5060"
  std::string contact_tls;                   // for dialogs over TLS: "sips:verbatim@127.0.0.1:5061"; "" = none
  int retry_after_seconds = 5;               // in 503s
  std::chrono::seconds rtp_timeout{60};      // no RTP on any sending stream for this long ends the call; 0 = never
  uint32_t min_se = 90;                      // smallest session interval accepted (RFC 4028 Min-SE)
  std::chrono::seconds nonce_lifetime{300};  // digest nonces
  std::function<capture::Nanos()> now = capture::SteadyNow;                            // timers (steady)
  std::function<TimePoint()> wall_now = [] { return SystemClock::Instance().Now(); };  // nonces
};

// Where a request came from, and how to reach that peer later for requests
// we originate (a BYE when the control API ends the conversation or a timer fires).
struct Peer {
  SipTransport transport = SipTransport::kUdp;
  std::optional<IpAddress> address;  // the source address; unset = unknown = a stranger
  uint16_t port = 0;
  std::function<void(std::string)> send;  // thread-safe; may outlive the connection (then a no-op)
};

struct UasOutput {
  std::vector<sip::Message> responses;
  bool reliable_2xx = false;  // the last response is a 2xx to INVITE: retransmit over UDP until ACK
  bool ack_matched = false;   // an ACK inside one of our dialogs: the transport stops retransmitting
};

struct UasStats {
  uint64_t invites = 0;
  uint64_t sessions = 0;  // INVITEs that started recording
  uint64_t rejected = 0;  // INVITEs answered >= 300
  uint64_t byes = 0;
  uint64_t strangers = 0;  // requests from outside every trunk
  size_t active_dialogs = 0;
};

// Counted events for /metrics: kind "refused" (a request turned away), "ended"
// (why a recording session ended) or "declined" (offered streams not
// recorded), with the reason (docs/sip-trunks.md lists them). Called with the
// UAS lock held: must only count.
using UasEventSink = std::function<void(std::string_view kind, std::string_view reason)>;

class SiprecUas {
 public:
  SiprecUas(UasOptions opts, capture::MediaHub& hub, StreamOpener& streams, UasEventSink events = {});
  ~SiprecUas();

  // The trunks in force from now on; live dialogs keep the trunk they started under.
  void SetTrunks(std::shared_ptr<const TrunkTable> trunks);
  UasOutput Handle(const sip::Message& request, Peer peer = {});
  // An unparseable message: a 400 if it came from a trunk and enough of it is
  // readable to answer; strangers get nothing.
  std::optional<sip::Message> RejectMalformed(std::string_view raw, const Status& why, const Peer& peer);
  // The control API ended the conversation: forget its dialog (media stops)
  // and send the SRC a BYE (RFC 3261 §15) so it stops streaming.
  void ConversationEnded(const std::string& conversation_id);
  // Ends the dialogs whose RTP timed out or whose session timer expired
  // (BYE to the SRC, file finalized). The transport calls it periodically.
  void Sweep();
  UasStats Stats() const;
  // Live dialogs per trunk name (every trunk in force, 0 included).
  std::vector<std::pair<std::string, size_t>> SessionsPerTrunk() const;

 private:
  struct Dialog;
  // uas_invite.cc: a new INVITE.
  UasOutput Invite(const sip::Message& req, Peer peer, const std::shared_ptr<const Trunk>& trunk);
  // uas.cc
  UasOutput InDialog(const sip::Message& req, const Trunk& trunk);
  UasOutput Modify(Dialog& d, const sip::Message& req);
  UasOutput Answer(Dialog& d, const sip::Message& req, const sdp::SessionDescription& offer, bool with_sdp);
  UasOutput Bye(const sip::Message& req, Dialog& d);
  UasOutput Cancel(const sip::Message& req, const Trunk& trunk);
  // Removes the dialog, stops its media, closes the session; with `bye_reason`
  // also sends the SRC a BYE carrying it.
  void End(const std::string& call_id, std::string_view metric_reason, std::string_view bye_reason);
  std::string ByeFor(const Dialog& d, std::string_view reason) const;
  sip::Message Response(const sip::Message& req, int code, std::string_view reason, std::string_view to_tag = {});
  // A refusal with a Warning that says which rule failed; counted under `metric_reason`.
  UasOutput Reject(const sip::Message& req, int code, std::string_view reason, std::string_view warning,
                   std::string_view metric_reason);
  void Count(std::string_view kind, std::string_view reason);
  Dialog* Find(const sip::Message& req, const Trunk& trunk);
  size_t DialogsOf(const Trunk& trunk) const;

  // Constant after construction.
  const UasOptions opts_;
  capture::MediaHub& hub_;
  StreamOpener& streams_;
  const UasEventSink events_;
  TrunkAuthenticator auth_;  // thread-safe on its own

  mutable std::recursive_mutex mu_;  // guards everything below
  std::shared_ptr<const TrunkTable> trunks_ = std::make_shared<TrunkTable>();
  std::map<std::string, std::unique_ptr<Dialog>> dialogs_;  // by Call-ID
  UasStats stats_;
};

}  // namespace verbatim::media::siprec
