#include "media/srtp/inbound_srtp.h"

#include <sodium.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace verbatim::media::srtp {
namespace {

}  // namespace

Status InitSrtpLibrary() {
  static std::once_flag once;
  static srtp_err_status_t result = srtp_err_status_ok;
  std::call_once(once, [] { result = srtp_init(); });
  if (result != srtp_err_status_ok)
    return Status::Internal("libsrtp2 did not initialize (error " + std::to_string(result) + ")");
  return Status::Ok();
}

namespace {

void SetPolicy(CryptoSuite suite, srtp_policy_t& p) {
  switch (suite) {
    case CryptoSuite::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
      return;
    case CryptoSuite::kAesCm128HmacSha1_32:
      // RFC 4568 §6.2.2: the short tag is for SRTP only; SRTCP keeps 80 bits.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
      return;
    case CryptoSuite::kAes256CmHmacSha1_80:
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtp);
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
      return;
    case CryptoSuite::kAes256CmHmacSha1_32:
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p.rtp);  // RFC 6188 §7.1: SRTCP 80 bits
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
      return;
    case CryptoSuite::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
      return;
    case CryptoSuite::kAeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
      return;
  }
}

}  // namespace

struct InboundSrtp::Session {
  srtp_t ctx = nullptr;
  ~Session() {
    if (ctx) srtp_dealloc(ctx);
  }
};

const char* ToString(UnprotectError e) {
  switch (e) {
    case UnprotectError::kAuthFailed: return "auth failed";
    case UnprotectError::kReplayed: return "replayed";
    case UnprotectError::kKeyExpired: return "key expired";
    case UnprotectError::kMalformed: return "malformed";
  }
  return "?";
}

SrtpKeying SrtpKeying::FromAttribute(const CryptoAttribute& a) {
  SrtpKeying k;
  k.suite = a.suite;
  k.key = a.key;
  k.unencrypted_srtcp = a.unencrypted_srtcp;
  if (a.window_size_hint != 0) k.replay_window = a.window_size_hint;
  return k;
}

bool SrtpKeying::SameAs(const SrtpKeying& o) const {
  const bool same_key = key.key_salt.size() == o.key.key_salt.size() &&
                        sodium_memcmp(key.key_salt.data(), o.key.key_salt.data(), key.key_salt.size()) == 0;
  return same_key && suite == o.suite && key.mki == o.key.mki && key.lifetime == o.key.lifetime &&
         unencrypted_srtcp == o.unencrypted_srtcp;
}

InboundSrtp::InboundSrtp(std::unique_ptr<Session> session, bool mki, uint64_t lifetime)
    : session_(std::move(session)), mki_(mki), lifetime_(lifetime) {}

InboundSrtp::~InboundSrtp() { sodium_memzero(scratch_.data(), scratch_.size()); }

Result<std::unique_ptr<InboundSrtp>> InboundSrtp::Create(const SrtpKeying& keying) {
  VERBATIM_RETURN_IF_ERROR(InitSrtpLibrary());
  if (keying.key.key_salt.size() != MasterKeyBytes(keying.suite) + MasterSaltBytes(keying.suite))
    return Status::InvalidArgument("srtp.keying", "the master key and salt do not fit the crypto suite");
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  SetPolicy(keying.suite, policy);
  if (keying.unencrypted_srtcp) policy.rtcp.sec_serv = sec_serv_auth;
  policy.ssrc.type = ssrc_any_inbound;
  policy.window_size = std::clamp<uint32_t>(keying.replay_window, 64, 0x7fff);
  policy.allow_repeat_tx = 0;
  // libsrtp2 reads the key (and MKI) during srtp_create and keeps only what it derives.
  std::string key = keying.key.key_salt;
  std::string mki = keying.key.mki;
  srtp_master_key_t master{reinterpret_cast<unsigned char*>(key.data()),
                           mki.empty() ? nullptr : reinterpret_cast<unsigned char*>(mki.data()),
                           static_cast<unsigned int>(mki.size())};
  srtp_master_key_t* keys[1] = {&master};
  if (mki.empty()) {
    policy.key = reinterpret_cast<unsigned char*>(key.data());
  } else {
    policy.keys = keys;
    policy.num_master_keys = 1;
  }
  auto session = std::make_unique<Session>();
  const srtp_err_status_t status = srtp_create(&session->ctx, &policy);
  sodium_memzero(key.data(), key.size());
  if (status != srtp_err_status_ok) {
    session->ctx = nullptr;
    return Status::InvalidArgument("srtp.keying", "libsrtp2 refused the " + std::string(ToString(keying.suite)) +
                                                      " keying (error " + std::to_string(status) + ")");
  }
  return std::unique_ptr<InboundSrtp>(new InboundSrtp(std::move(session), !keying.key.mki.empty(),
                                                      keying.key.lifetime));
}

Unprotected InboundSrtp::UnprotectRtp(std::span<const std::byte> packet) { return Unprotect(packet, false); }
Unprotected InboundSrtp::UnprotectRtcp(std::span<const std::byte> packet) { return Unprotect(packet, true); }

Unprotected InboundSrtp::Unprotect(std::span<const std::byte> packet, bool rtcp) {
  Unprotected out;
  // The smallest authenticated packet: a fixed header (12 RTP, 8 RTCP) plus a tag.
  if (packet.size() < (rtcp ? 8u : 12u) + 4 || packet.size() > scratch_.size()) {
    out.error = UnprotectError::kMalformed;
    return out;
  }
  if (lifetime_ != 0 && used_ >= lifetime_) {
    out.error = UnprotectError::kKeyExpired;
    return out;
  }
  std::memcpy(scratch_.data(), packet.data(), packet.size());
  int len = static_cast<int>(packet.size());
  const unsigned int use_mki = mki_ ? 1 : 0;
  const srtp_err_status_t status = rtcp ? srtp_unprotect_rtcp_mki(session_->ctx, scratch_.data(), &len, use_mki)
                                        : srtp_unprotect_mki(session_->ctx, scratch_.data(), &len, use_mki);
  switch (status) {
    case srtp_err_status_ok:
      ++used_;
      out.packet = std::span<const std::byte>(scratch_.data(), static_cast<size_t>(len));
      return out;
    case srtp_err_status_auth_fail:
      out.error = UnprotectError::kAuthFailed;
      return out;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      out.error = UnprotectError::kReplayed;
      return out;
    case srtp_err_status_key_expired:
      out.error = UnprotectError::kKeyExpired;
      return out;
    default:
      out.error = UnprotectError::kMalformed;
      return out;
  }
}

}  // namespace verbatim::media::srtp
