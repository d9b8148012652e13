// The state of one SIPREC dialog, shared by uas.cc and uas_invite.cc only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "media/capture/session.h"
#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/siprec/streams.h"
#include "media/siprec/trunks.h"
#include "media/siprec/uas.h"
#include "media/srtp/inbound_srtp.h"

namespace verbatim::media::siprec {

struct SiprecUas::Dialog {
  // Identity (RFC 3261 §12): Call-ID, our tag, the SRC's tag, and the trunk it came from.
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
  std::shared_ptr<const Trunk> trunk;  // as it was when the INVITE came: later edits do not move a live call
  std::string invite_branch;
  sip::Message invite_response;  // resent on an INVITE retransmission

  std::shared_ptr<capture::RecordingSession> session;
  std::vector<std::unique_ptr<StreamHandle>> streams;  // per accepted stream
  std::vector<size_t> stream_mlines;                   // the offered m= line of each stream
  std::vector<uint16_t> ports;                         // per offered m= line (0 = declined)
  // SRTP (srtp_offer.h): our a=crypto answer per offered m= line ("" = plain
  // RTP or declined), and the SRC's keys per stream (unset = plain RTP).
  std::vector<std::string> crypto_answers;
  std::vector<std::optional<srtp::SrtpKeying>> stream_keys;
  std::string sdp_session_id;
  uint64_t sdp_version = 1;
  sdp::SessionDescription offer;  // the SRC's latest offer
  bool paused_by_sip = false;
  // Some stream of the latest offer is sending (sendonly/sendrecv). Cisco CUBE
  // may open with every stream inactive and send media only after a re-INVITE:
  // no RTP is expected until then, so the inactivity timeout waits too.
  bool media_expected = true;

  // Timers (steady clock). The RTP inactivity window restarts when media
  // (re)starts; the session timer when a refresh is accepted.
  capture::Nanos media_since{0};
  uint32_t session_interval = 0;  // seconds; 0 = no session timer
  capture::Nanos refreshed_at{0};

  // For the BYE we send (control API disconnect, timers).
  Peer peer;
  std::string remote_target;  // the SRC's Contact URI
  std::string remote_from;    // INVITE From (with the SRC's tag): our BYE's To
  std::string remote_to;      // INVITE To: our BYE's From (plus our tag)
};

}  // namespace verbatim::media::siprec
