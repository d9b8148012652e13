// Receiving SRTP (RFC 3711) with libsrtp2: one stream's master key from its
// SDES crypto attribute (crypto_attribute.h) in, authenticated and decrypted
// RTP (and SRTCP, when the SRC multiplexes it on the RTP port) out.
//
// Every packet is authenticated before anything else reads its payload; a
// packet that fails is dropped with its reason (kAuthFailed, kReplayed, ...)
// for the caller to count, never an exception or a crash. Replay protection
// is libsrtp2's window (128 packets, or the offer's WSH): reordering within
// the window is fine, a packet seen before or older than the window is a
// replay. New SSRCs under the same key are accepted only once a packet of
// theirs authenticates. The key lifetime of the attribute is enforced: past
// it, packets are dropped (kKeyExpired) until the SRC rekeys (re-INVITE).
//
// Thread-safety: none; one per stream, used by the thread that reads its socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/status.h"
#include "media/srtp/crypto_attribute.h"

namespace verbatim::media::srtp {

inline constexpr size_t kMaxSrtpPacketBytes = 2048;

// libsrtp2's process-wide crypto kernel, set up once (thread-safe) and never
// shut down. srtp_init must not run twice in a process (its second call
// fails), so any other user of libsrtp2 in the process calls this instead.
Status InitSrtpLibrary();

enum class UnprotectError {
  kAuthFailed,  // the authentication tag does not match: forged, corrupted, or another key
  kReplayed,    // seen before, or older than the replay window
  kKeyExpired,  // the key's lifetime (packets) is used up
  kMalformed,   // too short or too long to be SRTP, or an unknown MKI
};
const char* ToString(UnprotectError e);  // "auth failed", "replayed", ...

struct Unprotected {
  std::optional<UnprotectError> error;  // set: the packet is dropped
  std::span<const std::byte> packet;    // the plain RTP/RTCP packet; valid until the next call
};

// The keying of one direction of one stream, as negotiated (sdes.h).
struct SrtpKeying {
  CryptoSuite suite = CryptoSuite::kAesCm128HmacSha1_80;
  MasterKey key;
  bool unencrypted_srtcp = false;
  uint32_t replay_window = 128;  // packets

  static SrtpKeying FromAttribute(const CryptoAttribute& a);
  // Same suite, key, MKI and SRTCP encryption (the key bytes compared in constant time).
  bool SameAs(const SrtpKeying& other) const;
};

class InboundSrtp {
 public:
  // InvalidArgument "srtp.keying" when libsrtp2 refuses the parameters.
  static Result<std::unique_ptr<InboundSrtp>> Create(const SrtpKeying& keying);
  ~InboundSrtp();
  InboundSrtp(const InboundSrtp&) = delete;
  InboundSrtp& operator=(const InboundSrtp&) = delete;

  Unprotected UnprotectRtp(std::span<const std::byte> packet);
  Unprotected UnprotectRtcp(std::span<const std::byte> packet);

 private:
  struct Session;  // libsrtp2's srtp_t
  explicit InboundSrtp(std::unique_ptr<Session> session, bool mki, uint64_t lifetime);
  Unprotected Unprotect(std::span<const std::byte> packet, bool rtcp);

  // Constant after construction.
  const std::unique_ptr<Session> session_;
  const bool mki_;          // packets carry an MKI
  const uint64_t lifetime_;  // packets the key may protect; 0 = the library's own limit

  uint64_t used_ = 0;  // packets authenticated with the key
  // libsrtp2 works in place on 32-bit aligned packets: each packet is copied here first.
  alignas(8) std::array<std::byte, kMaxSrtpPacketBytes> scratch_;
};

}  // namespace verbatim::media::srtp
