// SiprecUas: the SIPREC recording server's dialog logic, driven with parsed
// SIP requests, a fake StreamOpener (no sockets) and a real MediaHub over a
// fake ConversationControl (no store): what is answered, what is opened and
// closed, and which recording actions the SIP side asks for.
#include "media/siprec/uas.h"

#include <gtest/gtest.h>

#include "unit/media/siprec_uas_fixture.h"

namespace verbatim::media::siprec {
namespace {

using namespace testing_uas;  // NOLINT: the fixture's helpers, in a test file
using testing::Crlf;

TEST(SiprecUas, InviteAnswersRecvonlyWithOurPortsAndKeepsLabels) {
  Fixture f;
  UasOutput out = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(out.responses.size(), 1u);
  const sip::Message& ok = out.responses[0];
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_TRUE(out.reliable_2xx);
  EXPECT_TRUE(ok.to_tag().has_value());
  EXPECT_EQ(ok.header("Content-Type"), "application/sdp");
  EXPECT_EQ(ok.header("Contact"), "<sip:verbatim@192.0.2.50:5060>");
  EXPECT_EQ(ok.call_id(), "call-1@src.example.com");
  EXPECT_EQ(ok.header("CSeq"), "1 INVITE");

  auto answer = sdp::ParseSdp(ok.body);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString() << "\n" << ok.body;
  ASSERT_EQ(answer->media.size(), 2u);
  EXPECT_EQ(answer->media[0].port, 40000);
  EXPECT_EQ(answer->media[1].port, 40002);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(answer->media[i].direction, sdp::Direction::kRecvOnly) << i;
    ASSERT_TRUE(answer->media[i].label) << i;
    EXPECT_EQ(*answer->media[i].label, std::to_string(i + 1));
    ASSERT_FALSE(answer->media[i].codecs.empty());
    EXPECT_EQ(answer->media[i].codecs[0].encoding, "PCMU");  // preferred, though stream 2 lists PCMA first
    const sdp::Connection* c = answer->ConnectionFor(answer->media[i]);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->address, "192.0.2.50");
  }

  // One stream per m= line, in order, each on its own channel of one session.
  ASSERT_EQ(f.streams.specs.size(), 2u);
  EXPECT_EQ(f.streams.specs[0].channel, 0u);
  EXPECT_EQ(f.streams.specs[1].channel, 1u);
  EXPECT_EQ(f.streams.specs[0].audio.payload_type(), 0);
  EXPECT_TRUE(f.streams.specs[0].events.has_value());  // telephone-event recognised
  EXPECT_EQ(f.streams.specs[0].session, f.streams.specs[1].session);
  EXPECT_EQ(f.streams.open.size(), 2u);

  // The conversation gets the metadata's participants, in channel order.
  ASSERT_EQ(f.control.attached.size(), 1u);
  const auto& spec = f.control.attached[0];
  EXPECT_EQ(spec.source, "siprec");
  EXPECT_EQ(spec.external_id, "call-1@src.example.com");
  EXPECT_FALSE(spec.conversation_id.has_value());
  ASSERT_EQ(spec.participants.size(), 2u);
  EXPECT_EQ(spec.participants[0].name, "Alice");
  EXPECT_EQ(spec.participants[1].name, "Bob");

  UasStats st = f.uas->Stats();
  EXPECT_EQ(st.invites, 1u);
  EXPECT_EQ(st.sessions, 1u);
  EXPECT_EQ(st.active_dialogs, 1u);
  EXPECT_EQ(f.hub->Stats().active_sessions, 1u);
}

TEST(SiprecUas, RetransmittedInviteGetsTheSame200AndNoSecondSession) {
  Fixture f;
  UasOutput first = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(first), 200);
  UasOutput again = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(again.responses.size(), 1u);
  EXPECT_TRUE(again.reliable_2xx);
  EXPECT_EQ(sip::Serialize(again.responses[0]), sip::Serialize(first.responses[0]));
  EXPECT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.streams.specs.size(), 2u);
  EXPECT_EQ(f.uas->Stats().sessions, 1u);
  EXPECT_EQ(f.hub->Stats().active_sessions, 1u);

  // Same Call-ID, new transaction without a To tag: not a retransmission, not a second recording.
  UasOutput other = f.Handle(Request(SiprecInvite("call-1@src.example.com", "z9hG4bK-other")));
  EXPECT_EQ(Code(other), 482);
  EXPECT_EQ(f.uas->Stats().sessions, 1u);
}

TEST(SiprecUas, ReInviteInactivePausesOnceAndSendonlyResumes) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const sip::Message ok = inv.responses[0];

  Req pause = InDialog(ok, "INVITE", 2, "z9hG4bK-2");
  pause.content_type = "application/sdp";
  pause.body = PcmuSdp("inactive");
  UasOutput p1 = f.Handle(Request(pause));
  ASSERT_EQ(Code(p1), 200);
  EXPECT_TRUE(p1.reliable_2xx);
  auto answer = sdp::ParseSdp(p1.responses[0].body);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->media.size(), 2u);
  EXPECT_EQ(answer->media[0].port, 40000);  // the streams keep their ports
  EXPECT_EQ(answer->media[1].port, 40002);
  EXPECT_EQ(answer->media[0].direction, sdp::Direction::kInactive);
  ASSERT_EQ(f.control.actions.size(), 1u);
  EXPECT_EQ(f.control.actions[0].first, RecordingAction::kPause);
  EXPECT_NE(f.control.actions[0].second.find("inactive"), std::string::npos) << f.control.actions[0].second;

  // Inactive again (e.g. a session refresh): no second pause.
  Req refresh = InDialog(ok, "INVITE", 3, "z9hG4bK-3");
  refresh.content_type = "application/sdp";
  refresh.body = PcmuSdp("inactive");
  EXPECT_EQ(Code(f.Handle(Request(refresh))), 200);
  EXPECT_EQ(f.control.actions.size(), 1u);

  // Back to sendonly, this time in a multipart body: resume, once.
  Req resume = InDialog(ok, "INVITE", 4, "z9hG4bK-4");
  resume.content_type = "multipart/mixed;boundary=foobar";
  resume.body = testing::SiprecBody();
  UasOutput r = f.Handle(Request(resume));
  ASSERT_EQ(Code(r), 200);
  auto resumed = sdp::ParseSdp(r.responses[0].body);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->media[0].direction, sdp::Direction::kRecvOnly);
  ASSERT_EQ(f.control.actions.size(), 2u);
  EXPECT_EQ(f.control.actions[1].first, RecordingAction::kResume);

  Req again = InDialog(ok, "INVITE", 5, "z9hG4bK-5");
  again.content_type = "application/sdp";
  again.body = PcmuSdp("sendonly");
  EXPECT_EQ(Code(f.Handle(Request(again))), 200);
  EXPECT_EQ(f.control.actions.size(), 2u);
  EXPECT_EQ(f.control.attached.size(), 1u);  // re-INVITEs never open sessions

  // The SDP version increases with every answer (RFC 3264 §8).
  auto v1 = sdp::ParseSdp(ok.body);
  ASSERT_TRUE(v1.ok());
  EXPECT_GT(std::stoull(resumed->origin.session_version), std::stoull(v1->origin.session_version));
  EXPECT_EQ(resumed->origin.session_id, v1->origin.session_id);
}

TEST(SiprecUas, ReInviteWithoutAnOfferGets200WithOursAndChangesNothing) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const sip::Message ok = inv.responses[0];

  // A session refresh without a body: 200 with our SDP as the offer (RFC 3261 §14.2).
  UasOutput refresh = f.Handle(Request(InDialog(ok, "INVITE", 2, "z9hG4bK-2")));
  ASSERT_EQ(Code(refresh), 200);
  EXPECT_TRUE(refresh.reliable_2xx);
  EXPECT_EQ(refresh.responses[0].header("Content-Type"), "application/sdp");
  auto sdp = sdp::ParseSdp(refresh.responses[0].body);
  ASSERT_TRUE(sdp.ok()) << refresh.responses[0].body;
  ASSERT_EQ(sdp->media.size(), 2u);
  EXPECT_EQ(sdp->media[0].port, 40000);
  EXPECT_EQ(sdp->media[1].port, 40002);
  EXPECT_EQ(sdp->media[0].direction, sdp::Direction::kRecvOnly);
  EXPECT_TRUE(f.control.actions.empty());

  // Paused by SIP, then refreshed without an offer: still paused (inactive), no resume.
  Req pause = InDialog(ok, "INVITE", 3, "z9hG4bK-3");
  pause.content_type = "application/sdp";
  pause.body = PcmuSdp("inactive");
  ASSERT_EQ(Code(f.Handle(Request(pause))), 200);
  UasOutput again = f.Handle(Request(InDialog(ok, "INVITE", 4, "z9hG4bK-4")));
  ASSERT_EQ(Code(again), 200);
  auto still = sdp::ParseSdp(again.responses[0].body);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->media[0].direction, sdp::Direction::kInactive);
  ASSERT_EQ(f.control.actions.size(), 1u);
  EXPECT_EQ(f.control.actions[0].first, RecordingAction::kPause);
}

TEST(SiprecUas, ReInviteWithABrokenBodyIs400AndChangesNothing) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  Req bad = InDialog(inv.responses[0], "INVITE", 2, "z9hG4bK-2");
  bad.content_type = "application/sdp";
  bad.body = "this is not SDP\r\n";
  EXPECT_EQ(Code(f.Handle(Request(bad))), 400);
  EXPECT_TRUE(f.control.actions.empty());
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u);

  Req wrong_tag = InDialog(inv.responses[0], "INVITE", 3, "z9hG4bK-3");
  wrong_tag.to_tag = "not-ours";
  wrong_tag.content_type = "application/sdp";
  wrong_tag.body = PcmuSdp("inactive");
  EXPECT_EQ(Code(f.Handle(Request(wrong_tag))), 481);
  EXPECT_TRUE(f.control.actions.empty());
}

TEST(SiprecUas, ByeAnswers200AndClosesTheSession) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const std::string conversation = f.streams.specs[0].session->conversation_id();
  UasOutput bye = f.Handle(Request(InDialog(inv.responses[0], "BYE", 2, "z9hG4bK-bye")));
  ASSERT_EQ(bye.responses.size(), 1u);
  EXPECT_EQ(bye.responses[0].status_code, 200);
  EXPECT_FALSE(bye.reliable_2xx);
  EXPECT_EQ(bye.responses[0].header("CSeq"), "2 BYE");
  EXPECT_TRUE(f.streams.open.empty()) << "RTP ports must be released";
  EXPECT_EQ(f.control.detached, std::vector<std::string>{conversation});
  EXPECT_EQ(f.hub->Stats().active_sessions, 0u);
  UasStats st = f.uas->Stats();
  EXPECT_EQ(st.byes, 1u);
  EXPECT_EQ(st.active_dialogs, 0u);

  // A retransmitted BYE after that: the dialog is gone.
  EXPECT_EQ(Code(f.Handle(Request(InDialog(inv.responses[0], "BYE", 2, "z9hG4bK-bye")))), 481);
  EXPECT_EQ(f.control.detached.size(), 1u);
}

TEST(SiprecUas, ByeForAnUnknownDialogIs481) {
  Fixture f;
  Req bye;
  bye.method = "BYE";
  bye.call_id = "nobody@src.example.com";
  bye.to_tag = "x";
  UasOutput out = f.Handle(Request(bye));
  EXPECT_EQ(Code(out), 481);
  EXPECT_EQ(f.uas->Stats().byes, 0u);
  EXPECT_TRUE(f.control.detached.empty());
}

TEST(SiprecUas, ConversationEndedForgetsTheDialog) {
  Fixture f;
  UasOutput inv = f.Handle(Request(SiprecInvite()));
  ASSERT_EQ(Code(inv), 200);
  const std::string conversation = f.streams.specs[0].session->conversation_id();
  f.uas->ConversationEnded(conversation);
  EXPECT_TRUE(f.streams.open.empty());
  EXPECT_EQ(f.uas->Stats().active_dialogs, 0u);
  EXPECT_EQ(Code(f.Handle(Request(InDialog(inv.responses[0], "BYE", 2, "z9hG4bK-bye")))), 481);
}

TEST(SiprecUas, TextPlainBodyIs415WithAccept) {
  Fixture f;
  Req r = SiprecInvite();
  r.content_type = "text/plain";
  r.body = "hello\r\n";
  UasOutput out = f.Handle(Request(r));
  EXPECT_EQ(Code(out), 415);
  EXPECT_NE(Header(out, "Accept").find("application/sdp"), std::string::npos) << Header(out, "Accept");
  EXPECT_NE(Header(out, "Accept").find("multipart/mixed"), std::string::npos);
  EXPECT_TRUE(out.responses[0].to_tag().has_value()) << "a final response to INVITE carries a To tag";
  EXPECT_FALSE(out.reliable_2xx);
  EXPECT_TRUE(f.control.attached.empty());

  Req none = SiprecInvite();  // no body at all
  none.content_type.clear();
  none.body.clear();
  EXPECT_EQ(Code(f.Handle(Request(none))), 415);
  EXPECT_EQ(f.uas->Stats().rejected, 2u);
}

TEST(SiprecUas, OnlyUnknownCodecsIs488) {
  Fixture f;
  Req r = SiprecInvite();
  r.content_type = "application/sdp";
  r.body = Sdp("sendonly", "18", "a=rtpmap:18 G729/8000\n");
  UasOutput out = f.Handle(Request(r));
  EXPECT_EQ(Code(out), 488);
  EXPECT_NE(Header(out, "Warning").find("305"), std::string::npos) << Header(out, "Warning");
  EXPECT_TRUE(f.control.attached.empty());
  EXPECT_TRUE(f.streams.specs.empty());

  // A G729 stream next to a PCMU one: only the PCMU stream is recorded, the other is declined.
  Req mixed = SiprecInvite("call-2@src.example.com");
  mixed.content_type = "application/sdp";
  mixed.body = Crlf("v=0\no=SRC 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
                    "m=audio 12240 RTP/AVP 18\na=rtpmap:18 G729/8000\na=sendonly\na=label:1\n"
                    "m=audio 12242 RTP/AVP 0\na=sendonly\na=label:2\n");
  UasOutput ok = f.Handle(Request(mixed));
  ASSERT_EQ(Code(ok), 200);
  auto answer = sdp::ParseSdp(ok.responses[0].body);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->media.size(), 2u);
  EXPECT_EQ(answer->media[0].port, 0);
  EXPECT_NE(answer->media[1].port, 0);
  ASSERT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.control.attached[0].participants.size(), 1u);
}

TEST(SiprecUas, UnknownRequireIs420WithUnsupported) {
  Fixture f;
  Req r = SiprecInvite();
  r.extra = {"Require: siprec, foo", "Contact: <sip:src@198.51.100.1>;+sip.src"};
  UasOutput out = f.Handle(Request(r));
  EXPECT_EQ(Code(out), 420);
  EXPECT_EQ(Header(out, "Unsupported"), "foo");
  EXPECT_TRUE(f.control.attached.empty());
}

TEST(SiprecUas, BrokenSdpOrMetadataIs400) {
  Fixture f;
  Req sdp = SiprecInvite();
  sdp.content_type = "application/sdp";
  sdp.body = "v=0\r\nm=audio banana RTP/AVP 0\r\n";
  UasOutput a = f.Handle(Request(sdp));
  EXPECT_EQ(Code(a), 400);
  EXPECT_NE(Header(a, "Warning").find("SDP"), std::string::npos) << Header(a, "Warning");

  Req meta = SiprecInvite("call-2@src.example.com");
  std::string body = testing::SiprecBody();
  body.replace(body.find("<recording"), 10, "<recordinx");  // no longer well-formed
  meta.body = body;
  UasOutput b = f.Handle(Request(meta));
  EXPECT_EQ(Code(b), 400);
  EXPECT_NE(Header(b, "Warning").find("rs-metadata"), std::string::npos) << Header(b, "Warning");

  Req boundary = SiprecInvite("call-3@src.example.com");
  boundary.content_type = "multipart/mixed;boundary=nothere";
  EXPECT_EQ(Code(f.Handle(Request(boundary))), 400);

  EXPECT_TRUE(f.control.attached.empty());
  EXPECT_EQ(f.uas->Stats().rejected, 3u);
  EXPECT_EQ(f.uas->Stats().active_dialogs, 0u);
}

TEST(SiprecUas, AtHubCapacity503WithRetryAfter) {
  Fixture f(/*max_sessions=*/1);
  ASSERT_EQ(Code(f.Handle(Request(SiprecInvite("call-1@x")))), 200);
  UasOutput out = f.Handle(Request(SiprecInvite("call-2@x")));
  EXPECT_EQ(Code(out), 503);
  EXPECT_EQ(Header(out, "Retry-After"), "7");
  EXPECT_EQ(f.streams.specs.size(), 2u) << "no streams for the refused call";
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u);
}

TEST(SiprecUas, NoFreeRtpPort503AndTheSessionIsClosedAgain) {
  Fixture f;
  f.streams.exhausted = true;
  UasOutput out = f.Handle(Request(SiprecInvite()));
  EXPECT_EQ(Code(out), 503);
  EXPECT_EQ(Header(out, "Retry-After"), "7");
  EXPECT_EQ(f.hub->Stats().active_sessions, 0u);
  EXPECT_EQ(f.control.detached.size(), 1u);
  EXPECT_EQ(f.uas->Stats().active_dialogs, 0u);
}

TEST(SiprecUas, TooFewFreeRtpPorts503BeforeAnythingIsCreated) {
  Fixture f;
  f.streams.capacity = 3;
  ASSERT_EQ(Code(f.Handle(Request(SiprecInvite("call-1@x")))), 200);  // takes 2 of 3
  UasOutput out = f.Handle(Request(SiprecInvite("call-2@x")));         // needs 2, 1 left
  EXPECT_EQ(Code(out), 503);
  EXPECT_EQ(Header(out, "Retry-After"), "7");
  EXPECT_NE(Header(out, "Warning").find("RTP ports"), std::string::npos) << Header(out, "Warning");
  // No conversation was created or joined for the refused call, so nothing to end either.
  EXPECT_EQ(f.control.attached.size(), 1u);
  EXPECT_TRUE(f.control.detached.empty());
  EXPECT_EQ(f.hub->Stats().sessions_opened, 1u);
  EXPECT_EQ(f.uas->Stats().rejected, 1u);
}

TEST(SiprecUas, ConversationWithLiveMediaIs486) {
  Fixture f;
  const std::string conv = "c0ffee00-0000-4000-8000-0000000000aa";
  Req a = SiprecInvite("call-1@x");
  a.extra.push_back("X-Conversation-Id: " + conv);
  ASSERT_EQ(Code(f.Handle(Request(a))), 200);
  ASSERT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.control.attached[0].conversation_id, conv);

  Req b = SiprecInvite("call-2@x");
  b.extra.push_back("X-Conversation-Id: " + conv);
  UasOutput out = f.Handle(Request(b));
  EXPECT_EQ(Code(out), 486);
  EXPECT_EQ(f.control.attached.size(), 1u);
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u);
}

TEST(SiprecUas, EndedConversationIs403) {
  Fixture f;
  f.control.attach_error = Status::FailedPrecondition("conversation.ended", "Conversation x has ended.");
  EXPECT_EQ(Code(f.Handle(Request(SiprecInvite()))), 403);
  EXPECT_EQ(f.uas->Stats().active_dialogs, 0u);
}

TEST(SiprecUas, CancelAndOptions) {
  Fixture f;
  Req options;
  options.method = "OPTIONS";
  options.call_id = "ping@x";
  UasOutput o = f.Handle(Request(options));
  EXPECT_EQ(Code(o), 200);
  EXPECT_NE(Header(o, "Allow").find("INVITE"), std::string::npos) << Header(o, "Allow");
  EXPECT_NE(Header(o, "Allow").find("BYE"), std::string::npos);
  EXPECT_NE(Header(o, "Supported").find("siprec"), std::string::npos);
  EXPECT_NE(Header(o, "Accept").find("application/rs-metadata+xml"), std::string::npos);

  Req cancel;
  cancel.method = "CANCEL";
  cancel.call_id = "nobody@x";
  EXPECT_EQ(Code(f.Handle(Request(cancel))), 481);

  // CANCEL of an INVITE already answered: 200 to the CANCEL, the call goes on.
  ASSERT_EQ(Code(f.Handle(Request(SiprecInvite("call-1@x")))), 200);
  Req late;
  late.method = "CANCEL";
  late.call_id = "call-1@x";
  late.branch = "z9hG4bK-1";
  EXPECT_EQ(Code(f.Handle(Request(late))), 200);
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u);
  EXPECT_TRUE(f.control.detached.empty());

  Req message;
  message.method = "MESSAGE";
  message.call_id = "m@x";
  UasOutput m = f.Handle(Request(message));
  EXPECT_EQ(Code(m), 501);
  EXPECT_NE(Header(m, "Allow").find("OPTIONS"), std::string::npos);
}

TEST(SiprecUas, AckAndResponsesAreNeverAnswered) {
  Fixture f;
  Req ack;
  ack.method = "ACK";
  ack.call_id = "whatever@x";
  EXPECT_TRUE(f.Handle(Request(ack)).responses.empty());
  sip::Message res = Parse(Crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-9\n"
                                "From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: r@x\nCSeq: 1 INVITE\n"
                                "Content-Length: 0\n\n"));
  EXPECT_TRUE(f.Handle(res).responses.empty());
}

TEST(SiprecUas, RejectMalformedBuilds400FromWhatIsReadable) {
  Fixture f;
  const Status why = Status::InvalidArgument("sip.missing.content.length", "Content-Length is required on TCP");
  // A TCP INVITE without Content-Length: framing is lost, but the headers address a 400.
  std::string raw = Crlf("INVITE sip:srs@192.0.2.50 SIP/2.0\n"
                         "Via: SIP/2.0/TCP 198.51.100.1:5060;branch=z9hG4bK-77\n"
                         "From: <sip:src@example.com>;tag=abc\n"
                         "To: <sip:srs@example.com>\n"
                         "Call-ID: broken-1@x\n"
                         "CSeq: 9 INVITE\n"
                         "Content-Type: application/sdp\n"
                         "\n"
                         "v=0\n");
  auto res = f.uas->RejectMalformed(raw, why, f.TrunkPeer());
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status_code, 400);
  EXPECT_EQ(res->call_id(), "broken-1@x");
  EXPECT_EQ(res->header("CSeq"), "9 INVITE");
  EXPECT_EQ(res->via_branch(), "z9hG4bK-77");
  EXPECT_TRUE(res->to_tag().has_value());
  EXPECT_NE(std::string(res->header("Warning").value_or("")).find("Content-Length is required"), std::string::npos);
  // It serializes and parses back as a well-formed response.
  auto back = sip::ParseMessage(sip::Serialize(*res));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->status_code, 400);

  // Compact header forms are understood too.
  std::string compact = Crlf("OPTIONS sip:srs@x SIP/2.0\nv: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-8\n"
                             "f: <sip:a@x>;tag=1\nt: <sip:b@x>\ni: compact@x\nCSeq: 1 OPTIONS\n\n");
  auto c = f.uas->RejectMalformed(compact, why, f.TrunkPeer());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->call_id(), "compact@x");

  // Missing a mandatory header (CSeq): nothing to address a response with.
  std::string no_cseq = Crlf("INVITE sip:srs@x SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-1\n"
                             "From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c@x\n\n");
  EXPECT_FALSE(f.uas->RejectMalformed(no_cseq, why, f.TrunkPeer()).has_value());
  std::string no_via = Crlf("INVITE sip:srs@x SIP/2.0\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c@x\nCSeq: 1 INVITE\n\n");
  EXPECT_FALSE(f.uas->RejectMalformed(no_via, why, f.TrunkPeer()).has_value());

  // Never answer a response or an ACK, nor a single line of garbage.
  std::string response = Crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-1\n"
                              "From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c@x\nCSeq: 1 INVITE\n\n");
  EXPECT_FALSE(f.uas->RejectMalformed(response, why, f.TrunkPeer()).has_value());
  std::string ack = Crlf("ACK sip:srs@x SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-1\n"
                         "From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c@x\nCSeq: 1 ACK\n\n");
  EXPECT_FALSE(f.uas->RejectMalformed(ack, why, f.TrunkPeer()).has_value());
  EXPECT_FALSE(f.uas->RejectMalformed("\x16\x03\x01 garbage without a line end", why, f.TrunkPeer()).has_value());
}

}  // namespace
}  // namespace verbatim::media::siprec
