// SIPREC test fixtures written after the examples of RFC 7865 §9 (metadata)
// and RFC 7866 (INVITE with a multipart/mixed SDP + metadata body): two audio
// streams labelled 1 and 2, Alice sending 1 and Bob sending 2.
#pragma once

#include <string>
#include <string_view>

namespace verbatim::media::testing {

// Fixtures are written with "\n" for readability; SIP wants CRLF.
inline std::string Crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

inline constexpr std::string_view kOfferSdp =
    "v=0\n"
    "o=SRC 2890844526 2890844526 IN IP4 198.51.100.1\n"
    "s=-\n"
    "c=IN IP4 198.51.100.1\n"
    "t=0 0\n"
    "m=audio 12240 RTP/AVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=sendonly\n"
    "a=label:1\n"
    "m=audio 12242 RTP/AVP 8 0 101\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=sendonly\n"
    "a=label:2\n";

inline constexpr std::string_view kMetadataXml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\n"
    "  <datamode>complete</datamode>\n"
    "  <group group_id=\"7+OTCyoxTmqmqyA/1weDAg==\">\n"
    "    <associate-time>2010-12-16T23:41:07Z</associate-time>\n"
    "    <!-- Standardized extension -->\n"
    "    <call-center xmlns='urn:ietf:params:xml:ns:callcenter'>\n"
    "      <supervisor>sip:alice@atlanta.com</supervisor>\n"
    "    </call-center>\n"
    "  </group>\n"
    "  <session session_id=\"hVpd7YQgRW2nD22h7q60JQ==\">\n"
    "    <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;\n"
    "      remote=47755a9de7794ba387653f2099600ef2</sipSessionID>\n"
    "    <group-ref>7+OTCyoxTmqmqyA/1weDAg==\n"
    "    </group-ref>\n"
    "  </session>\n"
    "  <participant participant_id=\"srfBElmCRp2QB23b7Mpk0w==\">\n"
    "    <nameID aor=\"sip:alice@atlanta.com\">\n"
    "      <name xml:lang=\"it\">Alice</name>\n"
    "    </nameID>\n"
    "  </participant>\n"
    "  <participant participant_id=\"zSfPoSvdSDCmU3A3TRDxAw==\">\n"
    "    <nameID aor=\"sip:bob@biloxy.com\">\n"
    "      <name xml:lang=\"it\">Bob</name>\n"
    "    </nameID>\n"
    "  </participant>\n"
    "  <stream stream_id=\"UAAMm5GRQKSCMVvLyl4rFw==\"\n"
    "      session_id=\"hVpd7YQgRW2nD22h7q60JQ==\">\n"
    "    <label>1</label>\n"
    "  </stream>\n"
    "  <stream stream_id=\"i1Pz3to5hGk8fuXl+PbwCw==\"\n"
    "      session_id=\"hVpd7YQgRW2nD22h7q60JQ==\">\n"
    "    <label>2</label>\n"
    "  </stream>\n"
    "  <sessionrecordingassoc session_id=\"hVpd7YQgRW2nD22h7q60JQ==\">\n"
    "    <associate-time>2010-12-16T23:41:07Z</associate-time>\n"
    "  </sessionrecordingassoc>\n"
    "  <participantsessionassoc\n"
    "      participant_id=\"srfBElmCRp2QB23b7Mpk0w==\"\n"
    "      session_id=\"hVpd7YQgRW2nD22h7q60JQ==\">\n"
    "    <associate-time>2010-12-16T23:41:07Z</associate-time>\n"
    "  </participantsessionassoc>\n"
    "  <participantstreamassoc\n"
    "      participant_id=\"srfBElmCRp2QB23b7Mpk0w==\">\n"
    "    <send>UAAMm5GRQKSCMVvLyl4rFw==</send>\n"
    "    <recv>i1Pz3to5hGk8fuXl+PbwCw==</recv>\n"
    "  </participantstreamassoc>\n"
    "  <participantstreamassoc\n"
    "      participant_id=\"zSfPoSvdSDCmU3A3TRDxAw==\">\n"
    "    <send>i1Pz3to5hGk8fuXl+PbwCw==</send>\n"
    "    <recv>UAAMm5GRQKSCMVvLyl4rFw==</recv>\n"
    "  </participantstreamassoc>\n"
    "</recording>\n";

// The multipart body (CRLF line ends) for boundary "foobar".
inline std::string SiprecBody() {
  return Crlf(std::string("--foobar\n"
                          "Content-Type: application/sdp\n"
                          "\n") +
              std::string(kOfferSdp) +
              "--foobar\n"
              "Content-Type: application/rs-metadata+xml\n"
              "Content-Disposition: recording-session\n"
              "\n" +
              std::string(kMetadataXml) + "--foobar--\n");
}

// A SIPREC INVITE as an SRC sends it (RFC 7866 §6.1.1 style), including a
// folded Session-ID and a folded Accept header.
inline std::string SiprecInvite() {
  std::string body = SiprecBody();
  return Crlf(
             "INVITE sip:recorder@example.com SIP/2.0\n"
             "Via: SIP/2.0/TCP src.example.com;branch=z9hG4bKdf6b622b648d9\n"
             "From: <sip:2000@example.com>;tag=35e195d2-947d-4585-946f-09839247\n"
             "To: <sip:recorder@example.com>\n"
             "Call-ID: d253c800-b0d1ea39-4a7dd-3f0e20a\n"
             "Session-ID: ab30317f1a784dc48ff824d0d3715d86\n"
             " ;remote=00000000000000000000000000000000\n"
             "CSeq: 101 INVITE\n"
             "Max-Forwards: 70\n"
             "Require: siprec\n"
             "Accept: application/sdp, application/rs-metadata,\n"
             "  application/rs-metadata-request\n"
             "Contact: <sip:2000@src.example.com>;+sip.src\n"
             "Content-Type: multipart/mixed;boundary=foobar\n"
             "Content-Length: " +
             std::to_string(body.size()) + "\n\n") +
         body;
}

}  // namespace verbatim::media::testing
