// libFuzzer target: RTP parsing, build/re-parse, payload decoding and the
// jitter buffer, driven as a receive loop would drive them.
//
// Input: records of [arrival delta ms: 1][length: 2, big-endian][datagram bytes].
// Checks: parsed views stay inside the datagram; what parses re-serializes to a
// packet that parses to the same header; playout is contiguous and in order.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/codec/decoder.h"
#include "media/rtp/jitter_buffer.h"
#include "media/rtp/packet.h"

using namespace verbatim::media;  // NOLINT: fuzz harness

namespace {

// Playout must be one gap-free, non-overlapping run of positions.
class CheckingSink final : public rtp::JitterSink {
 public:
  void OnSamples(int64_t position, std::span<const int16_t> s) override {
    if (s.empty()) __builtin_trap();
    Advance(position, static_cast<int64_t>(s.size()));
  }
  void OnGap(int64_t position, int64_t count, bool) override {
    if (count <= 0) __builtin_trap();
    Advance(position, count);
  }

 private:
  void Advance(int64_t position, int64_t n) {
    if (next_ && position != *next_) __builtin_trap();
    next_ = position + n;
  }
  std::optional<int64_t> next_;
};

void CheckRoundTrip(const rtp::Packet& p, std::span<const std::byte> in) {
  const std::byte* lo = in.data();
  const std::byte* hi = in.data() + in.size();
  if (p.payload.data() + p.payload.size() > hi || (!p.payload.empty() && p.payload.data() < lo)) __builtin_trap();
  if (p.csrc_count > rtp::kMaxCsrc) __builtin_trap();
  rtp::PacketSpec s;
  s.marker = p.marker;
  s.payload_type = p.payload_type;
  s.sequence = p.sequence;
  s.timestamp = p.timestamp;
  s.ssrc = p.ssrc;
  s.csrc.assign(p.csrc.begin(), p.csrc.begin() + p.csrc_count);
  s.has_extension = p.has_extension;
  s.extension_profile = p.extension_profile;
  s.extension_data.assign(p.extension_data.begin(), p.extension_data.end());
  s.payload.assign(p.payload.begin(), p.payload.end());
  s.padding = p.padding;
  const auto bytes = rtp::BuildPacket(s);
  auto again = rtp::ParsePacket(bytes);
  if (!again.ok() || again->sequence != p.sequence || again->timestamp != p.timestamp || again->ssrc != p.ssrc ||
      again->payload_type != p.payload_type || again->marker != p.marker ||
      again->payload.size() != p.payload.size() || again->csrc_count != p.csrc_count) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const codec::Decoder kDecoders[] = {
      codec::Decoder::Select(0, "PCMU", 8000).value(),
      codec::Decoder::Select(8, "PCMA", 8000).value(),
      codec::Decoder::Select(96, "L16", 8000).value(),
      codec::Decoder::Select(101, "telephone-event", 8000).value(),
  };
  rtp::JitterConfig config;
  config.origin = rtp::Nanos(0);
  rtp::JitterBuffer jb(config);
  CheckingSink sink;
  std::vector<int16_t> pcm;
  rtp::Nanos now(0);

  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  while (in.size() >= 3) {
    now += std::chrono::milliseconds(static_cast<uint8_t>(in[0]));
    const size_t len = std::min<size_t>(static_cast<size_t>(static_cast<uint8_t>(in[1]) << 8 | static_cast<uint8_t>(in[2])),
                                        in.size() - 3);
    const auto datagram = in.subspan(3, len);
    in = in.subspan(3 + len);

    auto p = rtp::ParsePacket(datagram);
    if (!p.ok()) {
      (void)ToString(p.error());
      continue;
    }
    CheckRoundTrip(*p, datagram);
    const codec::Decoder* d = nullptr;
    for (const auto& c : kDecoders) {
      if (c.payload_type() == p->payload_type) d = &c;
    }
    if (d == nullptr) continue;
    pcm.clear();
    auto n = d->Decode(p->payload, pcm);
    if (!n.ok()) continue;
    if (*n != pcm.size() || *n != d->SampleCount(p->payload.size())) __builtin_trap();
    (void)jb.Push({p->ssrc, p->sequence, p->timestamp, now, pcm, d->is_audio()});
    jb.Pull(now, sink);
    if (jb.buffered_packets() > config.max_packets) __builtin_trap();
  }
  jb.Flush(sink);
  if (jb.buffered_packets() != 0) __builtin_trap();
  return 0;
}
