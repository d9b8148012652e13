// Standard Webhooks signing (transports/webhook/webhook_signature.h): the
// specification's published test vector, so that a receiver's off-the-shelf
// library accepts our signatures; what changes a signature; the secret format.
#include "transports/webhook/webhook_signature.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/base64.h"
#include "core/crypto.h"

namespace verbatim::webhook {
namespace {

// The vector every Standard Webhooks reference library tests its signer with.
constexpr std::string_view kVectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kVectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kVectorTimestamp = 1614265330;
constexpr std::string_view kVectorBody = R"({"test": 2432232314})";
constexpr std::string_view kVectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::string Sign(std::string_view secret, std::string_view id, int64_t ts, std::string_view body) {
  Result<std::string> s = SignWebhook(secret, id, ts, body);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : "";
}

TEST(SignWebhook, ReproducesTheStandardWebhooksTestVector) {
  EXPECT_EQ(Sign(kVectorSecret, kVectorId, kVectorTimestamp, kVectorBody), kVectorSignature);
}

TEST(SignWebhook, ChangesWhenTheBodyTheIdTheTimestampOrTheSecretChanges) {
  const std::string original = Sign(kVectorSecret, kVectorId, kVectorTimestamp, kVectorBody);
  const std::set<std::string> signatures = {
      original,
      Sign(kVectorSecret, kVectorId, kVectorTimestamp, R"({"test": 2432232315})"),
      Sign(kVectorSecret, kVectorId, kVectorTimestamp, R"({"test":2432232314})"),
      Sign(kVectorSecret, "msg_p5jXN8AQM9LWM0D4loKWxJel", kVectorTimestamp, kVectorBody),
      Sign(kVectorSecret, kVectorId, kVectorTimestamp + 1, kVectorBody),
      Sign("whsec_" + Base64Encode(std::string(24, 'k')), kVectorId, kVectorTimestamp, kVectorBody),
  };
  EXPECT_EQ(signatures.size(), 6u);
}

TEST(SignWebhook, SignsIdDotTimestampDotBodyWithTheDecodedKey) {
  const std::string key(32, '\x5a');
  const std::string expected = "v1," + Base64Encode(HmacSha256(key, "msg_1.-42.{\"a\":[1,2]}"));
  EXPECT_EQ(Sign("whsec_" + Base64Encode(key), "msg_1", -42, R"({"a":[1,2]})"), expected);
  EXPECT_EQ(Sign("whsec_" + Base64Encode(key), "msg_1", 7, ""), "v1," + Base64Encode(HmacSha256(key, "msg_1.7.")));
}

TEST(NewWebhookSecret, IsWhsecAndBase64OfTwentyFourRandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    const std::string secret = NewWebhookSecret();
    ASSERT_EQ(secret.rfind("whsec_", 0), 0u) << secret;
    EXPECT_EQ(secret.size(), 6u + 32u);
    std::optional<std::string> key = Base64Decode(secret.substr(6));
    ASSERT_TRUE(key.has_value()) << secret;
    EXPECT_EQ(key->size(), kWebhookSecretBytes);
    EXPECT_TRUE(SignWebhook(secret, kVectorId, kVectorTimestamp, kVectorBody).ok());
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 16u);
}

TEST(SignWebhook, AcceptsKeysFromTwentyFourToSixtyFourBytes) {
  EXPECT_TRUE(SignWebhook("whsec_" + Base64Encode(std::string(24, 'a')), "id", 1, "b").ok());
  EXPECT_TRUE(SignWebhook("whsec_" + Base64Encode(std::string(64, 'a')), "id", 1, "b").ok());
}

TEST(SignWebhook, RefusesAMalformedSecret) {
  for (const std::string& secret : {
           std::string(""),
           std::string("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),  // no prefix
           std::string("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::string("whsec_"),
           std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"),   // truncated base64
           std::string("whsec_MfKQ9r8GKYqrTwjU D8ILPZIo2LaLaSw"),  // not base64
           std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-_"),  // base64url, not base64
           "whsec_" + Base64Encode(std::string(23, 'a')),          // key too short
           "whsec_" + Base64Encode(std::string(65, 'a')),          // key too long
       }) {
    SCOPED_TRACE(secret);
    Result<std::string> s = SignWebhook(secret, kVectorId, kVectorTimestamp, kVectorBody);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_EQ(s.status().code(), "webhook.secret.invalid");
  }
}

}  // namespace
}  // namespace verbatim::webhook
