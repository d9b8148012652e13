// Signed media URLs (service/media_url.h): what one node signs, another node
// holding the same key-encryption key accepts, and nothing else does.
#include "service/media_url.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "core/base64.h"

namespace verbatim::service {
namespace {

// The query string's parameters (the signed query is plain a=b&c=d; no escapes).
std::map<std::string, std::string> ParamsOf(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at <= query.size()) {
    size_t amp = query.find('&', at);
    if (amp == std::string::npos) amp = query.size();
    std::string pair = query.substr(at, amp - at);
    size_t eq = pair.find('=');
    if (eq != std::string::npos) out[pair.substr(0, eq)] = pair.substr(eq + 1);
    at = amp + 1;
  }
  return out;
}

QueryLookup Lookup(const std::map<std::string, std::string>& params) {
  return [params](std::string_view name) -> std::optional<std::string> {
    auto it = params.find(std::string(name));
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
}

KeyEncryptionKey Kek(char fill) {
  return std::move(KeyEncryptionKey::FromBytes(std::string(KeyEncryptionKey::kBytes, fill))).value();
}

class MediaUrlTest : public ::testing::Test {
 protected:
  const std::string conversation = "6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90";
  const TimePoint now = FromUnixSeconds(1'800'000'000);
  SecretBox node_a{Kek('k')};
  SecretBox node_b{Kek('k')};  // same KEK file, another process

  MediaUrlGrant Grant() const {
    MediaUrlGrant g;
    g.conversation_id = conversation;
    g.segment = 2;
    g.node_id = "node-b";
    g.expires = ToUnixSeconds(now + kMediaUrlLifetime);
    g.principal_type = "client";
    g.principal_id = "viewer:with:colons";
    g.context_id = "ctx0123";
    return g;
  }
  Result<MediaUrlGrant> Verify(const std::map<std::string, std::string>& params, std::string_view path_id,
                               std::string_view self = "node-b", TimePoint at = {}) {
    return VerifySignedMedia(node_b, path_id, Lookup(params), self, at == TimePoint{} ? now : at);
  }
};

TEST_F(MediaUrlTest, AnotherNodeWithTheSameKekAcceptsWhatOneSigned) {
  auto params = ParamsOf(SignedMediaQuery(node_a, Grant()));
  auto got = Verify(params, conversation);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->segment, 2);
  EXPECT_EQ(got->node_id, "node-b");
  EXPECT_EQ(got->principal_type, "client");
  EXPECT_EQ(got->principal_id, "viewer:with:colons");
  EXPECT_EQ(got->context_id, "ctx0123");
  EXPECT_EQ(got->expires, Grant().expires);
}

TEST_F(MediaUrlTest, EveryChangedParameterBreaksTheSignature) {
  const auto params = ParamsOf(SignedMediaQuery(node_a, Grant()));
  const std::map<std::string, std::string> changes = {
      {"segment", "3"},
      {"expires", std::to_string(Grant().expires - 1)},
      {"by", Base64UrlEncode("client:admin")},
      {"ctx", "ctx9999"},
  };
  for (const auto& [name, value] : changes) {
    auto forged = params;
    forged[name] = value;
    auto got = Verify(forged, conversation);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().code(), "media.url.invalid") << name;
  }
  // The same URL on another conversation's path.
  auto other = Verify(params, "0e6f4f0e-9a55-4c1e-8d3f-7e2b1c906f1a");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), "media.url.invalid");
  // A signature one bit off.
  auto flipped = params;
  auto mac = *Base64UrlDecode(flipped["signature"]);
  mac[0] = static_cast<char>(mac[0] ^ 1);
  flipped["signature"] = Base64UrlEncode(mac);
  EXPECT_EQ(Verify(flipped, conversation).status().code(), "media.url.invalid");
}

TEST_F(MediaUrlTest, AnotherKekDoesNotVerify) {
  SecretBox stranger{Kek('x')};
  auto got = Verify(ParamsOf(SignedMediaQuery(stranger, Grant())), conversation);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "media.url.invalid");
  EXPECT_NE(got.status().message().find("--key-encryption-key-file"), std::string::npos);
}

TEST_F(MediaUrlTest, SignedForAnotherNodeIsRefusedByName) {
  auto got = Verify(ParamsOf(SignedMediaQuery(node_a, Grant())), conversation, "node-c");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "media.url.wrong.node");
  EXPECT_NE(got.status().message().find("node-b"), std::string::npos);
}

TEST_F(MediaUrlTest, ExpiresAfterItsLifetimeAndRefusesFarFutureExpiry) {
  const auto params = ParamsOf(SignedMediaQuery(node_a, Grant()));
  EXPECT_TRUE(Verify(params, conversation, "node-b", now + kMediaUrlLifetime - std::chrono::seconds(1)).ok());
  auto late = Verify(params, conversation, "node-b", now + kMediaUrlLifetime);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), "media.url.expired");
  // Signed (with the right key) for far ahead: a clock off by minutes, or a
  // URL meant to outlive its purpose. Refused.
  auto forever = Grant();
  forever.expires = ToUnixSeconds(now) + 86400;
  auto got = Verify(ParamsOf(SignedMediaQuery(node_a, forever)), conversation);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), "media.url.expired");
}

TEST_F(MediaUrlTest, MissingOrMalformedParametersAreInvalidNotErrors) {
  const auto params = ParamsOf(SignedMediaQuery(node_a, Grant()));
  for (const char* name : {"segment", "node", "expires", "by", "ctx", "signature"}) {
    auto missing = params;
    missing.erase(name);
    EXPECT_EQ(Verify(missing, conversation).status().code(), "media.url.invalid") << name;
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"segment", "0"}, {"segment", "-1"}, {"expires", "12x"}, {"node", "a/b"},
      {"by", "***"},    {"by", Base64UrlEncode("no-colon")}, {"signature", "%%"}, {"ctx", ""},
  };
  for (const auto& [name, value] : bad) {
    auto broken = params;
    broken[name] = value;
    EXPECT_EQ(Verify(broken, conversation).status().code(), "media.url.invalid") << name << "=" << value;
  }
}

}  // namespace
}  // namespace verbatim::service
