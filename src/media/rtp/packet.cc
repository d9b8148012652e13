#include "media/rtp/packet.h"

#include <algorithm>

namespace verbatim::media::rtp {
namespace {

uint8_t U8(std::span<const std::byte> b, size_t i) { return static_cast<uint8_t>(b[i]); }
uint16_t U16(std::span<const std::byte> b, size_t i) {
  return static_cast<uint16_t>(U8(b, i) << 8 | U8(b, i + 1));
}
uint32_t U32(std::span<const std::byte> b, size_t i) {
  return static_cast<uint32_t>(U16(b, i)) << 16 | U16(b, i + 2);
}

void Put16(std::vector<std::byte>& out, uint16_t v) {
  out.push_back(std::byte(v >> 8));
  out.push_back(std::byte(v & 0xFF));
}
void Put32(std::vector<std::byte>& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xFFFF));
}

}  // namespace

const char* ToString(ParseError e) {
  switch (e) {
    case ParseError::kTooShort: return "rtp.too.short";
    case ParseError::kBadVersion: return "rtp.bad.version";
    case ParseError::kBadCsrc: return "rtp.bad.csrc";
    case ParseError::kBadExtension: return "rtp.bad.extension";
    case ParseError::kBadPadding: return "rtp.bad.padding";
    case ParseError::kRtcp: return "rtp.is.rtcp";
  }
  return "rtp.unknown";
}

Status ParseResult::status() const {
  if (ok_) return Status::Ok();
  return Status::InvalidArgument(ToString(error_), "RTP packet rejected");
}

bool IsRtcp(std::span<const std::byte> d) {
  if (d.size() < 2 || (U8(d, 0) >> 6) != 2) return false;
  const uint8_t second = U8(d, 1);
  return second >= 192 && second <= 223;
}

ParseResult ParsePacket(std::span<const std::byte> d) {
  if (d.size() < 2) return ParseError::kTooShort;
  const uint8_t b0 = U8(d, 0);
  if ((b0 >> 6) != 2) return ParseError::kBadVersion;
  // Demultiplex before the RTP length check: an RTCP RR without report blocks is 8 bytes.
  if (IsRtcp(d)) return d.size() >= 8 ? ParseError::kRtcp : ParseError::kTooShort;
  if (d.size() < kFixedHeaderSize) return ParseError::kTooShort;

  Packet p;
  const uint8_t b1 = U8(d, 1);
  p.marker = (b1 & 0x80) != 0;
  p.payload_type = b1 & 0x7F;
  p.sequence = U16(d, 2);
  p.timestamp = U32(d, 4);
  p.ssrc = U32(d, 8);
  p.csrc_count = b0 & 0x0F;

  size_t off = kFixedHeaderSize;
  // Every length below is checked against what remains before it is used.
  if (d.size() - off < size_t{p.csrc_count} * 4) return ParseError::kBadCsrc;
  for (size_t i = 0; i < p.csrc_count; ++i, off += 4) p.csrc[i] = U32(d, off);

  if ((b0 & 0x10) != 0) {
    if (d.size() - off < 4) return ParseError::kBadExtension;
    p.has_extension = true;
    p.extension_profile = U16(d, off);
    const size_t words = U16(d, off + 2);
    off += 4;
    if (d.size() - off < words * 4) return ParseError::kBadExtension;
    p.extension_data = d.subspan(off, words * 4);
    off += words * 4;
  }

  size_t end = d.size();
  if ((b0 & 0x20) != 0) {
    // The last octet counts the padding including itself (RFC 3550 §5.1).
    const uint8_t pad = U8(d, d.size() - 1);
    if (pad == 0 || pad > end - off) return ParseError::kBadPadding;
    p.padding = pad;
    end -= pad;
  }
  p.payload = d.subspan(off, end - off);
  return p;
}

std::vector<std::byte> BuildPacket(const PacketSpec& s) {
  std::vector<std::byte> out;
  const size_t cc = std::min(s.csrc.size(), kMaxCsrc);
  // The length field is 16 bits of 32-bit words: longer extension data is cut.
  const size_t ext_bytes = std::min<size_t>(s.extension_data.size(), size_t{0xFFFF} * 4);
  const size_t ext_words = (ext_bytes + 3) / 4;
  out.reserve(kFixedHeaderSize + cc * 4 + 4 + ext_words * 4 + s.payload.size() + s.padding);

  uint8_t b0 = 2 << 6 | static_cast<uint8_t>(cc);
  if (s.padding != 0) b0 |= 0x20;
  if (s.has_extension) b0 |= 0x10;
  out.push_back(std::byte(b0));
  out.push_back(std::byte((s.marker ? 0x80 : 0) | (s.payload_type & 0x7F)));
  Put16(out, s.sequence);
  Put32(out, s.timestamp);
  Put32(out, s.ssrc);
  for (size_t i = 0; i < cc; ++i) Put32(out, s.csrc[i]);
  if (s.has_extension) {
    Put16(out, s.extension_profile);
    Put16(out, static_cast<uint16_t>(ext_words));
    out.insert(out.end(), s.extension_data.begin(), s.extension_data.begin() + static_cast<std::ptrdiff_t>(ext_bytes));
    out.resize(out.size() + (ext_words * 4 - ext_bytes), std::byte{0});
  }
  out.insert(out.end(), s.payload.begin(), s.payload.end());
  if (s.padding != 0) {
    out.resize(out.size() + s.padding - 1, std::byte{0});
    out.push_back(std::byte(s.padding));
  }
  return out;
}

}  // namespace verbatim::media::rtp
