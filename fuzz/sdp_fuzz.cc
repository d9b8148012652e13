// libFuzzer target: SDP parsing, codec choice and the answer builder; an answer
// built from any offer we accept must parse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/sdp/sdp.h"

using namespace verbatim::media::sdp;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto offer = ParseSdp(in);
  if (!offer.ok()) return 0;
  for (const MediaDescription& m : offer->media) {
    if (auto c = ChooseCodec(m)) (void)FindTelephoneEvent(m, c->clock_rate);
  }
  AnswerOptions opts;
  opts.address = "192.0.2.1";
  for (size_t i = 0; i < offer->media.size(); ++i) opts.ports.push_back(static_cast<uint16_t>(10000 + 2 * i));
  auto answer = ParseSdp(BuildAnswer(*offer, opts));
  if (!answer.ok() || answer->media.size() != offer->media.size()) __builtin_trap();
  (void)ParseSdp(Serialize(*offer));
  return 0;
}
