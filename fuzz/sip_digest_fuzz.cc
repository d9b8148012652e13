// libFuzzer target: the digest Authorization parser (sip/digest.h), the
// response check over whatever parses, nonce verification of arbitrary
// strings, and the trunk authenticator on a full INVITE carrying the input as
// its Authorization header. Invariants: a parsed nc is 8 hex digits; nothing
// we did not issue verifies as a valid nonce.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "media/sip/digest.h"
#include "media/sip/message.h"
#include "media/siprec/trunk_auth.h"

using namespace verbatim;                 // NOLINT: fuzz harness
using namespace verbatim::media::sip;     // NOLINT: fuzz harness
using namespace verbatim::media::siprec;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const TimePoint now = FromUnixMillis(1'700'000'000'000);

  auto c = ParseDigestCredentials(in);
  if (c.ok()) {
    if (c->qop_auth && c->nc.size() != 8) __builtin_trap();
    (void)DigestResponseMatches(*c, std::string(64, 'a'), "INVITE");
    (void)DigestResponseMatches(*c, "", "INVITE");
  }
  static const DigestNonces nonces(std::string(32, 'k'), std::chrono::seconds(300));
  if (nonces.Verify(in, now) == DigestNonces::Check::kValid) __builtin_trap();

  static TrunkAuthenticator auth(std::chrono::seconds(300), [] { return FromUnixMillis(1'700'000'000'000); });
  Trunk t;
  t.id = "t";
  t.name = "t";
  t.digest = TrunkDigest{"sbc", "verbatim", std::string(32, 'a'), std::string(64, 'b')};
  std::string header(in.substr(0, 4096));
  for (char& ch : header)
    if (ch == '\r' || ch == '\n') ch = ' ';
  auto m = ParseMessage(
      "INVITE sip:srs@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
      "To: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nAuthorization: " +
      header + "\r\nContent-Length: 0\r\n\r\n");
  if (m.ok()) {
    DigestVerdict v = auth.Check(t, *m);
    if (v.outcome == DigestVerdict::Outcome::kOk) __builtin_trap();  // no input knows the HA1-less password
  }
  return 0;
}
