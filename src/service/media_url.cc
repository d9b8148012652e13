#include "service/media_url.h"

#include <charconv>

#include "core/base64.h"

namespace verbatim::service {
namespace {

constexpr std::string_view kPurpose = "media-url";

std::string SignedText(const MediaUrlGrant& g, std::string_view by) {
  std::string m = "media-url v1\n";
  m.append(g.conversation_id).append("\n").append(std::to_string(g.segment)).append("\n");
  m.append(g.node_id).append("\n").append(std::to_string(g.expires)).append("\n");
  m.append(by).append("\n").append(g.context_id);
  return m;
}

// Node and context ids are ours (UUIDs, hex): anything else in them is forged.
bool IsIdText(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
      return false;
  return true;
}

template <typename Int>
bool ParseDecimal(std::string_view s, Int& out) {
  if (s.empty() || s.size() > 19) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

Status Invalid(std::string why) {
  return Status::PermissionDenied("media.url.invalid",
                                  "This signed media URL " + why +
                                      ". Ask any node again: GET …/media with your bearer token returns a fresh one.");
}

}  // namespace

std::string SignedMediaQuery(const SecretBox& box, const MediaUrlGrant& g) {
  const std::string by = g.principal_type + ":" + g.principal_id;
  std::string q = "segment=" + std::to_string(g.segment) + "&node=" + g.node_id +
                  "&expires=" + std::to_string(g.expires) + "&by=" + Base64UrlEncode(by) + "&ctx=" + g.context_id +
                  "&signature=";
  AppendBase64Url(q, box.Mac(kPurpose, SignedText(g, by)));
  return q;
}


Result<MediaUrlGrant> VerifySignedMedia(const SecretBox& box, std::string_view conversation_id,
                                        const QueryLookup& query, std::string_view self_node, TimePoint now) {
  MediaUrlGrant g;
  g.conversation_id = std::string(conversation_id);
  auto segment = query("segment"), node = query("node"), expires = query("expires"), by = query("by"),
       ctx = query("ctx"), signature = query("signature");
  if (!segment || !node || !expires || !by || !ctx || !signature)
    return Invalid("is incomplete (it needs segment, node, expires, by, ctx and signature)");
  if (!ParseDecimal(*segment, g.segment) || g.segment < 1 || !ParseDecimal(*expires, g.expires) ||
      !IsIdText(*node) || !IsIdText(*ctx))
    return Invalid("has a malformed parameter");
  auto by_raw = Base64UrlDecode(*by);
  auto mac = Base64UrlDecode(*signature);
  if (!by_raw || !mac) return Invalid("has a malformed parameter");
  const size_t colon = by_raw->find(':');
  if (colon == std::string::npos) return Invalid("has a malformed parameter");
  g.node_id = *node;
  g.context_id = *ctx;
  g.principal_type = by_raw->substr(0, colon);
  g.principal_id = by_raw->substr(colon + 1);
  // The signature first: nothing else in the URL is believed before it verifies.
  if (!box.VerifyMac(kPurpose, SignedText(g, *by_raw), *mac))
    return Invalid("does not verify: it was changed, belongs to another conversation, or was signed with another "
                   "key-encryption key (every node must load the same --key-encryption-key-file)");
  if (g.node_id != self_node)
    return Status::PermissionDenied("media.url.wrong.node",
                                    "This signed media URL is for node " + g.node_id + ", not this node (" +
                                        std::string(self_node) + "). Follow the Location the API returned as it is.");
  const int64_t t = ToUnixSeconds(now);
  if (t >= g.expires || g.expires - t > kMediaUrlLifetime.count() + 30)
    return Status::PermissionDenied(
        "media.url.expired",
        "This signed media URL expired (they last " + std::to_string(kMediaUrlLifetime.count()) +
            " s; or this node's clock is far from the signing node's). Ask any node again: GET …/media with your "
            "bearer token returns a fresh one.");
  return g;
}

}  // namespace verbatim::service
