// InboundSrtp against an independent sender: libsrtp2's own srtp_protect on
// one side (a context of its own, made here from the same key), our
// unprotect on the other. Replays, reordering within the window, a wrong key,
// a flipped bit, MKIs, SRTCP and the key lifetime.
#include "media/srtp/inbound_srtp.h"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstring>
#include <vector>

#include "media/rtp/packet.h"

namespace verbatim::media::srtp {
namespace {

std::string KeyBytes(size_t n, int seed) {
  std::string k(n, '\0');
  for (size_t i = 0; i < n; ++i) k[i] = static_cast<char>((i * 13 + seed * 101) & 0xff);
  return k;
}

SrtpKeying Keying(CryptoSuite suite, int seed = 1) {
  SrtpKeying k;
  k.suite = suite;
  k.key.key_salt = KeyBytes(MasterKeyBytes(suite) + MasterSaltBytes(suite), seed);
  return k;
}

// The sending side, written against libsrtp2's API directly (not our code).
class Sender {
 public:
  explicit Sender(const SrtpKeying& k, const std::string& mki = "") {
    EXPECT_TRUE(InitSrtpLibrary().ok());  // srtp_init may run once per process
    srtp_policy_t p;
    std::memset(&p, 0, sizeof p);
    switch (k.suite) {
      case CryptoSuite::kAesCm128HmacSha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
        break;
      case CryptoSuite::kAesCm128HmacSha1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
        break;
      case CryptoSuite::kAes256CmHmacSha1_80:
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
        break;
      case CryptoSuite::kAes256CmHmacSha1_32:
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p.rtp);
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
        break;
      case CryptoSuite::kAeadAes128Gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
        break;
      case CryptoSuite::kAeadAes256Gcm:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
        break;
    }
    key_ = k.key.key_salt;
    mki_ = mki;
    master_ = {reinterpret_cast<unsigned char*>(key_.data()),
               mki_.empty() ? nullptr : reinterpret_cast<unsigned char*>(mki_.data()),
               static_cast<unsigned int>(mki_.size())};
    keys_[0] = &master_;
    if (mki_.empty()) {
      p.key = reinterpret_cast<unsigned char*>(key_.data());
    } else {
      p.keys = keys_;
      p.num_master_keys = 1;
    }
    p.ssrc.type = ssrc_any_outbound;
    p.window_size = 128;
    EXPECT_EQ(srtp_create(&ctx_, &p), srtp_err_status_ok);
  }
  ~Sender() { srtp_dealloc(ctx_); }

  std::vector<std::byte> Rtp(uint16_t seq, uint32_t ssrc = 0x11223344, uint8_t fill = 0x55) {
    rtp::PacketSpec s;
    s.payload_type = 0;
    s.sequence = seq;
    s.timestamp = 160u * seq;
    s.ssrc = ssrc;
    s.payload.assign(160, std::byte(fill));
    std::vector<std::byte> pkt = rtp::BuildPacket(s);
    const size_t plain = pkt.size();
    pkt.resize(plain + SRTP_MAX_TRAILER_LEN);
    int len = static_cast<int>(plain);
    const auto st = srtp_protect_mki(ctx_, pkt.data(), &len, mki_.empty() ? 0 : 1, 0);
    EXPECT_EQ(st, srtp_err_status_ok);
    pkt.resize(static_cast<size_t>(len));
    return pkt;
  }

  std::vector<std::byte> Rtcp(uint32_t ssrc = 0x11223344) {
    // A receiver report without blocks: V=2, PT=201, length 1 word after the header.
    std::vector<std::byte> pkt = {std::byte(0x80), std::byte(201), std::byte(0), std::byte(1),
                                  std::byte(ssrc >> 24), std::byte(ssrc >> 16), std::byte(ssrc >> 8), std::byte(ssrc)};
    const size_t plain = pkt.size();
    pkt.resize(plain + SRTP_MAX_TRAILER_LEN + 4);
    int len = static_cast<int>(plain);
    EXPECT_EQ(srtp_protect_rtcp_mki(ctx_, pkt.data(), &len, mki_.empty() ? 0 : 1, 0), srtp_err_status_ok);
    pkt.resize(static_cast<size_t>(len));
    return pkt;
  }

 private:
  srtp_t ctx_ = nullptr;
  std::string key_;
  std::string mki_;
  srtp_master_key_t master_{};
  srtp_master_key_t* keys_[1] = {nullptr};
};

std::unique_ptr<InboundSrtp> Receiver(const SrtpKeying& k) {
  auto r = InboundSrtp::Create(k);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(InboundSrtp, DecryptsWhatLibsrtpProtectedForEverySuite) {
  for (CryptoSuite suite : {CryptoSuite::kAesCm128HmacSha1_80, CryptoSuite::kAesCm128HmacSha1_32,
                            CryptoSuite::kAes256CmHmacSha1_80, CryptoSuite::kAes256CmHmacSha1_32,
                            CryptoSuite::kAeadAes128Gcm, CryptoSuite::kAeadAes256Gcm}) {
    SCOPED_TRACE(ToString(suite));
    const SrtpKeying k = Keying(suite);
    Sender tx(k);
    auto rx = Receiver(k);
    ASSERT_TRUE(rx);
    for (uint16_t seq = 1000; seq < 1010; ++seq) {
      const auto wire = tx.Rtp(seq, 0x11223344, static_cast<uint8_t>(seq));
      EXPECT_GT(wire.size(), 172u) << "a tag was appended";
      Unprotected u = rx->UnprotectRtp(wire);
      ASSERT_FALSE(u.error) << ToString(*u.error);
      auto p = rtp::ParsePacket(u.packet);
      ASSERT_TRUE(p.ok());
      EXPECT_EQ(p->sequence, seq);
      ASSERT_EQ(p->payload.size(), 160u);
      EXPECT_EQ(p->payload[0], std::byte(static_cast<uint8_t>(seq))) << "the payload is decrypted";
    }
  }
}

TEST(InboundSrtp, ReplaysAreRefusedReorderingWithinTheWindowIsFine) {
  const SrtpKeying k = Keying(CryptoSuite::kAesCm128HmacSha1_80);
  Sender tx(k);
  auto rx = Receiver(k);
  std::vector<std::vector<std::byte>> wire;
  for (uint16_t seq = 0; seq < 200; ++seq) wire.push_back(tx.Rtp(static_cast<uint16_t>(5000 + seq)));
  EXPECT_FALSE(rx->UnprotectRtp(wire[0]).error);
  EXPECT_FALSE(rx->UnprotectRtp(wire[2]).error);
  EXPECT_FALSE(rx->UnprotectRtp(wire[1]).error) << "one packet late: within the window";
  EXPECT_EQ(rx->UnprotectRtp(wire[1]).error, UnprotectError::kReplayed) << "the same packet again";
  EXPECT_EQ(rx->UnprotectRtp(wire[2]).error, UnprotectError::kReplayed);
  EXPECT_FALSE(rx->UnprotectRtp(wire[199]).error);
  EXPECT_EQ(rx->UnprotectRtp(wire[3]).error, UnprotectError::kReplayed) << "older than the 128-packet window";
  EXPECT_FALSE(rx->UnprotectRtp(wire[150]).error) << "late but inside the window";
}

TEST(InboundSrtp, AWrongKeyOrAFlippedBitFailsAuthentication) {
  const SrtpKeying k = Keying(CryptoSuite::kAesCm128HmacSha1_80, 1);
  Sender other(Keying(CryptoSuite::kAesCm128HmacSha1_80, 2));
  Sender tx(k);
  auto rx = Receiver(k);
  EXPECT_EQ(rx->UnprotectRtp(other.Rtp(1)).error, UnprotectError::kAuthFailed);
  for (size_t at : {size_t{1}, size_t{30}, size_t{171}}) {  // header, payload, tag
    const auto genuine = tx.Rtp(static_cast<uint16_t>(10 + at));
    auto tampered = genuine;
    tampered[at] ^= std::byte(0x01);
    EXPECT_EQ(rx->UnprotectRtp(tampered).error, UnprotectError::kAuthFailed) << "bit flipped at " << at;
    // The genuine packet still passes: a failure does not advance the replay window.
    EXPECT_FALSE(rx->UnprotectRtp(genuine).error) << at;
  }
  EXPECT_EQ(rx->UnprotectRtp(std::vector<std::byte>(14, std::byte(0x80))).error, UnprotectError::kMalformed);
  EXPECT_EQ(rx->UnprotectRtp(std::vector<std::byte>(4000, std::byte(0x80))).error, UnprotectError::kMalformed);
}

TEST(InboundSrtp, GcmTamperingFailsToo) {
  const SrtpKeying k = Keying(CryptoSuite::kAeadAes256Gcm);
  Sender tx(k);
  auto rx = Receiver(k);
  auto wire = tx.Rtp(77);
  wire[40] ^= std::byte(0x80);
  EXPECT_EQ(rx->UnprotectRtp(wire).error, UnprotectError::kAuthFailed);
  EXPECT_FALSE(rx->UnprotectRtp(tx.Rtp(78)).error);
}

TEST(InboundSrtp, AnMkiOnEveryPacket) {
  SrtpKeying k = Keying(CryptoSuite::kAesCm128HmacSha1_80);
  k.key.mki = std::string("\x00\x00\x00\x01", 4);
  Sender tx(k, k.key.mki);
  auto rx = Receiver(k);
  Unprotected u = rx->UnprotectRtp(tx.Rtp(1));
  ASSERT_FALSE(u.error) << ToString(*u.error);
  EXPECT_EQ(u.packet.size(), 172u);
  SrtpKeying other = k;
  other.key.mki = std::string("\x00\x00\x00\x02", 4);
  Sender wrong_mki(other, other.key.mki);
  EXPECT_TRUE(rx->UnprotectRtp(wrong_mki.Rtp(2)).error) << "an MKI we were not given";
}

TEST(InboundSrtp, SrtcpIsAuthenticatedToo) {
  const SrtpKeying k = Keying(CryptoSuite::kAesCm128HmacSha1_32);
  Sender tx(k);
  auto rx = Receiver(k);
  auto wire = tx.Rtcp();
  Unprotected u = rx->UnprotectRtcp(wire);
  ASSERT_FALSE(u.error) << ToString(*u.error);
  EXPECT_EQ(u.packet.size(), 8u);
  EXPECT_EQ(rx->UnprotectRtcp(wire).error, UnprotectError::kReplayed);
  auto forged = tx.Rtcp();
  forged[5] ^= std::byte(1);
  EXPECT_EQ(rx->UnprotectRtcp(forged).error, UnprotectError::kAuthFailed);
}

TEST(InboundSrtp, TheKeyLifetimeIsEnforced) {
  SrtpKeying k = Keying(CryptoSuite::kAesCm128HmacSha1_80);
  k.key.lifetime = 3;
  Sender tx(k);
  auto rx = Receiver(k);
  for (uint16_t seq = 0; seq < 3; ++seq) EXPECT_FALSE(rx->UnprotectRtp(tx.Rtp(seq)).error);
  EXPECT_EQ(rx->UnprotectRtp(tx.Rtp(3)).error, UnprotectError::kKeyExpired);
}

TEST(InboundSrtp, SameAsComparesEveryParameter) {
  const SrtpKeying a = Keying(CryptoSuite::kAesCm128HmacSha1_80, 1);
  SrtpKeying b = a;
  EXPECT_TRUE(a.SameAs(b));
  b.key.key_salt[29] ^= 1;
  EXPECT_FALSE(a.SameAs(b));
  b = a;
  b.suite = CryptoSuite::kAesCm128HmacSha1_32;
  EXPECT_FALSE(a.SameAs(b));
  b = a;
  b.unencrypted_srtcp = true;
  EXPECT_FALSE(a.SameAs(b));
}

TEST(InboundSrtp, AKeyOfTheWrongLengthIsRefused) {
  SrtpKeying k = Keying(CryptoSuite::kAesCm128HmacSha1_80);
  k.key.key_salt.pop_back();
  auto r = InboundSrtp::Create(k);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "srtp.keying");
}

}  // namespace
}  // namespace verbatim::media::srtp
