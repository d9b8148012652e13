#include "media/srtp/sdes.h"

#include <sodium.h>

#include "core/ids.h"

namespace verbatim::media::srtp {

CryptoAttribute OurCryptoFor(const CryptoAttribute& chosen) {
  InitRandom();
  CryptoAttribute ours;
  ours.tag = chosen.tag;
  ours.suite = chosen.suite;
  ours.suite_name = chosen.suite_name;
  ours.unencrypted_srtcp = chosen.unencrypted_srtcp;
  ours.key.key_salt.resize(MasterKeyBytes(chosen.suite) + MasterSaltBytes(chosen.suite));
  randombytes_buf(ours.key.key_salt.data(), ours.key.key_salt.size());
  return ours;
}

Result<SdesAnswer> AnswerSdes(std::span<const std::string_view> offered) {
  if (offered.empty())
    return Status::FailedPrecondition("srtp.no.crypto",
                                      "no a=crypto attribute: SDES (RFC 4568) is the only SRTP keying supported");
  std::string why;
  for (size_t i = 0; i < offered.size(); ++i) {
    auto parsed = ParseCryptoAttribute(offered[i]);
    if (parsed.ok()) {
      SdesAnswer answer;
      answer.ours = OurCryptoFor(*parsed);
      answer.offered = std::move(*parsed);
      return answer;
    }
    // Name the line by its tag if it has one (the first word), else by position.
    std::string_view tag = offered[i].substr(0, offered[i].find_first_of(" \t"));
    const bool tag_ok = !tag.empty() && tag.size() <= 9 &&
                        tag.find_first_not_of("0123456789") == std::string_view::npos;
    if (why.size() < 400) {
      why += (why.empty() ? "" : "; ");
      why += "a=crypto:" + (tag_ok ? std::string(tag) : "#" + std::to_string(i + 1)) + " " +
             parsed.status().message();
    }
  }
  return Status::InvalidArgument("srtp.no.usable.crypto", "no usable a=crypto: " + why);
}

}  // namespace verbatim::media::srtp
