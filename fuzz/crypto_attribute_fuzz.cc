// libFuzzer target: the SDES a=crypto attribute (RFC 4568), untrusted text
// from an SDP offer, and the answerer's choice among several lines.
// Invariants: what parses has a key of exactly the suite's length, formats
// back to text that parses to the same attribute, and its refusals never
// contain key material; the SDES answer carries the offered tag and suite
// with a key of ours.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "media/srtp/crypto_attribute.h"
#include "media/srtp/sdes.h"

using namespace verbatim::media::srtp;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto a = ParseCryptoAttribute(in);
  if (a.ok()) {
    if (a->key.key_salt.size() != MasterKeyBytes(a->suite) + MasterSaltBytes(a->suite)) __builtin_trap();
    auto again = ParseCryptoAttribute(FormatCryptoAttribute(*a));
    if (!again.ok() || again->tag != a->tag || again->suite != a->suite || again->key.key_salt != a->key.key_salt ||
        again->unencrypted_srtcp != a->unencrypted_srtcp)
      __builtin_trap();
  } else {
    // The inline key, if any, must not come back in the message.
    const size_t at = in.find("inline:");
    if (at != std::string_view::npos) {
      std::string_view key = in.substr(at + 7, 24);
      const size_t end = key.find_first_of("| \t");
      key = key.substr(0, end);
      // (Unless the same text is also the tag or suite, which messages may name, or
      // has a '_', as suite names do and base64 never does.)
      if (key.size() >= 16 && key.find('_') == std::string_view::npos &&
          in.substr(0, at).find(key) == std::string_view::npos &&
          a.status().message().find(key) != std::string::npos)
        __builtin_trap();
    }
  }

  // Several lines, as an m= section offers them: '\n' separates them.
  std::vector<std::string_view> lines;
  for (std::string_view rest = in; lines.size() < 8;) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  auto answer = AnswerSdes(lines);
  if (answer.ok()) {
    if (answer->ours.tag != answer->offered.tag || answer->ours.suite != answer->offered.suite) __builtin_trap();
    if (answer->ours.key.key_salt.size() != answer->offered.key.key_salt.size()) __builtin_trap();
  }
  return 0;
}
