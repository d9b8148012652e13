#include <gtest/gtest.h>

#include <set>
#include <string>

#include "media/sdp/sdp.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::sdp {
namespace {

constexpr std::string_view kHead =
    "v=0\r\n"
    "o=- 1 1 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n";

std::optional<ParseError> ErrorOf(std::string_view text) {
  auto r = ParseSdp(text);
  EXPECT_FALSE(r.ok()) << text;
  return SdpErrorOf(r.status());
}

TEST(Sdp, ParsesASiprecOfferWithTwoLabelledStreams) {
  auto sdp = ParseSdp(testing::kOfferSdp);  // LF line ends
  ASSERT_TRUE(sdp.ok()) << sdp.status().ToString();
  EXPECT_EQ(sdp->origin.username, "SRC");
  EXPECT_EQ(sdp->origin.session_id, "2890844526");
  EXPECT_EQ(sdp->origin.address, "198.51.100.1");
  EXPECT_EQ(sdp->session_name, "-");
  EXPECT_EQ(sdp->timing, "0 0");
  ASSERT_EQ(sdp->media.size(), 2u);

  const MediaDescription& a = sdp->media[0];
  EXPECT_EQ(a.media, "audio");
  EXPECT_EQ(a.port, 12240);
  EXPECT_EQ(a.proto, "RTP/AVP");
  EXPECT_EQ(a.label, "1");
  EXPECT_EQ(a.ptime, 20u);
  EXPECT_EQ(a.direction, Direction::kSendOnly);
  EXPECT_EQ(a.formats, (std::vector<std::string>{"0", "8", "101"}));
  ASSERT_EQ(a.codecs.size(), 3u);
  EXPECT_EQ(a.codecs[0], (Codec{0, "PCMU", 8000, 1, ""}));
  EXPECT_EQ(a.codecs[1], (Codec{8, "PCMA", 8000, 1, ""}));
  EXPECT_EQ(a.codecs[2], (Codec{101, "telephone-event", 8000, 1, "0-16"}));
  EXPECT_TRUE(IsTelephoneEvent(a.codecs[2]));
  ASSERT_NE(sdp->ConnectionFor(a), nullptr);
  EXPECT_EQ(sdp->ConnectionFor(a)->address, "198.51.100.1");

  const MediaDescription& b = sdp->media[1];
  EXPECT_EQ(b.label, "2");
  EXPECT_EQ(b.port, 12242);
  // PT 0 and 8 need no rtpmap: the RFC 3551 static table names them.
  EXPECT_EQ(b.codecs[0], (Codec{8, "PCMA", 8000, 1, ""}));
  EXPECT_EQ(b.codecs[1], (Codec{0, "PCMU", 8000, 1, ""}));
}

TEST(Sdp, SessionDirectionIsTheDefaultAndMediaOverrides) {
  std::string text = std::string(kHead) +
                     "a=sendonly\r\n"
                     "m=audio 4000 RTP/AVP 0\r\n"
                     "m=audio 4002 RTP/AVP 0\r\n"
                     "a=recvonly\r\n"
                     "m=audio 4004 RTP/AVP 0\r\n"
                     "a=inactive\r\n"
                     "m=audio 4006 RTP/AVP 0\r\n"
                     "a=sendrecv\r\n";
  auto sdp = ParseSdp(text);
  ASSERT_TRUE(sdp.ok()) << sdp.status().ToString();
  EXPECT_EQ(sdp->direction, Direction::kSendOnly);
  EXPECT_EQ(sdp->media[0].direction, Direction::kSendOnly);
  EXPECT_EQ(sdp->media[1].direction, Direction::kRecvOnly);
  EXPECT_EQ(sdp->media[2].direction, Direction::kInactive);
  EXPECT_EQ(sdp->media[3].direction, Direction::kSendRecv);

  auto plain = ParseSdp(std::string(kHead) + "m=audio 4000 RTP/AVP 0\r\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->direction, std::nullopt);
  EXPECT_EQ(plain->media[0].direction, Direction::kSendRecv);  // RFC 8866 §6.7 default
  EXPECT_STREQ(ToString(Direction::kRecvOnly), "recvonly");
}

TEST(Sdp, UnknownCodecsOnlyYieldNoChoiceAndARejectedStream) {
  std::string text = std::string(kHead) +
                     "m=audio 4000 RTP/AVP 96 97 34\r\n"
                     "a=rtpmap:96 opus/48000/2\r\n"
                     "a=rtpmap:97 AMR-WB/16000\r\n";
  auto sdp = ParseSdp(text);
  ASSERT_TRUE(sdp.ok()) << sdp.status().ToString();
  const MediaDescription& m = sdp->media[0];
  EXPECT_EQ(m.codecs[0], (Codec{96, "opus", 48000, 2, ""}));
  EXPECT_EQ(m.codecs[2], (Codec{34, "", 0, 1, ""}));  // unassigned static type, no rtpmap
  EXPECT_EQ(ChooseCodec(m), std::nullopt);

  AnswerOptions opts;
  opts.address = "192.0.2.99";
  opts.ports = {30000};
  SessionDescription answer = MakeAnswer(*sdp, opts);
  ASSERT_EQ(answer.media.size(), 1u);
  EXPECT_EQ(answer.media[0].port, 0);
  EXPECT_EQ(answer.media[0].formats, m.formats);
  auto reparsed = ParseSdp(Serialize(answer));
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  EXPECT_EQ(reparsed->media[0].port, 0);
}

TEST(Sdp, ChoosesCodecsByOurPreference) {
  auto sdp = ParseSdp(std::string(kHead) +
                      "m=audio 4000 RTP/AVP 8 0 11 10 97 98\r\n"
                      "a=rtpmap:97 L16/16000\r\n"
                      "a=rtpmap:98 L16/8000/2\r\n");
  ASSERT_TRUE(sdp.ok()) << sdp.status().ToString();
  const MediaDescription& m = sdp->media[0];
  EXPECT_EQ(ChooseCodec(m)->payload_type, 0);  // PCMU first, though offered second
  std::string_view pcma_first[] = {"pcma", "PCMU"};
  EXPECT_EQ(ChooseCodec(m, pcma_first)->payload_type, 8);
  std::string_view l16[] = {"L16"};
  EXPECT_EQ(ChooseCodec(m, l16)->payload_type, 11);  // PT 10 is stereo: never taken
  std::string_view l16_16k[] = {"L16/16000"};
  EXPECT_EQ(ChooseCodec(m, l16_16k)->payload_type, 97);
  std::string_view l16_8k[] = {"L16/8000"};
  EXPECT_EQ(ChooseCodec(m, l16_8k), std::nullopt);  // only offered as stereo
  EXPECT_EQ(StaticPayloadType(10), (Codec{10, "L16", 44100, 2, ""}));
  EXPECT_EQ(StaticPayloadType(11), (Codec{11, "L16", 44100, 1, ""}));
  EXPECT_EQ(StaticPayloadType(96), std::nullopt);
}

TEST(Sdp, FindsTelephoneEventAtTheCodecRate) {
  auto sdp = ParseSdp(std::string(kHead) +
                      "m=audio 4000 RTP/AVP 97 101 102\r\n"
                      "a=rtpmap:97 L16/16000\r\n"
                      "a=rtpmap:101 telephone-event/8000\r\n"
                      "a=rtpmap:102 telephone-event/16000\r\n"
                      "a=fmtp:102 0-15\r\n");
  ASSERT_TRUE(sdp.ok()) << sdp.status().ToString();
  EXPECT_EQ(FindTelephoneEvent(sdp->media[0], 16000)->payload_type, 102);
  EXPECT_EQ(FindTelephoneEvent(sdp->media[0], 8000)->payload_type, 101);
  EXPECT_EQ(FindTelephoneEvent(sdp->media[0], 48000), std::nullopt);
}

TEST(Sdp, AnswerIsRecvOnlyWithOurAddressAndReparses) {
  auto offer = ParseSdp(testing::kOfferSdp);
  ASSERT_TRUE(offer.ok());
  AnswerOptions opts;
  opts.address = "203.0.113.5";
  opts.session_id = "42";
  opts.session_version = 7;
  opts.ports = {40000, 40002};
  std::string text = BuildAnswer(*offer, opts);
  EXPECT_NE(text.find("\r\na=recvonly\r\n"), std::string::npos);
  EXPECT_EQ(text.find('\n', 0), text.find("\r\n") + 1);  // CRLF

  auto answer = ParseSdp(text);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString() << "\n" << text;
  EXPECT_EQ(answer->origin.username, "verbatim");
  EXPECT_EQ(answer->origin.session_id, "42");
  EXPECT_EQ(answer->origin.session_version, "7");
  EXPECT_EQ(answer->connection->address, "203.0.113.5");
  ASSERT_EQ(answer->media.size(), 2u);
  const MediaDescription& a = answer->media[0];
  EXPECT_EQ(a.port, 40000);
  EXPECT_EQ(a.direction, Direction::kRecvOnly);
  EXPECT_EQ(a.label, "1");
  EXPECT_EQ(a.ptime, 20u);
  ASSERT_EQ(a.codecs.size(), 2u);
  EXPECT_EQ(a.codecs[0], (Codec{0, "PCMU", 8000, 1, ""}));
  EXPECT_EQ(a.codecs[1], (Codec{101, "telephone-event", 8000, 1, "0-16"}));
  EXPECT_EQ(answer->media[1].port, 40002);
  EXPECT_EQ(answer->media[1].label, "2");
  EXPECT_EQ(answer->media[1].codecs[0].payload_type, 0);  // our preference, not the offer's order
}

TEST(Sdp, AnswerRejectsStreamsWithoutAPortAndMirrorsInactive) {
  auto offer = ParseSdp(std::string(kHead) +
                        "m=audio 4000 RTP/AVP 0\r\na=inactive\r\na=label:1\r\n"
                        "m=audio 4002 RTP/AVP 0\r\na=recvonly\r\n"
                        "m=video 4004 RTP/AVP 31\r\n"
                        "m=audio 4006 RTP/AVP 0\r\n");
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  AnswerOptions opts;
  opts.address = "2001:db8::5";
  opts.addr_type = "IP6";
  opts.ports = {5000, 5002, 5004};  // none for the fourth
  auto answer = ParseSdp(BuildAnswer(*offer, opts));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->connection->addr_type, "IP6");
  EXPECT_EQ(answer->media[0].port, 5000);
  EXPECT_EQ(answer->media[0].direction, Direction::kInactive);  // a pause (re-INVITE a=inactive)
  EXPECT_EQ(answer->media[1].direction, Direction::kInactive);  // the offerer wants to receive: we never send
  EXPECT_EQ(answer->media[2].port, 0);                          // video
  EXPECT_EQ(answer->media[2].media, "video");
  EXPECT_EQ(answer->media[3].port, 0);                          // no port given
}

TEST(Sdp, KeepsOtherAttributesAndRoundTrips) {
  std::string text = std::string(kHead) +
                     "b=AS:64\r\n"
                     "a=tool:src 1.0\r\n"
                     "m=audio 4000/2 RTP/AVP 0 96\r\n"
                     "c=IN IP4 192.0.2.20\r\n"
                     "a=rtpmap:96 L16/16000\r\n"
                     "a=fmtp:96 foo=bar\r\n"
                     "a=rtcp:4001 IN IP4 192.0.2.20\r\n"
                     "a=ptime:20.0\r\n"
                     "a=x-vendor\r\n"
                     "a=label:main\r\n";
  auto sdp = ParseSdp(text);
  ASSERT_TRUE(sdp.ok()) << sdp.status().ToString();
  const MediaDescription& m = sdp->media[0];
  EXPECT_EQ(m.port_count, 2);
  EXPECT_EQ(m.rtcp, "4001 IN IP4 192.0.2.20");
  EXPECT_EQ(m.ptime, 20u);
  EXPECT_EQ(m.label, "main");
  EXPECT_EQ(sdp->ConnectionFor(m)->address, "192.0.2.20");
  ASSERT_EQ(m.attributes.size(), 1u);
  EXPECT_EQ(m.attributes[0].name, "x-vendor");
  ASSERT_EQ(sdp->attributes.size(), 1u);
  EXPECT_EQ(sdp->attributes[0].value, "src 1.0");

  auto again = ParseSdp(Serialize(*sdp));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->media[0].codecs, m.codecs);
  EXPECT_EQ(again->media[0].attributes.size(), 1u);
  EXPECT_EQ(again->media[0].label, "main");
  EXPECT_EQ(again->media[0].port_count, 2);
  EXPECT_EQ(Serialize(*again), Serialize(*sdp));
}

TEST(Sdp, EveryParseErrorIsReachableAndNamed) {
  std::string head(kHead);
  std::string many_lines = head;
  for (int i = 0; i < 1000; ++i) many_lines += "a=x\r\n";
  std::string many_media = head;
  for (int i = 0; i < 65; ++i) many_media += "m=audio 4000 RTP/AVP 0\r\n";
  struct Case {
    ParseError error;
    std::string text;
    std::string code;
  };
  std::vector<Case> cases = {
      {ParseError::kEmpty, "\r\n\r\n", "sdp.empty"},
      {ParseError::kTooLarge, std::string(kMaxSdpBytes + 1, 'a'), "sdp.too.large"},
      {ParseError::kTooManyLines, many_lines, "sdp.too.many.lines"},
      {ParseError::kLineTooLong, head + "a=x:" + std::string(5000, 'y') + "\r\n", "sdp.line.too.long"},
      {ParseError::kBadLine, head + "this is not sdp\r\n", "sdp.bad.line"},
      {ParseError::kBadVersion, "v=1\r\n", "sdp.bad.version"},
      {ParseError::kMissingField, "v=0\r\ns=-\r\n", "sdp.missing.field"},
      {ParseError::kBadOrigin, "v=0\r\no=- 1 1 IN IP4\r\n", "sdp.bad.origin"},
      {ParseError::kBadConnection, head + "m=audio 4000 RTP/AVP 0\r\nc=IN IP4\r\n", "sdp.bad.connection"},
      {ParseError::kMissingConnection, "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
       "sdp.missing.connection"},
      {ParseError::kBadMedia, head + "m=audio 70000 RTP/AVP 0\r\n", "sdp.bad.media"},
      {ParseError::kTooManyMedia, many_media, "sdp.too.many.media"},
      {ParseError::kBadAttribute, head + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", "sdp.bad.attribute"},
  };
  std::set<ParseError> covered;
  std::set<std::string> names;
  for (const Case& c : cases) {
    auto r = ParseSdp(c.text);
    ASSERT_FALSE(r.ok()) << ToString(c.error);
    EXPECT_EQ(SdpErrorOf(r.status()), c.error) << r.status().ToString();
    EXPECT_EQ(r.status().code(), c.code);
    covered.insert(c.error);
    names.insert(ToString(c.error));
  }
  for (int i = 0; std::string_view(ToString(static_cast<ParseError>(i))) != "?"; ++i) {
    EXPECT_TRUE(covered.count(static_cast<ParseError>(i))) << ToString(static_cast<ParseError>(i));
  }
  EXPECT_EQ(names.size(), covered.size());
}

TEST(Sdp, RejectsMalformedFields) {
  std::string head(kHead);
  EXPECT_EQ(ErrorOf(""), ParseError::kEmpty);
  EXPECT_EQ(ErrorOf("o=- 1 1 IN IP4 h\r\n"), ParseError::kBadVersion);
  EXPECT_EQ(ErrorOf(head + "v=0\r\n"), ParseError::kBadVersion);
  EXPECT_EQ(ErrorOf("v=0\r\no=- 1 1 IN IP4 h\r\n"), ParseError::kMissingField);
  EXPECT_EQ(ErrorOf(head + "t=now\r\n"), ParseError::kBadLine);
  EXPECT_EQ(ErrorOf(head + "A=b\r\n"), ParseError::kBadLine);
  EXPECT_EQ(ErrorOf(head + std::string("a=x\0y\r\n", 7)), ParseError::kBadLine);
  EXPECT_EQ(ErrorOf(head + "c=IN IPX 1.2.3.4\r\n"), ParseError::kBadConnection);
  EXPECT_EQ(ErrorOf(head + "m=audio 4000 RTP/AVP\r\n"), ParseError::kBadMedia);
  EXPECT_EQ(ErrorOf(head + "m=audio 4000 RTP/AVP 128\r\n"), ParseError::kBadMedia);
  EXPECT_EQ(ErrorOf(head + "m=audio 4000 RTP/AVP PCMU\r\n"), ParseError::kBadMedia);
  EXPECT_EQ(ErrorOf(head + "m=audio 4000/0 RTP/AVP 0\r\n"), ParseError::kBadMedia);
  std::string formats;
  for (int i = 0; i < 128; ++i) formats += " " + std::to_string(i);
  EXPECT_TRUE(ParseSdp(head + "m=audio 4000 RTP/AVP" + formats + "\r\n").ok());
  EXPECT_EQ(ErrorOf(head + "m=audio 4000 RTP/AVP" + formats + " 0\r\n"), ParseError::kBadMedia);
  std::string m = head + "m=audio 4000 RTP/AVP 0\r\n";
  EXPECT_EQ(ErrorOf(m + "a=rtpmap:0 PCMU/0\r\n"), ParseError::kBadAttribute);
  EXPECT_EQ(ErrorOf(m + "a=rtpmap:0 PCMU/8000/0\r\n"), ParseError::kBadAttribute);
  EXPECT_EQ(ErrorOf(m + "a=rtpmap:200 PCMU/8000\r\n"), ParseError::kBadAttribute);
  EXPECT_EQ(ErrorOf(m + "a=fmtp:x y\r\n"), ParseError::kBadAttribute);
  EXPECT_EQ(ErrorOf(m + "a=ptime:fast\r\n"), ParseError::kBadAttribute);
  EXPECT_EQ(ErrorOf(m + "a=label:\r\n"), ParseError::kBadAttribute);
  EXPECT_EQ(ErrorOf(m + "a=:x\r\n"), ParseError::kBadAttribute);
  // Non-RTP protocols keep their formats as tokens and need no codecs.
  auto msrp = ParseSdp(head + "m=message 7394 TCP/MSRP *\r\n");
  ASSERT_TRUE(msrp.ok()) << msrp.status().ToString();
  EXPECT_TRUE(msrp->media[0].codecs.empty());
  // A disabled stream needs no connection.
  EXPECT_TRUE(ParseSdp("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n").ok());
}

}  // namespace
}  // namespace verbatim::media::sdp
