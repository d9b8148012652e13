#include <gtest/gtest.h>

#include <set>
#include <string>

#include "media/sip/message.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::sip {
namespace {

using testing::Crlf;

// A minimal valid request; `extra` goes after the mandatory headers.
std::string Request(std::string_view extra = "", std::string_view body = "", std::string_view method = "OPTIONS") {
  // `extra` is used as is (CRLF already), so that tests can place odd bytes.
  return Crlf(std::string(method) + " sip:recorder@example.com SIP/2.0\n" +
              "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\n"
              "From: \"Alice\" <sip:alice@example.com>;tag=1928301774\n"
              "To: <sip:recorder@example.com>\n"
              "Call-ID: a84b4c76e66710@pc33.example.com\n"
              "CSeq: 314159 " + std::string(method) + "\n") +
         std::string(extra) + "\r\n" + std::string(body);
}

std::optional<ParseError> ErrorOf(const Result<Message>& r) {
  EXPECT_FALSE(r.ok());
  return SipErrorOf(r.status());
}

TEST(SipMessage, ParsesSiprecInvite) {
  auto m = ParseMessage(testing::SiprecInvite());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->is_request());
  EXPECT_EQ(m->method, "INVITE");
  EXPECT_EQ(m->request_uri, "sip:recorder@example.com");
  EXPECT_EQ(m->call_id(), "d253c800-b0d1ea39-4a7dd-3f0e20a");
  ASSERT_TRUE(m->cseq());
  EXPECT_EQ(m->cseq()->number, 101u);
  EXPECT_EQ(m->cseq()->method, "INVITE");
  EXPECT_EQ(m->from_tag(), "35e195d2-947d-4585-946f-09839247");
  EXPECT_EQ(m->to_tag(), std::nullopt);
  EXPECT_EQ(m->via_branch(), "z9hG4bKdf6b622b648d9");
  EXPECT_EQ(m->header("require"), "siprec");
  EXPECT_EQ(m->header("CONTENT-TYPE"), "multipart/mixed;boundary=foobar");
  EXPECT_EQ(m->body, testing::SiprecBody());
}

TEST(SipMessage, UnfoldsContinuationLines) {
  auto m = ParseMessage(testing::SiprecInvite());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header("Session-ID"), "ab30317f1a784dc48ff824d0d3715d86 ;remote=00000000000000000000000000000000");
  EXPECT_EQ(m->header("Accept"), "application/sdp, application/rs-metadata, application/rs-metadata-request");
}

TEST(SipMessage, ExpandsCompactHeaderNames) {
  std::string msg = Crlf(
      "INVITE sip:recorder@example.com SIP/2.0\n"
      "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\n"
      "f: <sip:alice@example.com>;tag=x1\n"
      "t: <sip:recorder@example.com>\n"
      "i: compact-call-id\n"
      "CSeq: 1 INVITE\n"
      "m: <sip:alice@192.0.2.1>\n"
      "c: application/sdp\n"
      "k: timer\n"
      "s: hello\n"
      "e: identity\n"
      "l: 4\n"
      "\n"
      "v=0\n");
  auto m = ParseMessage(msg);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->call_id(), "compact-call-id");
  EXPECT_EQ(m->header("i"), "compact-call-id");
  EXPECT_EQ(m->header("Contact"), "<sip:alice@192.0.2.1>");
  EXPECT_EQ(m->header("Content-Type"), "application/sdp");
  EXPECT_EQ(m->header("Supported"), "timer");
  EXPECT_EQ(m->header("Subject"), "hello");
  EXPECT_EQ(m->header("Content-Encoding"), "identity");
  EXPECT_EQ(m->from_tag(), "x1");
  EXPECT_EQ(m->body, "v=0\r");  // l: 4 cuts at four bytes
  // Stored under the full names, so Serialize writes those.
  EXPECT_EQ(m->header_fields[0].name, "Via");
  EXPECT_EQ(m->header_fields[3].name, "Call-ID");
}

TEST(SipMessage, KeepsEveryViaInOrder) {
  auto m = ParseMessage(Crlf(
      "BYE sip:recorder@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP proxy2.example.com;branch=z9hG4bK2, SIP/2.0/UDP proxy1.example.com;branch=z9hG4bK1\n"
      "v: SIP/2.0/UDP src.example.com;branch=z9hG4bK0;rport\n"
      "From: <sip:a@example.com>;tag=1\n"
      "To: <sip:b@example.com>;tag=2\n"
      "Call-ID: c\n"
      "CSeq: 2 BYE\n"
      "\n"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto vias = m->headers("via");
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(vias[0], "SIP/2.0/UDP proxy2.example.com;branch=z9hG4bK2");
  EXPECT_EQ(vias[1], "SIP/2.0/UDP proxy1.example.com;branch=z9hG4bK1");
  EXPECT_EQ(vias[2], "SIP/2.0/UDP src.example.com;branch=z9hG4bK0;rport");
  EXPECT_EQ(m->via_branch(), "z9hG4bK2");
  EXPECT_EQ(m->to_tag(), "2");
}

TEST(SipMessage, ParsesResponses) {
  auto m = ParseMessage(Crlf("SIP/2.0 183 Session Progress\nCall-ID: x\n\n"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE(m->is_request());
  EXPECT_EQ(m->status_code, 183);
  EXPECT_EQ(m->reason, "Session Progress");
  EXPECT_TRUE(m->body.empty());
}

TEST(SipMessage, AcceptsBareLfAndLeadingKeepAlives) {
  std::string lf = Request();
  std::erase(lf, '\r');
  auto m = ParseMessage("\r\n\r\n" + lf);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->method, "OPTIONS");
}

TEST(SipMessage, HonoursContentLength) {
  auto exact = ParseMessage(Request("Content-Length: 5\r\n", "hello"));
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->body, "hello");

  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: 6\r\n", "hello"))), ParseError::kTruncatedBody);

  // UDP: bytes past Content-Length are dropped (RFC 3261 §18.3) unless asked not to.
  auto extra = ParseMessage(Request("Content-Length: 3\r\n", "hello"));
  ASSERT_TRUE(extra.ok());
  EXPECT_EQ(extra->body, "hel");
  ParseOptions strict;
  strict.ignore_extra_datagram_bytes = false;
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: 3\r\n", "hello"), strict)), ParseError::kBadContentLength);
  ParseOptions stream;
  stream.stream = true;
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: 3\r\n", "hello"), stream)), ParseError::kBadContentLength);

  // Without Content-Length a datagram body runs to the end; a stream needs it.
  auto rest = ParseMessage(Request("", "hello"));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->body, "hello");
  EXPECT_EQ(ErrorOf(ParseMessage(Request("", "hello"), stream)), ParseError::kMissingContentLength);

  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: five\r\n", "hello"))), ParseError::kBadContentLength);
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: -1\r\n", "hello"))), ParseError::kBadContentLength);
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: 5\r\nl: 4\r\n", "hello"))), ParseError::kBadContentLength);
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Content-Length: 99999999\r\n", "hello"))), ParseError::kTooLarge);
}

TEST(SipMessage, EnforcesLimits) {
  std::string big = Request("", std::string(kMaxMessageBytes, 'x'));
  EXPECT_EQ(ErrorOf(ParseMessage(big)), ParseError::kTooLarge);

  std::string many;
  for (int i = 0; i < 95; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_TRUE(ParseMessage(Request(many)).ok());  // 5 mandatory + 95 = the limit of 100
  many += "X-Last: v\r\n";
  EXPECT_EQ(ErrorOf(ParseMessage(Request(many))), ParseError::kTooManyHeaders);

  // A list header counts one per value.
  std::string vias = "Via: ";
  for (int i = 0; i < 100; ++i) vias += (i ? ", " : "") + std::string("SIP/2.0/UDP h;branch=z9hG4bK") + std::to_string(i);
  EXPECT_EQ(ErrorOf(ParseMessage(Request(vias + "\r\n"))), ParseError::kTooManyHeaders);

  std::string long_line = "Subject: " + std::string(kMaxHeaderLineBytes, 'a') + "\r\n";
  EXPECT_EQ(ErrorOf(ParseMessage(Request(long_line))), ParseError::kHeaderTooLong);
  // The limit is on the "Name: value" line, folded or not, without its CRLF.
  std::string at_limit = "Subject: " + std::string(kMaxHeaderLineBytes - 9, 'a') + "\r\n";
  EXPECT_TRUE(ParseMessage(Request(at_limit)).ok());
  std::string folded_at_limit = "Subject: a\r\n " + std::string(kMaxHeaderLineBytes - 11, 'b') + "\r\n";
  EXPECT_TRUE(ParseMessage(Request(folded_at_limit)).ok());
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Subject: a\r\n " + std::string(kMaxHeaderLineBytes - 10, 'b') + "\r\n"))),
            ParseError::kHeaderTooLong);
  std::string folded = "Subject: a\r\n";
  for (int i = 0; i < 3; ++i) folded += " " + std::string(3000, 'b') + "\r\n";
  EXPECT_EQ(ErrorOf(ParseMessage(Request(folded))), ParseError::kHeaderTooLong);
}

TEST(SipMessage, ValidatesMandatoryHeadersOfRequests) {
  for (std::string_view name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    auto m = ParseMessage(Request());
    ASSERT_TRUE(m.ok());
    m->RemoveHeader(name);
    auto r = ParseMessage(Serialize(*m));
    EXPECT_EQ(ErrorOf(r), ParseError::kMissingMandatoryHeader) << name;
    EXPECT_EQ(r.status().message(), "missing mandatory header: missing " + std::string(name));
  }
  std::string no_max_forwards = Request();
  EXPECT_TRUE(ParseMessage(no_max_forwards).ok());  // Max-Forwards is optional

  EXPECT_EQ(ErrorOf(ParseMessage(Request("From: <sip:mallory@example.com>;tag=2\r\n"))), ParseError::kBadHeader);
  std::string bad_cseq = Request();
  bad_cseq.replace(bad_cseq.find("CSeq: 314159 OPTIONS"), 20, "CSeq: 314159 INVITE");
  EXPECT_EQ(ErrorOf(ParseMessage(bad_cseq)), ParseError::kBadCSeq);
  bad_cseq.replace(bad_cseq.find("CSeq: 314159 INVITE"), 19, "CSeq: 2147483648 OPTIONS");
  EXPECT_EQ(ErrorOf(ParseMessage(bad_cseq)), ParseError::kBadCSeq);
}

// Each ParseError with one input that produces it; the strings are API.
TEST(SipMessage, EveryParseErrorIsReachableAndNamed) {
  ParseOptions stream;
  stream.stream = true;
  struct Case {
    ParseError error;
    std::string input;
    ParseOptions options;
    std::string code;
  };
  std::string request = Request();
  auto replace = [](std::string s, std::string_view from, std::string_view to) {
    return s.replace(s.find(from), from.size(), to);
  };
  std::vector<Case> cases = {
      {ParseError::kEmpty, "\r\n\r\n", {}, "sip.empty"},
      {ParseError::kTooLarge, std::string(kMaxMessageBytes + 1, 'A'), {}, "sip.too.large"},
      {ParseError::kBadStartLine, replace(request, "OPTIONS sip:", "OPTIONS  <no-scheme> "), {}, "sip.bad.start.line"},
      {ParseError::kBadVersion, replace(request, "SIP/2.0\r\n", "SIP/3.0\r\n"), {}, "sip.bad.version"},
      {ParseError::kBadHeader, Request("No colon here\r\n"), {}, "sip.bad.header"},
      {ParseError::kHeaderTooLong, Request("X: " + std::string(9000, 'a') + "\r\n"), {}, "sip.header.too.long"},
      {ParseError::kTooManyHeaders, Request([] { std::string s; for (int i = 0; i < 101; ++i) s += "X: y\r\n"; return s; }()), {}, "sip.too.many.headers"},
      {ParseError::kIncompleteHeaders, "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n", {}, "sip.incomplete.headers"},
      {ParseError::kBadContentLength, Request("Content-Length: 0x10\r\n"), {}, "sip.bad.content.length"},
      {ParseError::kMissingContentLength, Request(), stream, "sip.missing.content.length"},
      {ParseError::kTruncatedBody, Request("Content-Length: 10\r\n", "short"), {}, "sip.truncated.body"},
      {ParseError::kMissingMandatoryHeader, Crlf("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\n"), {}, "sip.missing.mandatory.header"},
      {ParseError::kBadCSeq, replace(request, "CSeq: 314159", "CSeq: x"), {}, "sip.bad.cseq"},
  };
  std::set<ParseError> covered;
  std::set<std::string> names;
  for (const Case& c : cases) {
    auto r = ParseMessage(c.input, c.options);
    ASSERT_FALSE(r.ok()) << ToString(c.error);
    EXPECT_EQ(SipErrorOf(r.status()), c.error) << r.status().ToString();
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
    covered.insert(c.error);
    names.insert(ToString(c.error));
  }
  // Every enum value is in the table above, each with its own name.
  for (int i = 0; std::string_view(ToString(static_cast<ParseError>(i))) != "?"; ++i) {
    EXPECT_TRUE(covered.count(static_cast<ParseError>(i))) << ToString(static_cast<ParseError>(i));
  }
  EXPECT_EQ(names.size(), covered.size());
  EXPECT_STREQ(ToString(ParseError::kTruncatedBody), "truncated body");
}

TEST(SipMessage, RejectsControlCharactersAndBadNames) {
  EXPECT_EQ(ErrorOf(ParseMessage(Request(std::string("X-Nul: a\0b\r\n", 12)))), ParseError::kBadHeader);
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Bad Name: v\r\n"))), ParseError::kBadHeader);
  EXPECT_EQ(ErrorOf(ParseMessage(Crlf("OPTIONS sip:a@b SIP/2.0\n folded-first\n\n"))), ParseError::kBadHeader);
  EXPECT_EQ(ErrorOf(ParseMessage(Request("Via: ,\r\n"))), ParseError::kBadHeader);
  EXPECT_EQ(ErrorOf(ParseMessage(Crlf("SIP/2.0 20 OK\n\n"))), ParseError::kBadStartLine);
  EXPECT_EQ(ErrorOf(ParseMessage(Crlf("SIP/2.0 0200 OK\n\n"))), ParseError::kBadStartLine);
  EXPECT_EQ(ErrorOf(ParseMessage(Crlf("SIP/1.0 200 OK\n\n"))), ParseError::kBadVersion);
}

TEST(SipFrameLength, FindsTheEndOfEachMessage) {
  std::string a = Request("Content-Length: 5\r\n", "hello");
  std::string b = Request("Content-Length: 0\r\n");
  std::string stream = a + b;
  for (size_t n = 0; n < a.size(); ++n) {
    auto r = FrameLength(std::string_view(stream).substr(0, n));
    ASSERT_TRUE(r.ok()) << n << " " << r.status().ToString();
    EXPECT_EQ(*r, std::nullopt) << n;
  }
  auto first = FrameLength(stream);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, a.size());
  auto second = FrameLength(std::string_view(stream).substr(a.size()));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, b.size());

  auto with_keepalive = FrameLength("\r\n\r\n" + a);
  ASSERT_TRUE(with_keepalive.ok());
  EXPECT_EQ(*with_keepalive, a.size() + 4);
  ParseOptions opts;
  opts.stream = true;
  EXPECT_TRUE(ParseMessage(std::string_view("\r\n\r\n" + stream).substr(0, a.size() + 4), opts).ok());
}

TEST(SipFrameLength, RejectsWhatCannotBeFramed) {
  EXPECT_EQ(SipErrorOf(FrameLength(Request()).status()), ParseError::kMissingContentLength);
  EXPECT_EQ(SipErrorOf(FrameLength(Request("Content-Length: x\r\n")).status()), ParseError::kBadContentLength);
  EXPECT_EQ(SipErrorOf(FrameLength(Request("Content-Length: 70000\r\n")).status()), ParseError::kTooLarge);
  EXPECT_EQ(SipErrorOf(FrameLength("OPTIONS sip:a@b SIP/2.0\r\nX: " + std::string(9000, 'a')).status()),
            ParseError::kHeaderTooLong);
  std::string endless = "OPTIONS sip:a@b SIP/2.0\r\n";
  while (endless.size() <= kMaxMessageBytes) endless += "X: yyyyyyyyyyyyyyyy\r\n";
  auto r = FrameLength(endless);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(SipErrorOf(r.status()) == ParseError::kTooLarge || SipErrorOf(r.status()) == ParseError::kTooManyHeaders);
  EXPECT_EQ(*FrameLength(""), std::nullopt);
}

TEST(SipSerialize, WritesTheRealContentLengthAndReparses) {
  auto m = ParseMessage(Request("Content-Length: 5\r\n", "hello"));
  ASSERT_TRUE(m.ok());
  m->body = "hello, world";
  std::string wire = Serialize(*m);
  EXPECT_NE(wire.find("Content-Length: 12\r\n\r\nhello, world"), std::string::npos);
  EXPECT_EQ(wire.find("Content-Length: 5"), std::string::npos);
  ParseOptions stream;
  stream.stream = true;
  auto again = ParseMessage(wire, stream);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->body, "hello, world");
  EXPECT_EQ(again->headers("Via"), m->headers("Via"));
  EXPECT_EQ(*FrameLength(wire), wire.size());
}

TEST(SipSerialize, NeutralisesHeaderInjection) {
  Message m;
  m.status_code = 200;
  m.reason = "OK\r\nX-Evil: 1";
  m.AddHeader("Subject", "hi\r\nContent-Length: 0\r\n\r\nboo");
  std::string wire = Serialize(m);
  auto r = ParseMessage(wire);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->header("X-Evil"), std::nullopt);
  EXPECT_EQ(r->headers("Content-Length").size(), 1u);
  EXPECT_TRUE(r->body.empty());
}

TEST(SipMakeResponse, CopiesTheHeadersOfRfc3261Section826) {
  auto req = ParseMessage(Crlf(
      "INVITE sip:recorder@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2\n"
      "Via: SIP/2.0/UDP src.example.com;branch=z9hG4bK1;received=192.0.2.9\n"
      "Record-Route: <sip:proxy.example.com;lr>\n"
      "From: \"SRC\" <sip:src@example.com>;tag=abc\n"
      "To: <sip:recorder@example.com>\n"
      "Call-ID: call-1\n"
      "CSeq: 7 INVITE\n"
      "Max-Forwards: 70\n"
      "Contact: <sip:src@192.0.2.9>\n"
      "Content-Length: 0\n"
      "\n"));
  ASSERT_TRUE(req.ok()) << req.status().ToString();

  Message ok = MakeResponse(*req, 200, "OK", "srs-tag");
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(ok.reason, "OK");
  EXPECT_EQ(ok.headers("Via"), req->headers("Via"));
  EXPECT_EQ(ok.header("From"), req->header("From"));
  EXPECT_EQ(ok.header("To"), "<sip:recorder@example.com>;tag=srs-tag");
  EXPECT_EQ(ok.to_tag(), "srs-tag");
  EXPECT_EQ(ok.call_id(), "call-1");
  EXPECT_EQ(ok.header("CSeq"), "7 INVITE");
  EXPECT_EQ(ok.header("Record-Route"), "<sip:proxy.example.com;lr>");
  EXPECT_EQ(ok.header("Contact"), std::nullopt);  // the UAS adds its own
  EXPECT_EQ(ok.header("Max-Forwards"), std::nullopt);

  Message trying = MakeResponse(*req, 100, "Trying");
  EXPECT_EQ(trying.to_tag(), std::nullopt);
  EXPECT_EQ(trying.header("Record-Route"), std::nullopt);
  EXPECT_EQ(MakeResponse(*req, 488, "Not Acceptable Here", "t").header("Record-Route"), std::nullopt);

  auto wire = ParseMessage(Serialize(ok));
  ASSERT_TRUE(wire.ok()) << wire.status().ToString();
  EXPECT_EQ(wire->status_code, 200);
  EXPECT_EQ(wire->via_branch(), "z9hG4bK2");
}

TEST(SipMakeResponse, KeepsAnExistingToTag) {
  auto req = ParseMessage(Request("", "", "BYE"));
  ASSERT_TRUE(req.ok());
  req->SetHeader("To", "<sip:recorder@example.com>;tag=existing");
  EXPECT_EQ(MakeResponse(*req, 200, "OK", "new").header("To"), "<sip:recorder@example.com>;tag=existing");
}

TEST(SipNameAddr, ParsesEveryForm) {
  auto quoted = ParseNameAddr(R"("Alice \"A\" Smith" <sip:alice@example.com;transport=tcp>;tag=88sja8x;x="y z")");
  ASSERT_TRUE(quoted.ok()) << quoted.status().ToString();
  EXPECT_EQ(quoted->display_name, "Alice \"A\" Smith");
  EXPECT_EQ(quoted->uri, "sip:alice@example.com;transport=tcp");
  EXPECT_EQ(quoted->tag(), "88sja8x");
  EXPECT_EQ(FindParam(quoted->params, "X"), "y z");

  auto token = ParseNameAddr("Bob <sips:bob@example.com>");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->display_name, "Bob");
  EXPECT_EQ(token->uri, "sips:bob@example.com");
  EXPECT_EQ(token->tag(), std::nullopt);

  auto spec = ParseNameAddr("sip:carol@example.com;tag=1;lr");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->uri, "sip:carol@example.com");
  EXPECT_EQ(spec->tag(), "1");
  ASSERT_EQ(spec->params.size(), 2u);
  EXPECT_EQ(spec->params[1].name, "lr");
  EXPECT_EQ(spec->params[1].value, "");

  for (std::string_view bad : {"", "\"unterminated <sip:a@b>", "<sip:a@b", "<nouri>", "\"A\" sip:a@b", "<sip:a@b> junk",
                               "<sip:a@b>;=x", "<sip:a@b>;tag="}) {
    auto r = ParseNameAddr(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(SipErrorOf(r.status()), ParseError::kBadHeader) << bad;
  }
}

TEST(SipVia, ParsesSentProtocolSentByAndParams) {
  auto v = ParseVia("SIP / 2.0 / TCP [2001:db8::1]:5061 ;branch=z9hG4bKx;rport;received=192.0.2.4");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->protocol, "SIP/2.0");
  EXPECT_EQ(v->transport, "TCP");
  EXPECT_EQ(v->sent_by, "[2001:db8::1]:5061");
  EXPECT_EQ(v->branch(), "z9hG4bKx");
  EXPECT_EQ(FindParam(v->params, "received"), "192.0.2.4");
  for (std::string_view bad : {"", "SIP/2.0/UDP", "SIP/2.0 host", "SIP/2.0/UDP a b", "SIP/2.0/UDP h;branch"}) {
    EXPECT_EQ(bad == "SIP/2.0/UDP h;branch", ParseVia(bad).ok()) << bad;  // a flag branch is syntactically fine
  }
}

TEST(SipMediaType, ParsesTypeAndQuotedParameters) {
  auto t = ParseMediaType("Multipart/Mixed ; boundary=\"simple boundary\"; charset=utf-8");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->essence(), "multipart/mixed");
  EXPECT_EQ(FindParam(t->params, "BOUNDARY"), "simple boundary");
  EXPECT_FALSE(ParseMediaType("text").ok());
  EXPECT_FALSE(ParseMediaType("text/").ok());
}

TEST(SipMessage, HeaderEditingUsesFullNames) {
  Message m;
  m.AddHeader("i", "x");
  m.AddHeader("Via", "SIP/2.0/UDP a");
  m.AddHeader("v", "SIP/2.0/UDP b");
  EXPECT_EQ(m.header_fields[0].name, "Call-ID");
  EXPECT_EQ(m.headers("VIA").size(), 2u);
  m.SetHeader("call-id", "y");
  EXPECT_EQ(m.call_id(), "y");
  EXPECT_EQ(m.headers("Call-ID").size(), 1u);
  m.RemoveHeader("v");
  EXPECT_TRUE(m.headers("Via").empty());
}

}  // namespace
}  // namespace verbatim::media::sip
