// SDES as the answerer (RFC 4568 §7.1.2): from the a=crypto lines of one
// offered m= line, the one to use and our own answer line.
//
// The first attribute (in offer order: the offerer lists its preference
// first) that parses and that verbatim supports is chosen. Our answer names
// the same tag and suite with a fresh random key of our own, per stream: the
// recorder never sends media, but RFC 4568 requires the answer to carry a key,
// and one shared or derived key would be one more secret to protect.
// Thread-safety: pure functions (randomness from libsodium).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "media/srtp/crypto_attribute.h"
#include "media/srtp/inbound_srtp.h"

namespace verbatim::media::srtp {

struct SdesAnswer {
  CryptoAttribute offered;  // the chosen attribute: its key decrypts what the SRC sends
  CryptoAttribute ours;     // our answer: same tag, suite and UNENCRYPTED_SRTCP, our key

  SrtpKeying inbound() const { return SrtpKeying::FromAttribute(offered); }
  std::string answer_value() const { return FormatCryptoAttribute(ours); }  // after "a=crypto:"
};

// `offered`: the values of the m= line's a=crypto attributes, in order.
// FailedPrecondition "srtp.no.crypto" when there are none; InvalidArgument
// "srtp.no.usable.crypto" when none can be used, the message naming each
// tag and why (never any key material).
Result<SdesAnswer> AnswerSdes(std::span<const std::string_view> offered);

// Our answer to `chosen` with a new random key.
CryptoAttribute OurCryptoFor(const CryptoAttribute& chosen);

}  // namespace verbatim::media::srtp
