#include "core/secret_box.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/base64.h"

namespace verbatim {
namespace {

KeyEncryptionKey FixedKey(char fill) { return std::move(KeyEncryptionKey::FromBytes(std::string(32, fill))).value(); }

TEST(KeyEncryptionKey, IsThirtyTwoBytesWithAStableIdThatIsNotTheKey) {
  EXPECT_EQ(KeyEncryptionKey::FromBytes(std::string(31, 'k')).status().code(), "kek.malformed");
  EXPECT_EQ(KeyEncryptionKey::FromBytes(std::string(33, 'k')).status().code(), "kek.malformed");
  KeyEncryptionKey a = FixedKey('a');
  EXPECT_EQ(a.id().size(), 16u);
  EXPECT_EQ(a.id(), FixedKey('a').id()) << "the id is a function of the key";
  EXPECT_NE(a.id(), FixedKey('b').id());
  EXPECT_EQ(a.bytes(), std::string(32, 'a'));
  EXPECT_NE(KeyEncryptionKey::Generate().id(), KeyEncryptionKey::Generate().id());
}

TEST(SecretBox, SealsToAVersionedEnvelopeThatOpensWithTheSameKeyAndContext) {
  const SecretBox box(FixedKey('k'));
  const std::string sealed = box.Seal("-----BEGIN PRIVATE KEY-----xyz", "signing-key:kid1");
  EXPECT_EQ(sealed.rfind("v1:" + box.key_id() + ":", 0), 0u) << sealed;
  EXPECT_EQ(sealed.find("PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(SecretBox::IsEnvelope(sealed));
  EXPECT_EQ(SecretBox::KeyIdOf(sealed), box.key_id());
  auto opened = box.Open(sealed, "signing-key:kid1");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "-----BEGIN PRIVATE KEY-----xyz");
}

TEST(SecretBox, UsesAFreshNonceForEveryValue) {
  const SecretBox box(FixedKey('k'));
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(box.Seal("same", "integration:1"));
  EXPECT_EQ(seen.size(), 50u);
}

TEST(SecretBox, ACiphertextSwappedBetweenTwoRowsDoesNotOpen) {
  const SecretBox box(FixedKey('k'));
  const std::string a = box.Seal("secret of a", "integration:a");
  const std::string b = box.Seal("secret of b", "integration:b");
  EXPECT_EQ(box.Open(a, "integration:b").status().code(), "secret.tampered");
  EXPECT_EQ(box.Open(b, "integration:a").status().code(), "secret.tampered");
  // Nor across kinds with the same id.
  EXPECT_EQ(box.Open(a, "signing-key:a").status().code(), "secret.tampered");
  EXPECT_TRUE(box.Open(a, "integration:a").ok());
}

TEST(SecretBox, AnotherKeySaysWhichKeySealedTheValue) {
  const SecretBox box(FixedKey('k'));
  const SecretBox other(FixedKey('o'));
  const std::string sealed = box.Seal("x", "c");
  auto r = other.Open(sealed, "c");
  EXPECT_EQ(r.status().code(), "secret.wrong.key");
  EXPECT_NE(r.status().message().find(box.key_id()), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(other.key_id()), std::string::npos) << r.status().message();
  // A forged header (the other key's id on this key's box) fails the tag: the id is authenticated.
  std::string forged = "v1:" + other.key_id() + sealed.substr(3 + 16);
  EXPECT_EQ(other.Open(forged, "c").status().code(), "secret.tampered");
}

TEST(SecretBox, AnyChangedByteFailsAndMalformedInputIsNamed) {
  const SecretBox box(FixedKey('k'));
  const std::string sealed = box.Seal("plaintext", "c");
  auto raw = Base64UrlDecode(std::string_view(sealed).substr(20));
  ASSERT_TRUE(raw);
  for (size_t i = 0; i < raw->size(); ++i) {
    std::string changed = *raw;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_EQ(box.Open(sealed.substr(0, 20) + Base64UrlEncode(changed), "c").status().code(), "secret.tampered")
        << "byte " << i;
  }
  for (std::string bad : {std::string(), std::string("v1:"), std::string("-----BEGIN PRIVATE KEY-----"),
                          "v2:" + box.key_id() + ":" + sealed.substr(20), "v1:" + box.key_id() + ":!!!!",
                          "v1:" + box.key_id() + ":" + Base64UrlEncode(std::string(39, 'x')),
                          "v1:ABCDEF0123456789:" + sealed.substr(20)}) {
    EXPECT_EQ(box.Open(bad, "c").status().code(), "secret.malformed") << bad;
    EXPECT_FALSE(SecretBox::IsEnvelope(bad)) << bad;
  }
}

TEST(SecretBox, SealsEmptyAndBinaryValues) {
  const SecretBox box(FixedKey('k'));
  const std::string binary("\0\x01\xff\n", 4);
  EXPECT_EQ(*box.Open(box.Seal(binary, "c"), "c"), binary);
  EXPECT_EQ(*box.Open(box.Seal("", "c"), "c"), "");
}

TEST(SecretBox, MacIsPerKeyAndPerPurpose) {
  const SecretBox box(FixedKey('k'));
  const std::string mac = box.Mac("media-url", "message");
  EXPECT_EQ(mac.size(), 32u);
  EXPECT_EQ(SecretBox(FixedKey('k')).Mac("media-url", "message"), mac);  // another node, same KEK
  EXPECT_TRUE(box.VerifyMac("media-url", "message", mac));
  EXPECT_FALSE(box.VerifyMac("media-url", "messagE", mac));
  EXPECT_FALSE(box.VerifyMac("other-purpose", "message", mac));
  EXPECT_FALSE(SecretBox(FixedKey('j')).VerifyMac("media-url", "message", mac));
  EXPECT_FALSE(box.VerifyMac("media-url", "message", mac.substr(0, 31)));
  EXPECT_FALSE(box.VerifyMac("media-url", "message", ""));
}

}  // namespace
}  // namespace verbatim
