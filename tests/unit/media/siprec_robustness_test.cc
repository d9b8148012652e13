// Every parser of this module against every truncation of a valid input and
// random byte mutations (fixed seed, so failures reproduce). The assertion is
// that nothing crashes or hangs; run it under ASan/UBSan for the full value
// (cmake -DVERBATIM_SANITIZE=ON). The fuzz targets go further.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/siprec/multipart.h"
#include "media/siprec/rs_metadata.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media {
namespace {

using Parser = std::function<void(std::string_view)>;

// Touches the result so a parser cannot hand back something half-built.
template <class T>
size_t Consume(const Result<T>& r) {
  return r.ok() ? 1 : r.status().code().size();
}

void Torture(std::string_view valid, const Parser& parse, uint32_t seed) {
  for (size_t n = 0; n <= valid.size(); ++n) parse(valid.substr(0, n));
  std::mt19937 rng(seed);
  std::string m;
  for (int round = 0; round < 3000; ++round) {
    m.assign(valid);
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      size_t at = rng() % m.size();
      switch (rng() % 5) {
        case 0: m[at] = static_cast<char>(rng()); break;                   // random byte
        case 1: m.erase(at, 1 + rng() % 16); break;                        // delete a run
        case 2: m.insert(at, 1, "<>&;:=/\r\n\"' -\0"[rng() % 15]); break;  // syntax byte
        case 3: m.insert(at, m.substr(rng() % m.size(), rng() % 64)); break;  // duplicate a slice
        case 4: m.resize(at); break;                                       // cut
      }
    }
    parse(m);
  }
}

TEST(SiprecRobustness, SipMessageSurvivesTruncationAndMutation) {
  sip::ParseOptions tcp;
  tcp.stream = true;
  Torture(testing::SiprecInvite(), [&](std::string_view s) {
    auto r = sip::ParseMessage(s);
    if (r.ok()) {
      (void)r->from_tag(), (void)r->to_tag(), (void)r->via_branch(), (void)r->cseq();
      (void)sip::Serialize(sip::MakeResponse(*r, 200, "OK", "t"));
    }
    (void)Consume(sip::ParseMessage(s, tcp));
    (void)Consume(sip::FrameLength(s));
  }, 1);
}

TEST(SiprecRobustness, SdpSurvivesTruncationAndMutation) {
  Torture(testing::Crlf(testing::kOfferSdp), [](std::string_view s) {
    auto r = sdp::ParseSdp(s);
    if (r.ok()) {
      sdp::AnswerOptions opts;
      opts.address = "192.0.2.1";
      opts.ports = {1000, 1002};
      (void)Consume(sdp::ParseSdp(sdp::BuildAnswer(*r, opts)));
      (void)Consume(sdp::ParseSdp(sdp::Serialize(*r)));
    }
  }, 2);
}

TEST(SiprecRobustness, MultipartSurvivesTruncationAndMutation) {
  Torture(testing::SiprecBody(), [](std::string_view s) {
    (void)Consume(siprec::ParseMultipart("multipart/mixed;boundary=foobar", s));
    (void)Consume(siprec::SplitSiprecBody("multipart/mixed;boundary=foobar", s));
  }, 3);
}

TEST(SiprecRobustness, MetadataSurvivesTruncationAndMutation) {
  Torture(testing::kMetadataXml, [](std::string_view s) { (void)Consume(siprec::ParseRecordingMetadata(s)); }, 4);
}

TEST(SiprecRobustness, HeaderValueParsersSurviveMutation) {
  for (std::string_view valid : {R"("A \"q\"" <sip:a@b;x=y>;tag=1;p="v")", "SIP/2.0/UDP [::1]:5060;branch=z9;rport",
                                 "multipart/mixed; boundary=\"a b\"", "101 INVITE"}) {
    Torture(valid, [](std::string_view s) {
      (void)Consume(sip::ParseNameAddr(s));
      (void)Consume(sip::ParseVia(s));
      (void)Consume(sip::ParseMediaType(s));
      (void)Consume(sip::ParseCSeq(s));
      (void)sip::SplitList(s);
    }, 5);
  }
}

}  // namespace
}  // namespace verbatim::media
