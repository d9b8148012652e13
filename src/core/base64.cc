#include "core/base64.h"

#include <array>
#include <cstdint>

namespace verbatim {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t EncodedSize(size_t n, bool pad) { return pad ? (n + 2) / 3 * 4 : n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1); }

// Writes into storage sized once: no per-character capacity checks (tokens are
// encoded on every grant, docs/performance.md).
void EncodeAppend(std::string& out, std::string_view in, const char* alphabet, bool pad) {
  const size_t at = out.size();
  out.resize(at + EncodedSize(in.size(), pad));
  char* o = out.data() + at;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    o[0] = alphabet[(v >> 18) & 63];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
    o += 4;
  }
  const size_t rest = in.size() - i;
  if (rest == 0) return;
  const uint32_t v = (uint32_t{p[i]} << 16) | (rest == 2 ? uint32_t{p[i + 1]} << 8 : 0);
  *o++ = alphabet[(v >> 18) & 63];
  *o++ = alphabet[(v >> 12) & 63];
  if (rest == 2) *o++ = alphabet[(v >> 6) & 63];
  if (pad) *o++ = '=';
  if (pad && rest == 1) *o++ = '=';
}

std::string Encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  EncodeAppend(out, in, alphabet, pad);
  return out;
}

std::array<int8_t, 256> Table(const char* alphabet) {
  std::array<int8_t, 256> t;
  t.fill(-1);
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}

std::optional<std::string> Decode(std::string_view s, const std::array<int8_t, 256>& table, bool padded) {
  if (padded) {
    if (s.size() % 4 != 0) return std::nullopt;
    size_t pads = 0;
    while (pads < 2 && pads < s.size() && s[s.size() - 1 - pads] == '=') ++pads;
    s.remove_suffix(pads);
  } else if (s.size() % 4 == 1) {
    return std::nullopt;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t full = s.size() / 4 * 4;
  const size_t rest = s.size() - full;  // 0, 2 or 3 characters: 0, 1 or 2 bytes
  std::string out(full / 4 * 3 + (rest ? rest - 1 : 0), '\0');
  char* o = out.data();
  for (size_t i = 0; i < full; i += 4) {
    const int32_t v = (int32_t{table[p[i]]} << 18) | (int32_t{table[p[i + 1]]} << 12) |
                      (int32_t{table[p[i + 2]]} << 6) | int32_t{table[p[i + 3]]};
    if (v < 0) return std::nullopt;  // a -1 (not in the alphabet) sets the sign bit
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>(v >> 8);
    o[2] = static_cast<char>(v);
    o += 3;
  }
  if (rest == 0) return out;
  int32_t v = 0;
  for (size_t k = 0; k < rest; ++k) {
    const int8_t d = table[p[full + k]];
    if (d < 0) return std::nullopt;
    v = (v << 6) | d;
  }
  // Leftover bits must be zero: otherwise two encodings map to one value.
  const int bits = rest == 2 ? 4 : 2;
  if ((v & ((1 << bits) - 1)) != 0) return std::nullopt;
  v >>= bits;
  if (rest == 3) *o++ = static_cast<char>(v >> 8);
  *o = static_cast<char>(v);
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, kStd, true); }
std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrl, false); }
void AppendBase64Url(std::string& out, std::string_view bytes) { EncodeAppend(out, bytes, kUrl, false); }

std::optional<std::string> Base64Decode(std::string_view s) {
  static const auto table = Table(kStd);
  return Decode(s, table, true);
}
std::optional<std::string> Base64UrlDecode(std::string_view s) {
  static const auto table = Table(kUrl);
  return Decode(s, table, false);
}

}  // namespace verbatim
