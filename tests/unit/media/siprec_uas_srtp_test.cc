// SiprecUas and SRTP (docs/sip-trunks.md "SRTP"): SDES keys only over TLS,
// the trunk's srtp policy, our own key in the answer, the SRC's keys handed to
// the stream, and re-INVITEs that keep or change the keys.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "media/siprec/srtp_offer.h"
#include "unit/media/siprec_uas_fixture.h"

namespace verbatim::media::siprec {
namespace {

using namespace testing_uas;  // NOLINT: the fixture's helpers, in a test file
using testing::Crlf;

// 30 bytes of key||salt for AES_CM_128_HMAC_SHA1_80, base64.
std::string Key(int seed) {
  std::string k(30, '\0');
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<char>(i * 7 + seed);
  return Base64Encode(k);
}

std::string SavpSdp(std::string_view proto, std::string_view crypto_lines) {
  return Crlf("v=0\n"
              "o=SRC 1 2 IN IP4 198.51.100.1\n"
              "s=-\n"
              "c=IN IP4 198.51.100.1\n"
              "t=0 0\n"
              "m=audio 12240 " +
              std::string(proto) +
              " 0\n"
              "a=rtpmap:0 PCMU/8000\n" +
              std::string(crypto_lines) +
              "a=sendonly\n"
              "a=label:1\n");
}

Req SdpInvite(std::string body, std::string call_id = "srtp-1@src") {
  Req r;
  r.call_id = std::move(call_id);
  r.content_type = "application/sdp";
  r.body = std::move(body);
  r.extra = {"Contact: <sips:src@198.51.100.1>;+sip.src"};
  return r;
}

Trunk WithSrtp(SrtpPolicy p) {
  Trunk t = SrcTrunk();
  t.transports = static_cast<uint8_t>(SipTransport::kTls) | static_cast<uint8_t>(SipTransport::kUdp);
  t.srtp = p;
  return t;
}

std::string AnswerCrypto(const UasOutput& out) {
  const std::string& body = out.responses.back().body;
  const size_t at = body.find("a=crypto:");
  if (at == std::string::npos) return "";
  return body.substr(at + 9, body.find('\r', at) - at - 9);
}

TEST(SiprecUasSrtp, AnSdesOfferOverTlsIsAnsweredWithOurOwnKeyAndTheStreamGetsTheSrcsKey) {
  Fixture f(16, {WithSrtp(SrtpPolicy::kOptional)});
  const std::string offered = "1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(1) + "|2^31";
  UasOutput out = f.uas->Handle(
      Request(SdpInvite(SavpSdp("RTP/SAVP", "a=crypto:" + offered + "\n"))),
      f.TrunkPeer("198.51.100.1", SipTransport::kTls));
  ASSERT_EQ(Code(out), 200) << Header(out, "Warning");
  EXPECT_NE(out.responses.back().body.find("m=audio 40000 RTP/SAVP 0"), std::string::npos) << out.responses.back().body;
  auto ours = srtp::ParseCryptoAttribute(AnswerCrypto(out));
  ASSERT_TRUE(ours.ok()) << AnswerCrypto(out);
  EXPECT_EQ(ours->tag, 1u);
  EXPECT_EQ(ours->suite, srtp::CryptoSuite::kAesCm128HmacSha1_80);
  auto theirs = srtp::ParseCryptoAttribute(offered);
  ASSERT_TRUE(theirs.ok());
  EXPECT_NE(ours->key.key_salt, theirs->key.key_salt) << "our answer carries a key of our own";
  ASSERT_EQ(f.streams.specs.size(), 1u);
  ASSERT_TRUE(f.streams.specs[0].srtp.has_value());
  EXPECT_EQ(f.streams.specs[0].srtp->key.key_salt, theirs->key.key_salt) << "the stream decrypts with the SRC's key";
  EXPECT_EQ(f.streams.specs[0].srtp->key.lifetime, uint64_t{1} << 31);
  EXPECT_NE(Header(out, "Contact").find("sip:verbatim"), std::string::npos);  // no contact_tls configured here
}

TEST(SiprecUasSrtp, SdesOverUdpOrTcpIs488WithAWarningAndCreatesNothing) {
  for (SipTransport t : {SipTransport::kUdp, SipTransport::kTcp}) {
    Trunk tr = WithSrtp(SrtpPolicy::kOptional);
    tr.transports = static_cast<uint8_t>(t);
    Fixture g(16, {tr});
    UasOutput out = g.uas->Handle(
        Request(SdpInvite(SavpSdp("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(1) + "\n"))),
        g.TrunkPeer("198.51.100.1", t));
    EXPECT_EQ(Code(out), 488) << ToString(t);
    EXPECT_NE(Header(out, "Warning").find("SIP/TLS only"), std::string::npos) << Header(out, "Warning");
    EXPECT_EQ(Header(out, "Warning").find(Key(1).substr(0, 10)), std::string::npos) << "never the key";
    EXPECT_TRUE(g.streams.specs.empty());
    EXPECT_TRUE(g.control.attached.empty());
    EXPECT_EQ(g.Count("refused:srtp_insecure_transport"), 1u);
  }
}

TEST(SiprecUasSrtp, TheTrunkPolicyDecidesBetweenRtpAndSrtp) {
  {  // required: a plain offer is 488
    Fixture f(16, {WithSrtp(SrtpPolicy::kRequired)});
    UasOutput out = f.uas->Handle(Request(SdpInvite(SavpSdp("RTP/AVP", ""))),
                                  f.TrunkPeer("198.51.100.1", SipTransport::kTls));
    EXPECT_EQ(Code(out), 488);
    EXPECT_NE(Header(out, "Warning").find("requires SRTP"), std::string::npos) << Header(out, "Warning");
    EXPECT_EQ(f.Count("refused:srtp_policy"), 1u);
    EXPECT_TRUE(f.control.attached.empty());
  }
  {  // off: an SRTP offer is 488 (its only stream is declined)
    Fixture f(16, {WithSrtp(SrtpPolicy::kOff)});
    UasOutput out = f.uas->Handle(
        Request(SdpInvite(SavpSdp("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(1) + "\n"))),
        f.TrunkPeer("198.51.100.1", SipTransport::kTls));
    EXPECT_EQ(Code(out), 488);
    EXPECT_NE(Header(out, "Warning").find("SRTP off"), std::string::npos) << Header(out, "Warning");
  }
  {  // optional: plain RTP is fine, no crypto in the answer
    Fixture f(16, {WithSrtp(SrtpPolicy::kOptional)});
    UasOutput out = f.uas->Handle(Request(SdpInvite(SavpSdp("RTP/AVP", ""))),
                                  f.TrunkPeer("198.51.100.1", SipTransport::kTls));
    EXPECT_EQ(Code(out), 200);
    EXPECT_EQ(AnswerCrypto(out), "");
    ASSERT_EQ(f.streams.specs.size(), 1u);
    EXPECT_FALSE(f.streams.specs[0].srtp.has_value());
  }
  {  // DTLS-SRTP is not SDES: declined
    Fixture f(16, {WithSrtp(SrtpPolicy::kOptional)});
    UasOutput out = f.uas->Handle(Request(SdpInvite(SavpSdp("UDP/TLS/RTP/SAVP", "a=fingerprint:sha-256 AB\n"))),
                                  f.TrunkPeer("198.51.100.1", SipTransport::kTls));
    EXPECT_EQ(Code(out), 488);
    EXPECT_NE(Header(out, "Warning").find("not supported"), std::string::npos) << Header(out, "Warning");
  }
}

TEST(SiprecUasSrtp, TheFirstUsableCryptoLineIsChosenAndUnusableOnesAre488WithTheirReasons) {
  Fixture f(16, {WithSrtp(SrtpPolicy::kRequired)});
  // An Acme/Oracle SBC style offer: an F8 line we do not support first, then a usable one.
  UasOutput out = f.uas->Handle(
      Request(SdpInvite(SavpSdp("RTP/SAVP", "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" + Key(1) +
                                                "\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + Key(2) +
                                                "|2^31 UNENCRYPTED_SRTCP\n"))),
      f.TrunkPeer("198.51.100.1", SipTransport::kTls));
  ASSERT_EQ(Code(out), 200) << Header(out, "Warning");
  auto ours = srtp::ParseCryptoAttribute(AnswerCrypto(out));
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->tag, 2u);
  EXPECT_EQ(ours->suite, srtp::CryptoSuite::kAesCm128HmacSha1_32);
  EXPECT_TRUE(ours->unencrypted_srtcp) << "RFC 4568 6.3.3: both directions agree";

  UasOutput none = f.uas->Handle(
      Request(SdpInvite(SavpSdp("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(1) +
                                                " UNENCRYPTED_SRTP\n"),
                        "srtp-2@src")),
      f.TrunkPeer("198.51.100.1", SipTransport::kTls));
  EXPECT_EQ(Code(none), 488);
  EXPECT_NE(Header(none, "Warning").find("a=crypto:1 refused parameter"), std::string::npos) << Header(none, "Warning");
}

TEST(SiprecUasSrtp, AReInviteKeepsTheKeysOrRekeysTheStreamAndCannotDropSrtp) {
  Fixture f(16, {WithSrtp(SrtpPolicy::kOptional)});
  const std::string sdp1 = SavpSdp("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(1) + "\n");
  UasOutput ok = f.uas->Handle(Request(SdpInvite(sdp1)), f.TrunkPeer("198.51.100.1", SipTransport::kTls));
  ASSERT_EQ(Code(ok), 200);
  const std::string first_answer = AnswerCrypto(ok);

  auto reinvite = [&](std::string body, int cseq) {
    Req r = InDialog(ok.responses.back(), "INVITE", cseq, "z9hG4bK-re" + std::to_string(cseq));
    r.content_type = "application/sdp";
    r.body = std::move(body);
    return f.uas->Handle(Request(r), f.TrunkPeer("198.51.100.1", SipTransport::kTls));
  };
  UasOutput same = reinvite(sdp1, 2);
  ASSERT_EQ(Code(same), 200);
  EXPECT_EQ(AnswerCrypto(same), first_answer) << "same keys offered: our answer stays the same";

  UasOutput plain = reinvite(SavpSdp("RTP/AVP", ""), 3);
  EXPECT_EQ(Code(plain), 488) << "a recorded SRTP stream cannot fall back to RTP";
  EXPECT_EQ(f.uas->Stats().active_dialogs, 1u) << "the call goes on";

  UasOutput rekey = reinvite(SavpSdp("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(5) + "\n"), 4);
  ASSERT_EQ(Code(rekey), 200);
  EXPECT_NE(AnswerCrypto(rekey), first_answer) << "new keys from the SRC: a new key of ours too";
}

TEST(SiprecUasSrtp, DecideSrtpIgnoresStreamsItDoesNotRecord) {
  auto offer = sdp::ParseSdp(Crlf("v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
                                  "m=video 0 RTP/SAVP 96\n"
                                  "m=audio 1000 RTP/AVP 0\n"));
  ASSERT_TRUE(offer.ok());
  const SrtpOfferDecision d = DecideSrtp(*offer, WithSrtp(SrtpPolicy::kRequired), SipTransport::kUdp);
  EXPECT_FALSE(d.refuse) << "a disabled SAVP line carries no keys to worry about";
  ASSERT_EQ(d.declined.size(), 2u);
  EXPECT_TRUE(d.declined[0].empty());
  EXPECT_FALSE(d.declined[1].empty());
}

}  // namespace
}  // namespace verbatim::media::siprec
