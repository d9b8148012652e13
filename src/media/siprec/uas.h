// SiprecUas: the SIPREC recording server's dialog logic (RFC 7866 SRS side),
// free of sockets: a SIP request in, the responses out. Transports
// (sip_server.h) frame messages and send what it returns; RTP streams come
// from a StreamOpener; recordings go through the MediaHub.
//
//   INVITE (new)   → parse multipart SDP + rs-metadata, open a hub session
//                    (creates or joins the conversation, autoStart), one RTP
//                    stream per acceptable audio m= line, 200 OK recvonly
//   re-INVITE      → a=inactive on every stream = pause (as the system
//                    principal), back = resume; 200 OK with the new answer
//                    (no body: 200 OK with our current SDP as the offer)
//   ACK            → ends 2xx retransmission (transport)
//   BYE            → 200, close the session (disconnects a created conversation)
//                    once the RTP already received for it is delivered
//   CANCEL         → 200 if it names a known INVITE (already answered: no effect), else 481
//   OPTIONS        → 200 (keep-alive)
// Errors: 400 malformed, 415 body type, 420 unknown Require, 481 no dialog,
// 486 conversation already recorded, 488 no acceptable codec, 503 + Retry-After at capacity.
//
// Thread-safe: one recursive mutex, because closing a session ends its
// conversation, whose listeners call back into ConversationEnded().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/capture/hub.h"
#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/siprec/streams.h"

namespace verbatim::media::siprec {

struct UasOptions {
  std::string media_address = "127.0.0.1";  // c= in our answers
  std::string contact;                       // "sip:verbatim@127.0.0.1:5060"
  int retry_after_seconds = 5;               // in 503s
};

// How to reach the SRC of a dialog later, for requests we originate (a BYE
// when the control API ends the conversation).
struct Peer {
  std::string transport;                   // "UDP" | "TCP"
  std::function<void(std::string)> send;   // thread-safe; may outlive the connection (then a no-op)
};

struct UasOutput {
  std::vector<sip::Message> responses;
  bool reliable_2xx = false;  // the last response is a 2xx to INVITE: retransmit over UDP until ACK
};

struct UasStats {
  uint64_t invites = 0;
  uint64_t sessions = 0;   // INVITEs that started recording
  uint64_t rejected = 0;   // INVITEs answered >= 300
  uint64_t byes = 0;
  size_t active_dialogs = 0;
};

class SiprecUas {
 public:
  SiprecUas(UasOptions opts, capture::MediaHub& hub, StreamOpener& streams);
  ~SiprecUas();

  UasOutput Handle(const sip::Message& request, Peer peer = {});
  // An unparseable message: a 400 if enough of it is readable to answer.
  std::optional<sip::Message> RejectMalformed(std::string_view raw, const Status& why);
  // The control API ended the conversation: forget its dialog (media stops)
  // and send the SRC a BYE (RFC 3261 §15) so it stops streaming.
  void ConversationEnded(const std::string& conversation_id);
  UasStats Stats() const;

 private:
  struct Dialog;
  UasOutput Invite(const sip::Message& req, Peer peer);
  std::string ByeFor(const Dialog& d) const;
  UasOutput ReInvite(Dialog& d, const sip::Message& req);
  UasOutput ReInviteAnswer(Dialog& d, const sip::Message& req, const sdp::SessionDescription& offer);
  UasOutput Bye(const sip::Message& req);
  sip::Message Response(const sip::Message& req, int code, std::string_view reason, std::string_view to_tag = {});
  UasOutput Reject(const sip::Message& req, int code, std::string_view reason, std::string_view warning);
  Dialog* Find(const sip::Message& req);

  const UasOptions opts_;
  capture::MediaHub& hub_;
  StreamOpener& streams_;

  mutable std::recursive_mutex mu_;  // guards everything below
  std::map<std::string, std::unique_ptr<Dialog>> dialogs_;  // by Call-ID
  UasStats stats_;
};

}  // namespace verbatim::media::siprec
