#include "media/rtp/packet.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace verbatim::media::rtp {
namespace {

std::vector<std::byte> Bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

std::vector<std::byte> Payload(size_t n, int seed = 0) {
  std::vector<std::byte> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = std::byte((i * 7 + seed) & 0xFF);
  return out;
}

PacketSpec FullSpec() {
  PacketSpec s;
  s.marker = true;
  s.payload_type = 96;
  s.sequence = 0xBEEF;
  s.timestamp = 0xDEADBEEF;
  s.ssrc = 0x01020304;
  s.csrc = {0x11111111, 0x22222222};
  s.has_extension = true;
  s.extension_profile = 0xBEDE;
  s.extension_data = Payload(8, 3);
  s.payload = Payload(160);
  s.padding = 4;
  return s;
}

TEST(RtpPacket, ParsesMinimalHeader) {
  const auto bytes = Bytes({0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x01, 0x40, 0xCA, 0xFE, 0xBA, 0xBE, 0xFF, 0x7F});
  ParseResult r = ParsePacket(bytes);
  ASSERT_TRUE(r.ok()) << ToString(r.error());
  EXPECT_FALSE(r->marker);
  EXPECT_EQ(r->payload_type, 0);
  EXPECT_EQ(r->sequence, 0x1234);
  EXPECT_EQ(r->timestamp, 320u);
  EXPECT_EQ(r->ssrc, 0xCAFEBABEu);
  EXPECT_EQ(r->csrc_count, 0);
  EXPECT_FALSE(r->has_extension);
  EXPECT_EQ(r->padding, 0);
  ASSERT_EQ(r->payload.size(), 2u);
  EXPECT_EQ(r->payload.data(), bytes.data() + 12);  // a view, not a copy
}

TEST(RtpPacket, ParsesEveryOptionalPart) {
  const auto bytes = BuildPacket(FullSpec());
  ASSERT_EQ(bytes.size(), 12u + 8 + 4 + 8 + 160 + 4);
  ParseResult r = ParsePacket(bytes);
  ASSERT_TRUE(r.ok()) << ToString(r.error());
  EXPECT_TRUE(r->marker);
  EXPECT_EQ(r->payload_type, 96);
  EXPECT_EQ(r->sequence, 0xBEEF);
  EXPECT_EQ(r->timestamp, 0xDEADBEEFu);
  EXPECT_EQ(r->ssrc, 0x01020304u);
  ASSERT_EQ(r->csrc_count, 2);
  EXPECT_EQ(r->csrc[0], 0x11111111u);
  EXPECT_EQ(r->csrc[1], 0x22222222u);
  EXPECT_TRUE(r->has_extension);
  EXPECT_EQ(r->extension_profile, 0xBEDE);
  EXPECT_EQ(std::vector<std::byte>(r->extension_data.begin(), r->extension_data.end()), Payload(8, 3));
  EXPECT_EQ(r->padding, 4);
  EXPECT_EQ(std::vector<std::byte>(r->payload.begin(), r->payload.end()), Payload(160));
}

TEST(RtpPacket, PaddingMayFillTheWholePayload) {
  PacketSpec s;
  s.padding = 7;
  ParseResult r = ParsePacket(BuildPacket(s));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->payload.empty());
  EXPECT_EQ(r->padding, 7);
}

TEST(RtpPacket, ErrorStringsAreStable) {
  EXPECT_STREQ(ToString(ParseError::kTooShort), "rtp.too.short");
  EXPECT_STREQ(ToString(ParseError::kBadVersion), "rtp.bad.version");
  EXPECT_STREQ(ToString(ParseError::kBadCsrc), "rtp.bad.csrc");
  EXPECT_STREQ(ToString(ParseError::kBadExtension), "rtp.bad.extension");
  EXPECT_STREQ(ToString(ParseError::kBadPadding), "rtp.bad.padding");
  EXPECT_STREQ(ToString(ParseError::kRtcp), "rtp.is.rtcp");
  ParseResult r = ParsePacket({});
  EXPECT_EQ(r.status().code(), "rtp.too.short");
  EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
}

struct BadCase {
  const char* name;
  std::vector<std::byte> bytes;
  ParseError error;
};

TEST(RtpPacket, EveryErrorIsReachable) {
  std::vector<BadCase> cases = {
      {"empty", {}, ParseError::kTooShort},
      {"one byte", Bytes({0x80}), ParseError::kTooShort},
      {"eleven bytes", Bytes({0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}), ParseError::kTooShort},
      {"version 0", Bytes({0x00, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}), ParseError::kBadVersion},
      {"version 1", Bytes({0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}), ParseError::kBadVersion},
      {"version 3", Bytes({0xC0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}), ParseError::kBadVersion},
      {"csrc past end", Bytes({0x82, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}), ParseError::kBadCsrc},
      {"extension header cut", Bytes({0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE}), ParseError::kBadExtension},
      {"extension length past end", Bytes({0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 2, 1, 2, 3, 4}),
       ParseError::kBadExtension},
      {"pad count zero", Bytes({0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x00}), ParseError::kBadPadding},
      {"pad count too big", Bytes({0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x03}), ParseError::kBadPadding},
      {"rtcp sender report", Bytes({0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0}), ParseError::kRtcp},
      {"rtcp receiver report, 8 bytes", Bytes({0x81, 201, 0, 1, 0, 0, 0, 1}), ParseError::kRtcp},
      {"rtcp bye", Bytes({0x81, 203, 0, 1, 0, 0, 0, 1}), ParseError::kRtcp},
      {"rtcp app", Bytes({0x80, 204, 0, 2, 0, 0, 0, 1, 'n', 'a', 'm', 'e'}), ParseError::kRtcp},
      {"rtcp too short", Bytes({0x80, 200, 0, 6}), ParseError::kTooShort},
  };
  std::set<ParseError> seen;
  for (const BadCase& c : cases) {
    ParseResult r = ParsePacket(c.bytes);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error(), c.error) << c.name << ": got " << ToString(r.error());
    seen.insert(r.error());
  }
  EXPECT_EQ(seen.size(), 6u) << "a ParseError value has no test case";
}

TEST(RtpPacket, RecognisesRtcpByTheRfc5761Rule) {
  // Second octet 192..223 is RTCP; 191 and 224 are RTP with the marker set.
  for (int second = 128; second < 256; ++second) {
    const auto bytes = Bytes({0x80, second, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1});
    const bool rtcp = second >= 192 && second <= 223;
    EXPECT_EQ(IsRtcp(bytes), rtcp) << second;
    ParseResult r = ParsePacket(bytes);
    EXPECT_EQ(!r.ok() && r.error() == ParseError::kRtcp, rtcp) << second;
    if (!rtcp) {
      ASSERT_TRUE(r.ok());
      EXPECT_TRUE(r->marker);
    }
  }
  EXPECT_FALSE(IsRtcp(Bytes({0x40, 200})));  // wrong version is not RTCP either
}

TEST(RtpPacket, EveryTruncationOfAValidPacketIsRejectedOrShorter) {
  const auto full = BuildPacket(FullSpec());
  for (size_t n = 0; n < full.size(); ++n) {
    std::span<const std::byte> cut(full.data(), n);
    ParseResult r = ParsePacket(cut);
    if (r.ok()) {
      // Cutting a padded packet can leave a "valid" one whose pad count is a payload
      // byte; it must still stay inside the input.
      EXPECT_GE(r->payload.data(), cut.data());
      EXPECT_LE(r->payload.data() + r->payload.size(), cut.data() + cut.size());
    } else {
      EXPECT_NE(r.error(), ParseError::kRtcp) << n;
    }
  }
  // Without padding, every strict prefix that still holds the headers parses,
  // and every shorter one names the part that was cut.
  PacketSpec s = FullSpec();
  s.padding = 0;
  const auto nopad = BuildPacket(s);
  for (size_t n = 0; n < nopad.size(); ++n) {
    ParseResult r = ParsePacket(std::span<const std::byte>(nopad.data(), n));
    if (n < 12) {
      EXPECT_EQ(r.error(), ParseError::kTooShort) << n;
    } else if (n < 20) {
      EXPECT_EQ(r.error(), ParseError::kBadCsrc) << n;
    } else if (n < 32) {
      EXPECT_EQ(r.error(), ParseError::kBadExtension) << n;
    } else {
      ASSERT_TRUE(r.ok()) << n;
      EXPECT_EQ(r->payload.size(), n - 32);
    }
  }
}

TEST(RtpPacket, RandomMutationsNeverEscapeTheInput) {
  std::mt19937 rng(42);
  const auto base = BuildPacket(FullSpec());
  for (int i = 0; i < 200000; ++i) {
    std::vector<std::byte> m = base;
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] = std::byte(rng() & 0xFF);
    m.resize(rng() % (m.size() + 1));
    ParseResult r = ParsePacket(m);
    if (!r.ok()) continue;
    const std::byte* lo = m.data();
    const std::byte* hi = m.data() + m.size();
    ASSERT_GE(r->payload.data(), lo);
    ASSERT_LE(r->payload.data() + r->payload.size(), hi);
    ASSERT_LE(r->csrc_count, kMaxCsrc);
    if (r->has_extension) {
      ASSERT_LE(r->extension_data.data() + r->extension_data.size(), hi);
    }
  }
  // Pure noise, every length up to 64.
  for (int i = 0; i < 100000; ++i) {
    std::vector<std::byte> m(rng() % 65);
    for (auto& b : m) b = std::byte(rng() & 0xFF);
    ParseResult r = ParsePacket(m);
    if (r.ok()) {
      ASSERT_LE(r->payload.data() + r->payload.size(), m.data() + m.size());
    }
  }
}

TEST(RtpPacket, BuildThenParseRoundTrips) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    PacketSpec s;
    s.marker = rng() & 1;
    s.payload_type = static_cast<uint8_t>(rng() % 128);
    if (s.marker && s.payload_type >= 64 && s.payload_type <= 95) s.payload_type = 0;  // would be RTCP
    s.sequence = static_cast<uint16_t>(rng());
    s.timestamp = static_cast<uint32_t>(rng());
    s.ssrc = static_cast<uint32_t>(rng());
    for (size_t c = rng() % 16; c > 0; --c) s.csrc.push_back(static_cast<uint32_t>(rng()));
    s.has_extension = rng() & 1;
    s.extension_data = Payload((rng() % 5) * 4, 1);
    s.payload = Payload(rng() % 400, 2);
    s.padding = static_cast<uint8_t>(rng() % 3 == 0 ? 1 + rng() % 255 : 0);
    const auto bytes = BuildPacket(s);
    ParseResult r = ParsePacket(bytes);
    ASSERT_TRUE(r.ok()) << ToString(r.error());
    EXPECT_EQ(r->marker, s.marker);
    EXPECT_EQ(r->payload_type, s.payload_type);
    EXPECT_EQ(r->sequence, s.sequence);
    EXPECT_EQ(r->timestamp, s.timestamp);
    EXPECT_EQ(r->ssrc, s.ssrc);
    ASSERT_EQ(r->csrc_count, s.csrc.size());
    for (size_t c = 0; c < s.csrc.size(); ++c) EXPECT_EQ(r->csrc[c], s.csrc[c]);
    EXPECT_EQ(r->has_extension, s.has_extension);
    EXPECT_EQ(r->padding, s.padding);
    EXPECT_EQ(std::vector<std::byte>(r->payload.begin(), r->payload.end()), s.payload);
  }
}

}  // namespace
}  // namespace verbatim::media::rtp
