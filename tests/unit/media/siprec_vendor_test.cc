// What real SRCs send that deviates from RFC 7865/7866 in harmless ways, one
// test per deviation: each INVITE goes through the whole UAS (parse, split,
// SDP, metadata, admission) and must be recorded. Samples are shortened from
// public captures, cited by vendor; most come from the test data of the
// drachtio SIPREC recording server (github.com/drachtio/drachtio-siprec-recording-server,
// test/data/*.txt), the Ribbon/Sonus and AudioCodes INVITEs from public
// parser tests of SIPREC recorders. Only what is unsafe or meaningless is refused.
#include <gtest/gtest.h>

#include "unit/media/siprec_uas_fixture.h"

namespace verbatim::media::siprec {
namespace {

using namespace testing_uas;  // NOLINT: the fixture's helpers, in a test file
using testing::Crlf;

// A full INVITE on the wire: `head` lines (LF, made CRLF), then the body as
// given (its own line ends kept), with a Content-Length that matches it.
sip::Message Wire(std::string head, const std::string& body, std::string_view content_length_sep = " ") {
  std::string wire = Crlf(head);
  wire += "Content-Length:" + std::string(content_length_sep) + std::to_string(body.size()) + "\r\n\r\n" + body;
  return Parse(wire);
}

std::string Head(std::string_view extra, std::string_view content_type, std::string call_id = "vendor-1@x") {
  return "INVITE sip:srs@192.0.2.50 SIP/2.0\n"
         "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-v1\n"
         "From: <sip:src@198.51.100.1>;tag=v1\n"
         "To: <sip:srs@192.0.2.50>\n"
         "Call-ID: " +
         call_id +
         "\n"
         "CSeq: 1 INVITE\n"
         "Max-Forwards: 70\n" +
         std::string(extra) + "Content-Type: " + std::string(content_type) + "\n";
}

constexpr std::string_view kSrc = "Require: siprec\nContact: <sip:src@198.51.100.1:5060>;+sip.src\n";

// Asserts the INVITE was recorded with `streams` channels; returns the answer.
sdp::SessionDescription ExpectRecorded(Fixture& f, const sip::Message& invite, size_t streams) {
  UasOutput out = f.Handle(invite);
  EXPECT_EQ(Code(out), 200) << Header(out, "Warning");
  EXPECT_EQ(f.streams.specs.size(), streams);
  EXPECT_EQ(f.control.attached.size(), 1u);
  if (out.responses.empty()) return {};
  auto answer = sdp::ParseSdp(out.responses[0].body);
  EXPECT_TRUE(answer.ok()) << out.responses[0].body;
  return answer.ok() ? *answer : sdp::SessionDescription{};
}

std::vector<std::string> Names(const Fixture& f) {
  std::vector<std::string> out;
  if (f.control.attached.empty()) return out;
  for (const auto& p : f.control.attached[0].participants) out.push_back(p.name);
  return out;
}

constexpr std::string_view kTwoStreamSdp =
    "v=0\no=SRC 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
    "m=audio 10292 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=sendonly\na=label:1\n"
    "m=audio 10294 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=sendonly\na=label:2\n";

constexpr std::string_view kTwoParticipantMetadata =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\n"
    "<datamode>complete</datamode>\n<session session_id=\"s1\"></session>\n"
    "<participant participant_id=\"p1\"><nameID aor=\"sip:alice@x\"><name>Alice</name></nameID></participant>\n"
    "<participant participant_id=\"p2\"><nameID aor=\"sip:bob@x\"><name>Bob</name></nameID></participant>\n"
    "<stream stream_id=\"t1\" session_id=\"s1\"><label>1</label></stream>\n"
    "<stream stream_id=\"t2\" session_id=\"s1\"><label>2</label></stream>\n"
    "<participantstreamassoc participant_id=\"p1\"><send>t1</send></participantstreamassoc>\n"
    "<participantstreamassoc participant_id=\"p2\"><send>t2</send></participantstreamassoc>\n</recording>\n";

std::string Multipart(std::string_view boundary, std::string_view sdp, std::string_view metadata,
                      std::string_view metadata_type = "application/rs-metadata+xml") {
  return Crlf("--" + std::string(boundary) + "\nContent-Type: application/sdp\n\n" + std::string(sdp) + "--" +
              std::string(boundary) + "\nContent-Type: " + std::string(metadata_type) +
              "\nContent-Disposition: recording-session\n\n" + std::string(metadata) + "--" + std::string(boundary) +
              "--\n");
}

TEST(SiprecVendor, CiscoCubePreambleDispositionParamsAndAThirdPart) {
  // Cisco CUBE (drachtio cisco-siprec-offer.txt): a blank preamble line, the SDP
  // part's "Content-Disposition: session;handling=required", c= at both levels,
  // and a third part (application/gtd, ISUP data) we do not use.
  Fixture f;
  const std::string sdp =
      "v=0\no=CiscoSystemsSIP-GW-UserAgent 1247 9367 IN IP4 198.51.100.1\ns=SIP Call\nc=IN IP4 198.51.100.1\nt=0 0\n"
      "m=audio 10292 RTP/AVP 0 101\nc=IN IP4 198.51.100.1\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n"
      "a=fmtp:101 0-16\na=ptime:20\na=sendonly\na=label:1\n"
      "m=audio 10294 RTP/AVP 0 101\nc=IN IP4 198.51.100.1\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n"
      "a=fmtp:101 0-16\na=ptime:20\na=sendonly\na=label:2\n";
  const std::string body = Crlf(
      "\n--uniqueBoundary\nContent-Disposition: session;handling=required\n"
      "Content-Type: application/sdp\n\n" +
      sdp +
      "\n--uniqueBoundary\nContent-Disposition: recording-session\n"
      "Content-Type: application/rs-metadata+xml\n\n" +
      std::string(kTwoParticipantMetadata) +
      "\n--uniqueBoundary\nContent-Disposition: signal;handling=optional\n"
      "Content-Type: application/gtd\n\nIAM,\nGCI,91036128574411e789f9d0ff56c3c658\n"
      "--uniqueBoundary--\n");
  ExpectRecorded(f, Wire(Head(kSrc, "multipart/mixed;boundary=uniqueBoundary"), body), 2);
  EXPECT_EQ(Names(f), (std::vector<std::string>{"Alice", "Bob"}));
}

TEST(SiprecVendor, RibbonSonusPrefixedNamespaceMediaLevelConnectionAndTimerWithoutRefresher) {
  // Ribbon/Sonus SBC: metadata in a "tns:" prefix with the draft namespace
  // (no ":1"), c= only per m= line, a=label before a=rtpmap, MIME-Version,
  // "Content-Length:  3304" (two spaces), "Session-Expires: 1800" without a
  // refresher and "Supported: timer,100rel".
  Fixture f;
  const std::string sdp =
      "v=0\no=Sonus_UAC 513085 921039 IN IP4 198.51.100.1\ns=SIP Media Capabilities\nt=0 0\n"
      "m=audio 49222 RTP/AVP 0\nc=IN IP4 198.51.100.2\na=label:1\na=rtpmap:0 PCMU/8000\n"
      "a=sendonly\na=maxptime:20\n"
      "m=audio 49196 RTP/AVP 0\nc=IN IP4 198.51.100.2\na=label:2\na=rtpmap:0 PCMU/8000\n"
      "a=sendonly\na=maxptime:20\n";
  const std::string meta =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tns:recording xmlns:tns='urn:ietf:params:xml:ns:recording'>\n"
      "<tns:datamode>complete</tns:datamode>\n<tns:session session_id=\"S\"></tns:session>\n"
      "<tns:participant participant_id=\"P1\"><tns:nameID aor=\"5083084809@198.51.100.55\">"
      "<tns:name xml:lang=\"en\">5083084809</tns:name></tns:nameID></tns:participant>\n"
      "<tns:participant participant_id=\"P2\"><tns:nameID aor=\"2245096042@198.51.100.72\">"
      "<tns:name xml:lang=\"en\"> </tns:name></tns:nameID></tns:participant>\n"
      "<tns:stream stream_id=\"T1\" session_id=\"S\"><tns:label>1</tns:label></tns:stream>\n"
      "<tns:stream stream_id=\"T2\" session_id=\"S\"><tns:label>2</tns:label></tns:stream>\n"
      "<tns:participantstreamassoc "
      "participant_id=\"P1\"><tns:send>T2</tns:send><tns:recv>T1</tns:recv></tns:participantstreamassoc>\n"
      "<tns:participantstreamassoc "
      "participant_id=\"P2\"><tns:send>T1</tns:send><tns:recv>T2</tns:recv></tns:participantstreamassoc>\n"
      "</tns:recording>\n";
  const std::string head = Head(
      "Allow: INVITE,ACK,CANCEL,BYE,REGISTER,REFER,INFO,SUBSCRIBE,NOTIFY,PRACK,UPDATE,OPTIONS,MESSAGE,PUBLISH\n"
      "Accept: application/sdp, application/rs-metadata-request\n"
      "Contact: \"SIPREC-SRC\" <sip:SIPREC-SRC@198.51.100.1:5060>;+sip.src\nRequire: siprec\n"
      "Supported: timer,100rel\nSession-Expires: 1800\nMin-SE: 90\nMIME-Version: 1.0\n",
      "multipart/mixed;boundary=sonus-content-delim");
  const std::string body =
      Crlf("--sonus-content-delim\nContent-Disposition: session; handling=required\nContent-Type: application/sdp\n\n" +
           sdp +
           "\n--sonus-content-delim\nContent-Disposition: recording-session\n"
           "Content-Type: application/rs-metadata+xml\n\n" +
           meta + "--sonus-content-delim--\n");
  UasOutput out = f.Handle(Wire(head, body, "  "));
  ASSERT_EQ(Code(out), 200) << Header(out, "Warning");
  EXPECT_EQ(Header(out, "Session-Expires"), "1800;refresher=uac") << "no refresher asked: the SRC refreshes";
  // Participant 2 of the metadata sends label 1: names follow the associations, not the order.
  EXPECT_EQ(Names(f), (std::vector<std::string>{"2245096042@198.51.100.72", "5083084809"}))
      << "a blank <name> falls back to the AOR";
  EXPECT_EQ(f.streams.specs[0].source.address, ParseIpAddress("198.51.100.2")) << "the media-level c=";
}

TEST(SiprecVendor, OracleAcmeDraftEraMetadataAndAClosingDelimiterWithTrailingSpace) {
  // Oracle/Acme Packet SBC (drachtio acme-siprec-offer.txt, avaya-siprec-offer.txt):
  // draft-era metadata (participant@id with <send> inside, stream@id), the
  // namespace without ":1", numeric labels like 16777227, a=maxptime:150, and
  // "--unique-boundary-1-- " with a trailing space.
  Fixture f;
  const std::string sdp =
      "v=0\no=- 20076 595552 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
      "m=audio 20106 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=label:16777227\na=sendonly\n"
      "m=audio 20110 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=maxptime:150\na=label:16777228\na=sendonly\n";
  const std::string meta =
      "<?xml version='1.0' encoding='UTF-8'?>\n<recording xmlns='urn:ietf:params:xml:ns:recording'>\n"
      "<datamode>complete</datamode>\n<session id=\"AavRXwIIQj1Q39eJulTipQ==\"></session>\n"
      "<participant id=\"fSD3\" session=\"AavRXwIIQj1Q39eJulTipQ==\"><nameID aor=\"sip:9000@198.51.100.102\">"
      "<name>9000</name></nameID><send>Q4O8</send>"
      "<extensiondata "
      "xmlns:apkt=\"http://acmepacket.com/siprec/extensiondata\"><apkt:callingParty>true</apkt:callingParty>"
      "</extensiondata></participant>\n"
      "<participant id=\"Ebcc\" session=\"AavRXwIIQj1Q39eJulTipQ==\"><nameID aor=\"sip:1002@198.51.100.10\">"
      "<name>1002</name></nameID><send>l1Ny</send></participant>\n"
      "<stream id=\"Q4O8\" session=\"AavRXwIIQj1Q39eJulTipQ==\"><label>16777227</label><mode>separate</mode></stream>\n"
      "<stream id=\"l1Ny\" session=\"AavRXwIIQj1Q39eJulTipQ==\"><label>16777228</label><mode>separate</mode></stream>\n"
      "</recording>\n";
  std::string body = Multipart("unique-boundary-1", sdp, meta);
  body.replace(body.rfind("--\r\n"), 4, "-- \r\n");
  ExpectRecorded(f, Wire(Head(kSrc, "multipart/mixed;boundary=unique-boundary-1"), body), 2);
  EXPECT_EQ(Names(f), (std::vector<std::string>{"9000", "1002"}));
}

TEST(SiprecVendor, BroadWorksMetadataBeforeSdpWithPartContentLengths) {
  // BroadWorks (drachtio broadworks-offer.txt): the metadata part first, each
  // part with its own Content-Length, "Content-Type:application/…" without a
  // space, one mixed stream with PCMA preferred and G722/G729 offered too.
  Fixture f;
  const std::string sdp =
      "v=0\no=BroadWorks 170535024 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
      "m=audio 22294 RTP/AVP 8 101 0 9 18\na=rtpmap:0 PCMU/8000\na=rtpmap:9 G722/8000\n"
      "a=rtpmap:8 PCMA/8000\na=rtpmap:18 G729/8000\na=rtpmap:101 telephone-event/8000\n"
      "a=fmtp:101 0-15\na=ptime:20\na=sendonly\na=label:1\n";
  const std::string meta =
      "<?xml version=\"1.0\"?><recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">"
      "<datamode>complete</datamode></recording>\n";
  const std::string body = Crlf(
      "--UniqueBroadWorksBoundary\nContent-Type:application/rs-metadata+xml\n"
      "Content-Disposition:recording-session\nContent-Length:" +
      std::to_string(meta.size()) + "\n\n" + meta +
      "--UniqueBroadWorksBoundary\nContent-Type: application/sdp\n"
      "Content-Length: 300\n\n" +
      sdp + "\n--UniqueBroadWorksBoundary--\n");
  sdp::SessionDescription answer =
      ExpectRecorded(f, Wire(Head(kSrc, "multipart/mixed;boundary=UniqueBroadWorksBoundary"), body), 1);
  ASSERT_EQ(answer.media.size(), 1u);
  EXPECT_EQ(answer.media[0].codecs[0].encoding, "PCMU") << "our preference among what is offered";
}

TEST(SiprecVendor, AudioCodesRsMetadataWithoutXmlSuffixAndNoFinalLineEnd) {
  // AudioCodes Mediant SBC: "Content-Type: application/rs-metadata" (the draft
  // name, no +xml), "a=fmtp:101 0-15,16", rtpmap after direction and label, a
  // Via with ";alias", and the body ending right after "--boundary--".
  Fixture f;
  const std::string sdp =
      "v=0\no=AudiocodesGW 1194408899 488170781 IN IP4 198.51.100.1\ns=SBC-Call\n"
      "c=IN IP4 198.51.100.1\nt=0 0\n"
      "m=audio 7232 RTP/AVP 0 101\nc=IN IP4 198.51.100.1\na=ptime:20\na=sendonly\na=label:1\n"
      "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15,16\n"
      "m=audio 7236 RTP/AVP 0 101\nc=IN IP4 198.51.100.1\na=ptime:20\na=sendonly\na=label:2\n"
      "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15,16\n";
  std::string body = Multipart("boundary_ac15d5", sdp, kTwoParticipantMetadata, "application/rs-metadata");
  body.resize(body.size() - 2);  // no CRLF after the closing delimiter
  std::string head = Head(kSrc, "multipart/mixed;boundary=boundary_ac15d5");
  head.replace(head.find(";branch"), 0, ";alias");
  ExpectRecorded(f, Wire(head, body), 2);
  EXPECT_EQ(Names(f), (std::vector<std::string>{"Alice", "Bob"}));
  EXPECT_TRUE(f.streams.specs[0].events.has_value()) << "telephone-event recognised";
}

TEST(SiprecVendor, OpenSipsOfferWithoutAnyConnectionLine) {
  // OpenSIPS siprec module (drachtio connectel-offer.txt): o= … 0.0.0.0 and no
  // c= at all. RTP is then accepted from the address the INVITE came from.
  Fixture f;
  const std::string sdp =
      "v=0\no=- 1516628962 0 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
      "m=audio 35011 RTP/AVP 0 8 3 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n"
      "a=rtpmap:3 GSM/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n"
      "a=maxptime:150\na=label:1\na=sendonly\n"
      "m=audio 35012 RTP/AVP 8 0 101\na=rtpmap:8 PCMA/8000\na=rtpmap:0 PCMU/8000\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=maxptime:150\na=label:2\na=sendonly\n";
  UasOutput out = f.uas->Handle(Wire(Head(kSrc, "multipart/mixed;boundary=OSS-unique-boundary-42"),
                                     Multipart("OSS-unique-boundary-42", sdp, kTwoParticipantMetadata)),
                                f.TrunkPeer("198.51.100.33"));
  ASSERT_EQ(Code(out), 200) << Header(out, "Warning");
  ASSERT_EQ(f.streams.specs.size(), 2u);
  EXPECT_EQ(f.streams.specs[0].source.address, ParseIpAddress("198.51.100.33"));
}

TEST(SiprecVendor, AsteriskIntradoTwoAcceptHeadersCamelCaseDataModeAndEmptyName) {
  // Intrado VIPER on Asterisk (drachtio intrado-siprec-invite.txt): two Accept
  // headers, "Supported: siprec", "<dataMode>", an empty <name>, one stream,
  // a participant associated as sender and receiver of the same stream.
  Fixture f;
  const std::string sdp =
      "v=0\no=SRC 1518687853 1518687853 IN IP4 198.51.100.1\ns=Asterisk PBX 13.6.0\n"
      "c=IN IP4 198.51.100.1\nt=0 0\nm=audio 11854 RTP/AVP 0 8 101\na=rtpmap:0 PCMU/8000\n"
      "a=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n"
      "a=maxptime:150\na=sendonly\na=label:1\n";
  const std::string meta =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\n"
      "<dataMode>complete</dataMode>\n<session session_id=\"S\"></session>\n"
      "<stream stream_id=\"T\"\nsession_id=\"S\">\n<label>1</label>\n</stream>\n"
      "<participant participant_id=\"P\">\n<nameID aor=\"4058327108@198.51.100.136:5060\">\n"
      "<name xml:lang=\"en\"></name>\n</nameID>\n<channel>SIP/911202-073e</channel>\n<role>calling</role>\n"
      "</participant>\n<participantstreamassoc\nparticipant_id=\"P\">\n<send>T</send>\n<recv>T</recv>\n"
      "</participantstreamassoc>\n</recording>\n";
  const std::string head = Head(
      "Contact: <sip:7374@198.51.100.1:5060;transport=TCP>;+sip.src\nRequire: siprec\n"
      "Accept: application/rs-metadata\nAccept: application/rs-metadata-request\n"
      "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, UPDATE\nSupported: siprec\nCall-Info: (null)\n",
      "multipart/mixed;boundary=Itro-wXyZ-bdry");
  ExpectRecorded(f, Wire(head, Crlf("\n") + Multipart("Itro-wXyZ-bdry", sdp, meta, "application/rs-metadata")), 1);
  EXPECT_EQ(Names(f), std::vector<std::string>{"4058327108@198.51.100.136:5060"});
}

TEST(SiprecVendor, SemsDirectionBothAttributeNextToSendonly) {
  // SEMS (drachtio procomm-siprec-offer.txt): "a=direction:both" (COMEDIA)
  // beside a=sendonly, labels a_leg/b_leg, application/rs-metadata.
  Fixture f;
  const std::string sdp =
      "v=0\no=sems 1022740575 691822371 IN IP4 198.51.100.1\ns=sems\nc=IN IP4 198.51.100.1\nt=0 0\n"
      "m=audio 12654 RTP/AVP 8\nc=IN IP4 198.51.100.1\na=rtpmap:8 PCMA/8000\na=direction:both\n"
      "a=sendonly\na=label:a_leg\n"
      "m=audio 12686 RTP/AVP 8\nc=IN IP4 198.51.100.1\na=rtpmap:8 PCMA/8000\na=direction:both\n"
      "a=sendonly\na=label:b_leg\n";
  sdp::SessionDescription answer =
      ExpectRecorded(f,
                     Wire(Head(kSrc, "multipart/mixed;boundary=2CD2A2E9"),
                          Multipart("2CD2A2E9", sdp, "<recording xmlns='urn:ietf:params:xml:ns:recording:1'/>\n",
                                    "application/rs-metadata")),
                     2);
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(*answer.media[1].label, "b_leg");
  EXPECT_EQ(answer.media[0].direction, sdp::Direction::kRecvOnly);
}

TEST(SiprecVendor, LfOnlyMultipartBody) {
  // SRCs built on text templates send bare LF inside the body (the SIP head is CRLF).
  Fixture f;
  std::string body = Multipart("lf-only", kTwoStreamSdp, kTwoParticipantMetadata);
  std::erase(body, '\r');
  ExpectRecorded(f, Wire(Head(kSrc, "multipart/mixed;boundary=lf-only"), body), 2);
  EXPECT_EQ(Names(f), (std::vector<std::string>{"Alice", "Bob"}));
}

TEST(SiprecVendor, ContentTypeWithQuotedBoundaryAndExtraParameters) {
  // "multipart/mixed; boundary=\"…\"; charset=UTF-8" (quoted, spaced, an extra parameter).
  Fixture f;
  ExpectRecorded(f,
                 Wire(Head(kSrc, "Multipart/Mixed; boundary=\"q-b\"; charset=UTF-8"),
                      Multipart("q-b", kTwoStreamSdp, kTwoParticipantMetadata)),
                 2);
}

TEST(SiprecVendor, SipSrcWithoutRequireSiprec) {
  // The drachtio and FreeSWITCH test clients (and some PBXs) mark the Contact but omit Require: siprec.
  Fixture f;
  ExpectRecorded(f,
                 Wire(Head("Contact: <sip:src@198.51.100.1>;+sip.src\n", "multipart/mixed;boundary=b"),
                      Multipart("b", kTwoStreamSdp, kTwoParticipantMetadata)),
                 2);
}

TEST(SiprecVendor, SipSrcSpellings) {
  // RFC 7866's ";+sip.src", in other cases, with the explicit RFC 3840 value,
  // inside the URI's brackets, and on a Contact without brackets.
  for (std::string_view contact : {"<sip:src@198.51.100.1>;+SIP.SRC", "<sip:src@198.51.100.1>;+sip.src=\"TRUE\"",
                                   "<sip:src@198.51.100.1;+sip.src>", "sip:src@198.51.100.1;+sip.src",
                                   "<sip:src@198.51.100.1>;expires=3600;+sip.src;+sip.rec"}) {
    Fixture f;
    ExpectRecorded(f,
                   Wire(Head("Contact: " + std::string(contact) + "\n", "multipart/mixed;boundary=b"),
                        Multipart("b", kTwoStreamSdp, kTwoParticipantMetadata)),
                   2);
  }
}

TEST(SiprecVendor, MetadataIsOptionalInTheInvite) {
  // RFC 7866 §6.1.1 allows the metadata to follow later (snapshot in an UPDATE or re-INVITE): a plain SDP body.
  Fixture f;
  ExpectRecorded(f, Wire(Head(kSrc, "application/sdp"), Crlf(kTwoStreamSdp)), 2);
  EXPECT_EQ(Names(f), (std::vector<std::string>{"stream 1", "stream 2"}));
}

TEST(SiprecVendor, RecvonlyOrInactiveStreamsAreAcceptedAndExpectNoRtpYet) {
  // Cisco CUBE opens with a=inactive (drachtio inactive-sdp-offer.txt) until
  // the call connects; a=recvonly (the SRC's view inverted) is as harmless:
  // answered inactive, recorded once a re-INVITE says sendonly.
  for (std::string_view direction : {"inactive", "recvonly"}) {
    Fixture f;
    sdp::SessionDescription answer = ExpectRecorded(f, Wire(Head(kSrc, "application/sdp"), PcmuSdp(direction)), 2);
    ASSERT_EQ(answer.media.size(), 2u);
    EXPECT_EQ(answer.media[0].direction, sdp::Direction::kInactive) << direction;
    f.now += std::chrono::seconds(3600);
    f.uas->Sweep();
    EXPECT_EQ(f.uas->Stats().active_dialogs, 1u) << direction << ": no RTP timeout while none is announced";
  }
}

TEST(SiprecVendor, GroupAndSessionIdVariations) {
  // <group> with extension data (the RFC 7865 example's call-center block),
  // sessions referring to it, and a Session-ID header with a "remote" param folded.
  Fixture f;
  const std::string meta =
      "<?xml version=\"1.0\"?>\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\n"
      "<group group_id=\"G\"><associate-time>2010-12-16T23:41:07Z</associate-time>"
      "<call-center "
      "xmlns='urn:ietf:params:xml:ns:callcenter'><supervisor>sip:alice@atlanta.com</supervisor></call-center></group>\n"
      "<session session_id=\"S\"><sipSessionID>ab30317f1a784dc48ff824d0d3715d86;\n "
      "remote=47755a9de7794ba387653f2099600ef2</sipSessionID>"
      "<group-ref>G</group-ref></session>\n</recording>\n";
  ExpectRecorded(
      f,
      Wire(Head(std::string(kSrc) +
                    "Session-ID: ab30317f1a784dc48ff824d0d3715d86\n ;remote=00000000000000000000000000000000\n",
                "multipart/mixed;boundary=b"),
           Multipart("b", kTwoStreamSdp, meta)),
      2);
}

}  // namespace
}  // namespace verbatim::media::siprec
