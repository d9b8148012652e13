// End to end through every parser: a SIPREC INVITE over TCP, framed, parsed,
// its body split, SDP and metadata read, each labelled stream tied to the
// participant that sends it, and the 200 OK with a recvonly answer built.
#include <gtest/gtest.h>

#include <string>

#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/siprec/multipart.h"
#include "media/siprec/rs_metadata.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media {
namespace {

TEST(SiprecInvite, ParsesEndToEndAndAnswers) {
  std::string invite = testing::SiprecInvite();
  std::string stream = invite + "\r\n\r\n";  // the next bytes on the connection: a keep-alive

  auto frame = sip::FrameLength(stream);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  ASSERT_EQ(*frame, invite.size());
  sip::ParseOptions tcp;
  tcp.stream = true;
  auto msg = sip::ParseMessage(std::string_view(stream).substr(0, **frame), tcp);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->header("Require"), "siprec");

  auto body = siprec::SplitSiprecBody(*msg->header("Content-Type"), msg->body);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  ASSERT_TRUE(body->metadata);

  auto offer = sdp::ParseSdp(body->sdp);
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  auto md = siprec::ParseRecordingMetadata(*body->metadata);
  ASSERT_TRUE(md.ok()) << md.status().ToString();

  ASSERT_EQ(offer->media.size(), 2u);
  std::vector<std::string> who;
  for (const sdp::MediaDescription& m : offer->media) {
    ASSERT_TRUE(m.label);
    const siprec::MetadataParticipant* p = md->SenderOfLabel(*m.label);
    ASSERT_NE(p, nullptr) << *m.label;
    who.push_back(p->name + " " + p->aor);
    EXPECT_EQ(m.direction, sdp::Direction::kSendOnly);
  }
  EXPECT_EQ(who, (std::vector<std::string>{"Alice sip:alice@atlanta.com", "Bob sip:bob@biloxy.com"}));

  sdp::AnswerOptions opts;
  opts.address = "192.0.2.50";
  opts.session_id = "1";
  opts.ports = {20000, 20002};
  sip::Message ok = sip::MakeResponse(*msg, 200, "OK", "srs-1");
  ok.AddHeader("Contact", "<sip:recorder@192.0.2.50:5060;transport=tcp>");
  ok.AddHeader("Content-Type", "application/sdp");
  ok.body = sdp::BuildAnswer(*offer, opts);
  std::string wire = sip::Serialize(ok);

  auto reply = sip::ParseMessage(wire, tcp);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status_code, 200);
  EXPECT_EQ(reply->call_id(), msg->call_id());
  EXPECT_EQ(reply->from_tag(), msg->from_tag());
  EXPECT_EQ(reply->to_tag(), "srs-1");
  EXPECT_EQ(reply->via_branch(), "z9hG4bKdf6b622b648d9");
  auto answer = sdp::ParseSdp(reply->body);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_EQ(answer->media.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(answer->media[i].direction, sdp::Direction::kRecvOnly);
    EXPECT_EQ(answer->media[i].label, offer->media[i].label);
    EXPECT_EQ(answer->media[i].port, opts.ports[i]);
    EXPECT_EQ(answer->media[i].codecs[0].encoding, "PCMU");
  }
}

TEST(SiprecInvite, ToleratesBareLfFromASloppySrc) {
  std::string invite = testing::SiprecInvite();
  std::erase(invite, '\r');
  // The stated Content-Length still counts the CRs: the body now looks truncated.
  auto stale = sip::ParseMessage(invite);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(sip::SipErrorOf(stale.status()), sip::ParseError::kTruncatedBody);

  size_t body_at = invite.find("\n\n") + 2;
  size_t cl = invite.find("Content-Length: ") + 16;
  invite.replace(cl, invite.find('\n', cl) - cl, std::to_string(invite.size() - body_at));
  auto msg = sip::ParseMessage(invite);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  auto body = siprec::SplitSiprecBody(*msg->header("c"), msg->body);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto offer = sdp::ParseSdp(body->sdp);
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  EXPECT_EQ(offer->media.size(), 2u);
  auto md = siprec::ParseRecordingMetadata(*body->metadata);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->SenderOfLabel("2")->name, "Bob");
}

}  // namespace
}  // namespace verbatim::media
