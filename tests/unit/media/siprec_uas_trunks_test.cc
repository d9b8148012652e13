// SiprecUas on a hostile network (docs/sip-trunks.md): who may record at all,
// what an in-dialog request must match, the limits, and the timers. Each test
// names the attack or the rule and checks that nothing was created, changed or
// ended that should not have been.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/crypto.h"
#include "media/sip/digest.h"
#include "unit/media/siprec_uas_fixture.h"

namespace verbatim::media::siprec {
namespace {

using namespace testing_uas;  // NOLINT: the fixture's helpers, in a test file
using testing::Crlf;

constexpr std::string_view kStranger = "203.0.113.5";

Trunk OtherTrunk() {
  Trunk t;
  t.id = "7a7a7a7a-0000-4000-8000-000000000002";
  t.name = "other";
  t.origin = "api";
  t.networks = {*ParseCidr("203.0.113.0/24")};
  return t;
}

TEST(SiprecUasTrunks, AnInviteFromOutsideEveryTrunkIs403CountedAndRecordsNothing) {
  Fixture f;
  UasOutput out = f.Handle(Request(SiprecInvite()), kStranger);
  ASSERT_EQ(out.responses.size(), 1u);
  const sip::Message& res = out.responses[0];
  EXPECT_EQ(res.status_code, 403);
  EXPECT_TRUE(res.to_tag().has_value());
  // Nothing that helps a scanner: no Warning, no Server, no Allow.
  EXPECT_FALSE(res.header("Warning").has_value());
  EXPECT_FALSE(res.header("Server").has_value());
  EXPECT_FALSE(res.header("Allow").has_value());
  EXPECT_TRUE(f.control.attached.empty());
  EXPECT_TRUE(f.streams.specs.empty());
  EXPECT_EQ(f.hub->Stats().sessions_opened, 0u);
  EXPECT_EQ(f.Count("refused:untrusted_source"), 1u);
  EXPECT_EQ(f.uas->Stats().strangers, 1u);

  // OPTIONS (a scanner's probe) and ACK get no answer at all; other methods a bare 403.
  Req options;
  options.method = "OPTIONS";
  EXPECT_TRUE(f.Handle(Request(options), kStranger).responses.empty());
  Req ack;
  ack.method = "ACK";
  EXPECT_TRUE(f.Handle(Request(ack), kStranger).responses.empty());
  EXPECT_EQ(Code(f.Handle(Request(options))), 200) << "the same OPTIONS from the trunk is answered";
  EXPECT_EQ(f.Count("refused:untrusted_source"), 3u);

  // An unknown source address (no peer information) is a stranger too.
  EXPECT_EQ(Code(f.uas->Handle(Request(SiprecInvite("call-9@x")))), 403);
  // Malformed input from a stranger: no 400 either.
  EXPECT_FALSE(
      f.uas
          ->RejectMalformed("INVITE x\r\nVia: a\r\n", Status::InvalidArgument("sip.bad", "bad"), f.TrunkPeer(kStranger))
          .has_value());
}

TEST(SiprecUasTrunks, NoTrunksMeansNobodyAndATrunkAdmitsOnlyItsTransports) {
  Fixture none(16, {});
  EXPECT_EQ(Code(none.Handle(Request(SiprecInvite()))), 403);
  EXPECT_TRUE(none.control.attached.empty());

  Trunk udp_only = SrcTrunk();
  udp_only.transports = static_cast<uint8_t>(SipTransport::kUdp);
  Fixture f(16, {udp_only});
  UasOutput tcp = f.uas->Handle(Request(SiprecInvite()), f.TrunkPeer("198.51.100.1", SipTransport::kTcp));
  EXPECT_EQ(Code(tcp), 403);
  EXPECT_FALSE(tcp.responses[0].header("Warning").has_value());
  EXPECT_EQ(f.Count("refused:transport_not_allowed"), 1u);
  EXPECT_EQ(Code(f.Handle(Request(SiprecInvite()))), 200);
}

TEST(SiprecUasTrunks, AnInviteWithoutSipSrcIsNotARecordingSession) {
  Fixture f;
  Req r = SiprecInvite();
  r.extra = {"Require: siprec", "Contact: <sip:src@198.51.100.1>"};
  UasOutput out = f.Handle(Request(r));
  EXPECT_EQ(Code(out), 403);
  EXPECT_NE(Header(out, "Warning").find("+sip.src"), std::string::npos) << Header(out, "Warning");
  EXPECT_NE(out.responses[0].reason.find("Recording"), std::string::npos) << out.responses[0].reason;
  EXPECT_TRUE(f.control.attached.empty());
  EXPECT_EQ(f.Count("refused:not_recording_session"), 1u);

  r.extra = {"Require: siprec", "Contact: <sip:src@198.51.100.1>;+sip.src=\"FALSE\""};
  EXPECT_EQ(Code(f.Handle(Request(r))), 403) << "RFC 3840: a FALSE feature tag says it is not an SRC";
}

TEST(SiprecUasTrunks, ASecondSourceReusingALiveCallIdIsRefusedNotJoined) {
  Fixture f(16, {SrcTrunk(), OtherTrunk()});
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const sip::Message ok = inv.responses[0];

  // The other trunk sends an INVITE with the same Call-ID (and even the same branch).
  UasOutput hijack = f.Handle(Request(SiprecInvite()), "203.0.113.9");
  EXPECT_EQ(Code(hijack), 482);
  EXPECT_NE(sip::Serialize(hijack.responses[0]), sip::Serialize(ok)) << "never the dialog's cached 200 (our ports)";
  // It learnt the tags somehow: BYE and re-INVITE from the wrong trunk still do not match.
  UasOutput bye = f.Handle(Request(InDialog(ok, "BYE", 2, "z9hG4bK-h1")), "203.0.113.9");
  EXPECT_EQ(Code(bye), 481);
  Req pause = InDialog(ok, "INVITE", 3, "z9hG4bK-h2");
  pause.content_type = "application/sdp";
  pause.body = PcmuSdp("inactive");
  EXPECT_EQ(Code(f.Handle(Request(pause), "203.0.113.9")), 481);
  EXPECT_TRUE(f.control.actions.empty()) << "nobody paused the recording";
  EXPECT_TRUE(f.control.detached.empty());
  EXPECT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u);
  EXPECT_EQ(f.Count("refused:call_id_in_use"), 1u);
  EXPECT_EQ(f.Count("refused:dialog_mismatch"), 2u);
}

TEST(SiprecUasTrunks, ASecondSourceNamingAnotherTrunksLiveConversationIsRefused) {
  Fixture f(16, {SrcTrunk(), OtherTrunk()});
  const std::string conv = "c0ffee00-0000-4000-8000-0000000000bb";
  Req a = SiprecInvite("call-1@x");
  a.extra.push_back("X-Conversation-Id: " + conv);
  ASSERT_EQ(Code(f.Handle(Request(a))), 200);
  EXPECT_EQ(f.control.attached[0].owner, "trunk:" + SrcTrunk().id);

  Req b = SiprecInvite("call-2@x");
  b.extra.push_back("X-Conversation-Id: " + conv);
  UasOutput out = f.Handle(Request(b), "203.0.113.9");
  EXPECT_EQ(Code(out), 403);
  EXPECT_NE(Header(out, "Warning").find("another media source"), std::string::npos) << Header(out, "Warning");
  EXPECT_EQ(f.control.attached.size(), 1u) << "not joined";
  EXPECT_EQ(f.Count("refused:conversation_not_owned"), 1u);

  // The owner's own second SRC is told the conversation is busy (486), as before.
  Req c = SiprecInvite("call-3@x");
  c.extra.push_back("X-Conversation-Id: " + conv);
  EXPECT_EQ(Code(f.Handle(Request(c))), 486);
}

TEST(SiprecUasTrunks, ATaglessOrMistaggedByeIs481AndTheRecordingGoesOn) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const sip::Message ok = inv.responses[0];

  Req tagless = InDialog(ok, "BYE", 2, "z9hG4bK-b1");
  tagless.to_tag.clear();
  EXPECT_EQ(Code(f.Handle(Request(tagless))), 481);
  Req wrong_from = InDialog(ok, "BYE", 3, "z9hG4bK-b2");
  wrong_from.from_tag = "not-the-src";
  EXPECT_EQ(Code(f.Handle(Request(wrong_from))), 481);
  Req tagless_reinvite = InDialog(ok, "INVITE", 4, "z9hG4bK-b3");
  tagless_reinvite.to_tag = "guess";
  tagless_reinvite.content_type = "application/sdp";
  tagless_reinvite.body = PcmuSdp("inactive");
  EXPECT_EQ(Code(f.Handle(Request(tagless_reinvite))), 481);

  EXPECT_EQ(f.streams.open.size(), 2u) << "the streams still receive";
  EXPECT_TRUE(f.control.detached.empty());
  EXPECT_TRUE(f.control.actions.empty());
  EXPECT_EQ(f.hub->Stats().active_sessions, 1u);
  EXPECT_EQ(Code(f.Handle(Request(InDialog(ok, "BYE", 5, "z9hG4bK-b4")))), 200) << "the real BYE still works";
  EXPECT_EQ(f.control.detached.size(), 1u);
  EXPECT_EQ(f.Count("ended:bye"), 1u);
}

TEST(SiprecUasTrunks, OnlyTheDialogsAckStopsRetransmissionAndOnlyItsCancelIsAnswered) {
  Fixture f(16, {SrcTrunk(), OtherTrunk()});
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  Req ack = InDialog(inv.responses[0], "ACK", 1, "z9hG4bK-ack");
  EXPECT_FALSE(f.Handle(Request(ack), "203.0.113.9").ack_matched) << "another trunk's ACK";
  Req wrong = ack;
  wrong.to_tag = "x";
  EXPECT_FALSE(f.Handle(Request(wrong)).ack_matched);
  EXPECT_TRUE(f.Handle(Request(ack)).ack_matched);

  Req cancel;
  cancel.method = "CANCEL";
  cancel.branch = "z9hG4bK-1";
  EXPECT_EQ(Code(f.Handle(Request(cancel), "203.0.113.9")), 481);
  EXPECT_EQ(Code(f.Handle(Request(cancel))), 200);
}

TEST(SiprecUasTrunks, An64StreamOfferRecordsOnlyTheTrunksChannelLimit) {
  Fixture f;  // SrcTrunk: default limits, 8 channels per session
  std::string sdp = "v=0\no=SRC 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n";
  for (int i = 0; i < 64; ++i)
    sdp += "m=audio " + std::to_string(12000 + 2 * i) + " RTP/AVP 0\na=sendonly\na=label:" + std::to_string(i) + "\n";
  Req r = SiprecInvite();
  r.content_type = "application/sdp";
  r.body = Crlf(sdp);
  UasOutput out = f.Handle(Request(r));
  ASSERT_EQ(Code(out), 200);
  auto answer = sdp::ParseSdp(out.responses[0].body);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->media.size(), 64u) << "one answer line per offered line (RFC 3264 §6)";
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(answer->media[i].port != 0, i < 8) << i;
  EXPECT_EQ(f.streams.specs.size(), 8u);
  EXPECT_NE(Header(out, "Warning").find("8 of 64"), std::string::npos) << Header(out, "Warning");
  EXPECT_EQ(f.Count("declined:channels"), 1u);
  ASSERT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.control.attached[0].participants.size(), 8u);
}

TEST(SiprecUasTrunks, WideBandStreamsStopAtTheTrunksBandwidth) {
  Trunk t = SrcTrunk();
  t.limits.max_bandwidth_kbps = 600;  // two 16 kHz channels (256 kbit/s each), not three
  Fixture f(16, {t});
  std::string sdp = "v=0\no=SRC 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n";
  for (int i = 0; i < 4; ++i)
    sdp += "m=audio " + std::to_string(12000 + 2 * i) + " RTP/AVP 96\na=rtpmap:96 L16/16000\na=sendonly\n";
  Req r = SiprecInvite();
  r.content_type = "application/sdp";
  r.body = Crlf(sdp);
  UasOutput out = f.Handle(Request(r));
  ASSERT_EQ(Code(out), 200);
  EXPECT_EQ(f.streams.specs.size(), 2u);
  EXPECT_EQ(f.Count("declined:bandwidth"), 1u);

  t.limits.max_bandwidth_kbps = 128;  // not even one 16 kHz channel
  Fixture g(16, {t});
  UasOutput none = g.Handle(Request(r));
  EXPECT_EQ(Code(none), 488);
  EXPECT_NE(Header(none, "Warning").find("kbit/s"), std::string::npos) << Header(none, "Warning");
  EXPECT_TRUE(g.control.attached.empty());
}

TEST(SiprecUasTrunks, TrunkSessionLimitIs503WithRetryAfter) {
  Trunk t = SrcTrunk();
  t.limits.max_sessions = 1;
  Fixture f(16, {t});
  ASSERT_EQ(Code(f.Handle(Request(SiprecInvite("call-1@x")))), 200);
  UasOutput out = f.Handle(Request(SiprecInvite("call-2@x")));
  EXPECT_EQ(Code(out), 503);
  EXPECT_EQ(Header(out, "Retry-After"), "7");
  EXPECT_NE(Header(out, "Warning").find("limit of 1"), std::string::npos) << Header(out, "Warning");
  EXPECT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.Count("refused:trunk_sessions"), 1u);
}

TEST(SiprecUasTrunks, BelowTheFreeDiskWatermarkNewSessionsAre503) {
  Fixture f;
  f.free_bytes = uint64_t{100} << 20;  // 100 MB free, watermark 512 MB
  UasOutput out = f.Handle(Request(SiprecInvite()));
  EXPECT_EQ(Code(out), 503);
  EXPECT_NE(Header(out, "Warning").find("--media-min-free-mb"), std::string::npos) << Header(out, "Warning");
  EXPECT_NE(Header(out, "Retry-After"), "<absent>");
  EXPECT_TRUE(f.control.attached.empty()) << "refused before any conversation exists";
  EXPECT_TRUE(f.streams.open.empty());
  EXPECT_EQ(f.Count("refused:disk_low"), 1u);
  f.free_bytes = std::nullopt;  // unreadable: refused too
  EXPECT_EQ(Code(f.Handle(Request(SiprecInvite("call-2@x")))), 503);
  f.free_bytes = uint64_t{1} << 40;
  EXPECT_EQ(Code(f.Handle(Request(SiprecInvite("call-3@x")))), 200);
}

TEST(SiprecUasTrunks, SilenceOnEveryStreamEndsTheSessionWithAByeAndFinishesTheFile) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const std::string conversation = f.streams.specs[0].session->conversation_id();
  f.now += std::chrono::seconds(9);
  f.uas->Sweep();
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u) << "10 s timeout, 9 s of silence";
  f.streams.last_packet = f.now;  // a packet arrives
  f.now += std::chrono::seconds(9);
  f.uas->Sweep();
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u) << "9 s since the last packet";
  f.now += std::chrono::seconds(2);
  f.uas->Sweep();
  EXPECT_EQ(f.uas->Stats().active_dialogs, 0u);
  EXPECT_EQ(f.control.detached, std::vector<std::string>{conversation});
  EXPECT_TRUE(f.streams.open.empty());
  EXPECT_EQ(f.Count("ended:rtp_timeout"), 1u);
  ASSERT_EQ(f.sent.size(), 1u) << "the SRC is told with a BYE";
  auto bye = sip::ParseMessage(f.sent[0]);
  ASSERT_TRUE(bye.ok()) << f.sent[0];
  EXPECT_EQ(bye->method, "BYE");
  EXPECT_EQ(bye->call_id(), inv.responses[0].call_id());
  EXPECT_EQ(bye->from_tag(), inv.responses[0].to_tag()) << "our tag";
  EXPECT_EQ(bye->to_tag(), "src-tag");
  EXPECT_NE(std::string(bye->header("Reason").value_or("")).find("no RTP"), std::string::npos);
}

TEST(SiprecUasTrunks, NoRtpIsExpectedWhileEveryStreamIsInactive) {
  Fixture f;
  // Cisco CUBE may open with inactive streams (drachtio test data inactive-sdp-offer.txt) or pause by re-INVITE.
  Req r = SiprecInvite();
  r.content_type = "application/sdp";
  r.body = PcmuSdp("inactive");
  UasOutput inv = f.Handle(Request(r));
  ASSERT_EQ(Code(inv), 200);
  f.now += std::chrono::seconds(60);
  f.uas->Sweep();
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u) << "inactive: silence is expected";
  Req go = InDialog(inv.responses[0], "INVITE", 2, "z9hG4bK-go");
  go.content_type = "application/sdp";
  go.body = PcmuSdp("sendonly");
  ASSERT_EQ(Code(f.Handle(Request(go))), 200);
  f.now += std::chrono::seconds(9);
  f.uas->Sweep();
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u) << "the window starts when media is announced";
  f.now += std::chrono::seconds(2);
  f.uas->Sweep();
  EXPECT_EQ(f.uas->Stats().active_dialogs, 0u);
}

Req TimerInvite(std::string session_expires, std::string supported = "Supported: timer") {
  static int n = 0;  // a new dialog each time
  Req r = SiprecInvite("timer-" + std::to_string(++n) + "@x");
  r.extra.push_back("Session-Expires: " + session_expires);
  if (!supported.empty()) r.extra.push_back(supported);
  return r;
}

TEST(SiprecUasTrunks, SessionTimersAreNegotiatedRefreshedAndEnforced) {
  Fixture f;
  UasOutput inv = f.Handle(Request(TimerInvite("120")));
  ASSERT_EQ(Code(inv), 200);
  EXPECT_EQ(Header(inv, "Session-Expires"), "120;refresher=uac") << "the SRC refreshes; we never do";
  EXPECT_EQ(Header(inv, "Require"), "timer");
  const sip::Message ok = inv.responses[0];
  auto alive = [&] { return f.uas->Stats().active_dialogs == 1; };

  // RTP keeps flowing throughout, so only the session timer can end it.
  f.now += std::chrono::seconds(60);
  f.streams.last_packet = f.now;
  Req refresh = InDialog(ok, "INVITE", 2, "z9hG4bK-r1");  // a refresh without SDP
  refresh.extra = {"Session-Expires: 120;refresher=uac", "Supported: timer"};
  UasOutput r1 = f.Handle(Request(refresh));
  ASSERT_EQ(Code(r1), 200);
  EXPECT_EQ(Header(r1, "Session-Expires"), "120;refresher=uac");
  f.now += std::chrono::seconds(70);  // 130 s since the INVITE, 70 s since the refresh
  f.streams.last_packet = f.now;
  f.uas->Sweep();
  EXPECT_TRUE(alive()) << "refreshed";

  // UPDATE refreshes too (RFC 4028 §7.4), without a body.
  Req update = InDialog(ok, "UPDATE", 3, "z9hG4bK-r2");
  update.extra = {"Session-Expires: 120", "Supported: timer"};
  UasOutput r2 = f.Handle(Request(update));
  ASSERT_EQ(Code(r2), 200);
  EXPECT_TRUE(r2.responses[0].body.empty());
  EXPECT_FALSE(r2.reliable_2xx);

  // No refresh: BYE at expiry minus min(32 s, interval/3) = 88 s after the last one.
  f.now += std::chrono::seconds(87);
  f.streams.last_packet = f.now;
  f.uas->Sweep();
  EXPECT_TRUE(alive());
  f.now += std::chrono::seconds(2);
  f.streams.last_packet = f.now;
  f.uas->Sweep();
  EXPECT_FALSE(alive());
  EXPECT_EQ(f.Count("ended:session_expired"), 1u);
  ASSERT_EQ(f.sent.size(), 1u);
  EXPECT_NE(f.sent[0].find("session timer"), std::string::npos) << f.sent[0];
  EXPECT_EQ(f.control.detached.size(), 1u);
}

TEST(SiprecUasTrunks, ATooShortSessionIntervalIs422WithOurMinSe) {
  Fixture f;  // Min-SE 90
  UasOutput out = f.Handle(Request(TimerInvite("60;refresher=uac")));
  EXPECT_EQ(Code(out), 422);
  EXPECT_EQ(Header(out, "Min-SE"), "90");
  EXPECT_TRUE(f.control.attached.empty());
  EXPECT_EQ(f.Count("refused:session_interval_too_small"), 1u);
  Req with_min = TimerInvite("60");
  with_min.extra.push_back("Min-SE: 120");
  EXPECT_EQ(Header(f.Handle(Request(with_min)), "Min-SE"), "120") << "never below the request's own Min-SE";

  // An SRC that does not support timers (a proxy added the header): we would be
  // the refresher, so no timer, and no 422 that would fail the call.
  UasOutput plain = f.Handle(Request(TimerInvite("60", "")));
  ASSERT_EQ(Code(plain), 200);
  EXPECT_EQ(Header(plain, "Session-Expires"), "<absent>");
  EXPECT_EQ(Code(f.Handle(Request(TimerInvite("abc")))), 400);
  Req require_timer = TimerInvite("1800", "Require: timer");
  require_timer.call_id = "call-rt@x";
  require_timer.extra[0] = "Require: siprec, timer";
  EXPECT_EQ(Code(f.Handle(Request(require_timer))), 200) << "timer is an option tag we support";
}

TEST(SiprecUasTrunks, ATrunkWithCredentialsChallengesAndRefusesWrongOnes) {
  Trunk t = SrcTrunk();
  t.digest = TrunkDigest{"src", "verbatim",
                         sip::DigestHa1Hex(sip::DigestAlgorithm::kMd5, "src", "verbatim", "0123456789abcdef"),
                         sip::DigestHa1Hex(sip::DigestAlgorithm::kSha256, "src", "verbatim", "0123456789abcdef")};
  Fixture f(16, {t});
  UasOutput challenge = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(challenge), 401);
  const auto auths = challenge.responses[0].headers("WWW-Authenticate");
  ASSERT_EQ(auths.size(), 2u);
  EXPECT_TRUE(f.control.attached.empty());
  EXPECT_EQ(f.Count("refused:auth_challenge"), 1u);

  const std::string c(auths[0]);
  const size_t at = c.find("nonce=\"") + 7;
  const std::string nonce = c.substr(at, c.find('"', at) - at);
  auto with_password = [&](std::string_view password, std::string branch) {
    // The client's computation (RFC 2617 §3.2.2.1, qop=auth), with OpenSSL directly.
    auto h = [](const std::string& s) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
      return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
    };
    const std::string ha1 = h("src:verbatim:" + std::string(password));
    const std::string header = "Digest username=\"src\", realm=\"verbatim\", nonce=\"" + nonce +
                               "\", uri=\"sip:srs@192.0.2.50\", algorithm=SHA-256, qop=auth, nc=00000001, "
                               "cnonce=\"abc\", response=\"" +
                               h(ha1 + ":" + nonce + ":00000001:abc:auth:" + h("INVITE:sip:srs@192.0.2.50")) + "\"";
    Req r = SiprecInvite();
    r.branch = std::move(branch);
    r.extra.push_back("Authorization: " + header);
    return f.Handle(Request(r));
  };
  UasOutput wrong = with_password("not-the-password", "z9hG4bK-w");
  EXPECT_EQ(Code(wrong), 403);
  EXPECT_FALSE(wrong.responses[0].header("Warning").has_value()) << "no hint for a guesser";
  EXPECT_TRUE(f.control.attached.empty());
  UasOutput right = with_password("0123456789abcdef", "z9hG4bK-r");
  EXPECT_EQ(Code(right), 200);
  EXPECT_EQ(f.control.attached.size(), 1u);
}

TEST(SiprecUasTrunks, RtpIsAcceptedFromTheOfferedAddressOrTheSignallingOrTheTrunkWhenLatching) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()), "198.51.100.77");
  ASSERT_EQ(Code(inv), 200);
  ASSERT_EQ(f.streams.specs.size(), 2u);
  EXPECT_EQ(f.streams.specs[0].source.mode, RtpSource::kOffer);
  EXPECT_EQ(f.streams.specs[0].source.address, ParseIpAddress("198.51.100.1")) << "the offer's c=";
  EXPECT_FALSE(f.streams.specs[0].source.Allows(*ParseIpAddress("198.51.100.77")));

  // A re-INVITE moving the media elsewhere moves the allowed source with it.
  Req move = InDialog(inv.responses[0], "INVITE", 2, "z9hG4bK-mv");
  move.content_type = "application/sdp";
  std::string sdp = PcmuSdp("sendonly");
  for (size_t at; (at = sdp.find("c=IN IP4 198.51.100.1")) != std::string::npos;)
    sdp.replace(at, 21, "c=IN IP4 198.51.100.9");
  move.body = sdp;
  ASSERT_EQ(Code(f.Handle(Request(move), "198.51.100.77")), 200);
  ASSERT_EQ(f.streams.sources.size(), 2u);
  EXPECT_EQ(f.streams.sources.begin()->second.address, ParseIpAddress("198.51.100.9"));

  // No usable c= (0.0.0.0): the address the INVITE came from.
  Req any = SiprecInvite("call-2@x");
  any.content_type = "application/sdp";
  std::string zero = PcmuSdp("sendonly");
  for (size_t at; (at = zero.find("198.51.100.1")) != std::string::npos;) zero.replace(at, 12, "0.0.0.0");
  any.body = zero;
  ASSERT_EQ(Code(f.Handle(Request(any), "198.51.100.77")), 200);
  EXPECT_EQ(f.streams.specs.back().source.address, ParseIpAddress("198.51.100.77"));

  Trunk nat = SrcTrunk();
  nat.rtp_source = RtpSource::kLatch;
  Fixture g(16, {nat});
  ASSERT_EQ(Code(g.Handle(Request(SiprecInvite()))), 200);
  const RtpSourcePolicy& p = g.streams.specs[0].source;
  EXPECT_EQ(p.mode, RtpSource::kLatch);
  EXPECT_TRUE(p.Allows(*ParseIpAddress("198.51.100.200"))) << "anywhere in the trunk's networks";
  EXPECT_FALSE(p.Allows(*ParseIpAddress("192.0.2.1"))) << "but not a stranger";
}

}  // namespace
}  // namespace verbatim::media::siprec
