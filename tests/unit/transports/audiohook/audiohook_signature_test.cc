#include <gtest/gtest.h>

#include <string>

#include "transports/audiohook/http_signature.h"
#include "transports/http/integration_secrets.h"
#include "core/base64.h"
#include "core/crypto.h"

namespace verbatim::api {
namespace {

// The example of the AudioHook protocol documentation, which the reference
// implementation's verifier test also uses (signature-verifier.test.ts).
constexpr const char* kApiKey = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";
constexpr const char* kSecretB64 = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=";
constexpr const char* kDocInput =
    "sig1=(\"@request-target\" \"@authority\" \"audiohook-organization-id\" \"audiohook-session-id\" "
    "\"audiohook-correlation-id\" \"x-api-key\");keyid=\"SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh\";"
    "nonce=\"VGhpc0lzQVVuaXF1ZU5vbmNl\";alg=\"hmac-sha256\";created=1641013200;expires=3282026430";
constexpr const char* kDocSignature = "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:";
constexpr int64_t kCreated = 1641013200;

SignedRequest DocRequest() {
  SignedRequest r;
  r.method = "GET";
  r.authority = "audiohook.example.com";
  r.target = "/api/v1/voicebiometrics/ws";
  r.headers = {{"host", "audiohook.example.com"},
               {"audiohook-organization-id", "d7934305-0972-4844-938e-9060eef73d05"},
               {"audiohook-session-id", "30b0e395-84d3-4570-ac13-9a62d8f514c0"},
               {"audiohook-correlation-id", "e160e428-53e2-487c-977d-96989bf5c99d"},
               {"x-api-key", kApiKey},
               {"signature-input", kDocInput},
               {"signature", kDocSignature}};
  return r;
}

std::string Key() { return *Base64Decode(kSecretB64); }

SignatureVerifier::KeyLookup Lookup(std::string key = Key()) {
  return [key](const std::string& api_key) -> std::optional<std::string> {
    if (api_key == kApiKey) return key;
    return std::nullopt;
  };
}

TimePoint At(int64_t unix_seconds) { return FromUnixSeconds(unix_seconds); }

void SetHeader(SignedRequest& r, const std::string& name, const std::string& value) {
  for (auto& [k, v] : r.headers)
    if (k == name) {
      v = value;
      return;
    }
  r.headers.emplace_back(name, value);
}

// Signs `r` as a client would, for the Signature-Input already set in it.
void Sign(SignedRequest& r, const std::string& key = Key()) {
  SetHeader(r, "signature", "sig1=:AAAA:");
  SignatureBase b;
  VerifyOptions any;
  any.required.clear();  // a client may sign too little: the verifier must say so
  ASSERT_TRUE(BuildSignatureBase(r, any, b).ok());
  SetHeader(r, "signature", "sig1=:" + Base64Encode(HmacSha256(key, b.base)) + ":");
}

std::string Input(int64_t created, const std::string& nonce = "VGhpc0lzQVVuaXF1ZU5vbmNl",
                  const std::string& components = "\"@request-target\" \"@authority\" \"audiohook-organization-id\" "
                                                  "\"audiohook-session-id\" \"audiohook-correlation-id\" \"x-api-key\"",
                  const std::string& extra = "") {
  return "sig1=(" + components + ");keyid=\"" + kApiKey + "\";nonce=\"" + nonce + "\";alg=\"hmac-sha256\";created=" +
         std::to_string(created) + ";expires=" + std::to_string(created + 30) + extra;
}

TEST(AudioHookSignature, BuildsTheSignatureBaseOfTheDocumentationExample) {
  SignatureBase b;
  SignatureCheck c = BuildSignatureBase(DocRequest(), VerifyOptions{}, b);
  ASSERT_TRUE(c.ok()) << c.detail;
  EXPECT_EQ(
      b.base,
      "\"@request-target\": /api/v1/voicebiometrics/ws\n"
      "\"@authority\": audiohook.example.com\n"
      "\"audiohook-organization-id\": d7934305-0972-4844-938e-9060eef73d05\n"
      "\"audiohook-session-id\": 30b0e395-84d3-4570-ac13-9a62d8f514c0\n"
      "\"audiohook-correlation-id\": e160e428-53e2-487c-977d-96989bf5c99d\n"
      "\"x-api-key\": SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh\n"
      "\"@signature-params\": (\"@request-target\" \"@authority\" \"audiohook-organization-id\" "
      "\"audiohook-session-id\" \"audiohook-correlation-id\" \"x-api-key\");keyid=\"SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh\";"
      "nonce=\"VGhpc0lzQVVuaXF1ZU5vbmNl\";alg=\"hmac-sha256\";created=1641013200;expires=3282026430");
  EXPECT_EQ(b.params.keyid, kApiKey);
  EXPECT_EQ(b.params.created, kCreated);
  // The documented signature is the HMAC of exactly this base.
  EXPECT_EQ(Base64Encode(HmacSha256(Key(), b.base)), "NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=");
}

TEST(AudioHookSignature, VerifiesTheDocumentationExample) {
  SignatureVerifier v;
  SignatureCheck c = v.Verify(DocRequest(), Lookup(), At(kCreated + 3));
  EXPECT_TRUE(c.ok()) << ToString(c.problem) << ": " << c.detail;
}

TEST(AudioHookSignature, WrongKeyUnknownKeyAndTamperingFail) {
  SignatureVerifier v;
  SignatureCheck wrong = v.Verify(DocRequest(), Lookup(std::string(32, 'x')), At(kCreated));
  EXPECT_EQ(wrong.problem, SignatureProblem::kMismatch);
  EXPECT_EQ(wrong.field, "signature");

  SignedRequest other = DocRequest();
  SetHeader(other, "x-api-key", "another-key-another-key");
  SetHeader(other, "signature-input", std::string(kDocInput).replace(std::string(kDocInput).find(kApiKey), 32,
                                                                     "another-key-another-key"));
  EXPECT_EQ(v.Verify(other, Lookup(), At(kCreated)).problem, SignatureProblem::kUnknownKey);

  SignedRequest tampered = DocRequest();
  SetHeader(tampered, "audiohook-session-id", "00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(v.Verify(tampered, Lookup(), At(kCreated)).problem, SignatureProblem::kMismatch);

  SignedRequest moved = DocRequest();
  moved.target = "/api/v2/media/audiohook";
  EXPECT_EQ(v.Verify(moved, Lookup(), At(kCreated)).problem, SignatureProblem::kMismatch);
}

TEST(AudioHookSignature, AcceptsTenSecondsOfClockSkewEitherWay) {
  struct Case {
    int64_t now;
    SignatureProblem expected;
  };
  for (const Case& c : {Case{kCreated - 10, SignatureProblem::kNone}, Case{kCreated + 10, SignatureProblem::kNone},
                        Case{kCreated - 11, SignatureProblem::kNotYetValid},
                        Case{kCreated + 11, SignatureProblem::kExpired}}) {
    SignatureVerifier v;  // fresh: no nonce history
    SignatureCheck r = v.Verify(DocRequest(), Lookup(), At(c.now));
    EXPECT_EQ(r.problem, c.expected) << "now = created " << (c.now - kCreated) << " s: " << r.detail;
  }
  // A short 'expires' is honoured too (with the same skew).
  SignedRequest r = DocRequest();
  SetHeader(r, "signature-input", Input(kCreated) + "");
  std::string in = Input(kCreated);
  in.replace(in.find(";expires="), std::string::npos, ";expires=" + std::to_string(kCreated + 1));
  SetHeader(r, "signature-input", in);
  Sign(r);
  SignatureVerifier v;
  EXPECT_EQ(v.Verify(r, Lookup(), At(kCreated + 10)).problem, SignatureProblem::kNone);
  SignatureVerifier w;
  EXPECT_EQ(w.Verify(r, Lookup(), At(kCreated + 12)).problem, SignatureProblem::kExpired);
}

TEST(AudioHookSignature, RefusesAReplayedNonce) {
  SignatureVerifier v;
  EXPECT_TRUE(v.Verify(DocRequest(), Lookup(), At(kCreated)).ok());
  SignatureCheck again = v.Verify(DocRequest(), Lookup(), At(kCreated + 1));
  EXPECT_EQ(again.problem, SignatureProblem::kReplayed);
  EXPECT_EQ(again.field, "nonce");
  // A fresh nonce is fine; a bad signature does not burn the nonce it names.
  SignedRequest fresh = DocRequest();
  SetHeader(fresh, "signature-input", Input(kCreated, "QW5vdGhlclVuaXF1ZU5vbmNlMTIz"));
  SignedRequest forged = fresh;
  Sign(forged, std::string(32, 'z'));
  EXPECT_EQ(v.Verify(forged, Lookup(), At(kCreated + 1)).problem, SignatureProblem::kMismatch);
  Sign(fresh);
  EXPECT_TRUE(v.Verify(fresh, Lookup(), At(kCreated + 1)).ok());
}

TEST(AudioHookSignature, NamesStructuralProblems) {
  SignatureVerifier v;
  auto check = [&](SignedRequest r) { return v.Verify(r, Lookup(), At(kCreated)); };

  SignedRequest unsigned_req = DocRequest();
  unsigned_req.headers.resize(5);  // drop signature-input and signature
  EXPECT_EQ(check(unsigned_req).problem, SignatureProblem::kUnsigned);

  SignedRequest garbage = DocRequest();
  SetHeader(garbage, "signature-input", "sig1=(\"@authority\"");
  EXPECT_EQ(check(garbage).problem, SignatureProblem::kMalformed);

  SignedRequest mismatch = DocRequest();
  SetHeader(mismatch, "x-api-key", "something-else");
  EXPECT_EQ(check(mismatch).problem, SignatureProblem::kKeyMismatch);

  SignedRequest uncovered = DocRequest();
  SetHeader(uncovered, "signature-input",
            Input(kCreated, "VGhpc0lzQVVuaXF1ZU5vbmNl",
                  "\"@request-target\" \"@authority\" \"audiohook-organization-id\" \"audiohook-correlation-id\" "
                  "\"x-api-key\""));
  Sign(uncovered);
  SignatureCheck c = check(uncovered);
  EXPECT_EQ(c.problem, SignatureProblem::kMissingComponent);
  EXPECT_NE(c.detail.find("audiohook-session-id"), std::string::npos) << c.detail;

  SignedRequest absent = DocRequest();
  absent.headers.erase(absent.headers.begin() + 3);  // audiohook-correlation-id
  EXPECT_EQ(check(absent).problem, SignatureProblem::kMissingComponent);

  SignedRequest alg = DocRequest();
  std::string in = Input(kCreated);
  in.replace(in.find("hmac-sha256"), 11, "rsa-pss-sha512");
  SetHeader(alg, "signature-input", in);
  Sign(alg);
  EXPECT_EQ(check(alg).problem, SignatureProblem::kBadAlgorithm);

  SignedRequest short_nonce = DocRequest();
  SetHeader(short_nonce, "signature-input", Input(kCreated, "abc"));
  Sign(short_nonce);
  EXPECT_EQ(check(short_nonce).field, "nonce");

  SignedRequest params = DocRequest();
  SetHeader(params, "signature-input", Input(kCreated, "VGhpc0lzQVVuaXF1ZU5vbmNl",
                                             "\"@request-target\";req \"@authority\" \"audiohook-organization-id\" "
                                             "\"audiohook-session-id\" \"audiohook-correlation-id\" \"x-api-key\""));
  EXPECT_EQ(check(params).problem, SignatureProblem::kUnsupported);
}

TEST(AudioHookSignature, PathMayStandInForTheRequestTarget) {
  SignedRequest r = DocRequest();
  r.target = "/api/v2/media/audiohook?x=1";
  SetHeader(r, "signature-input",
            Input(kCreated, "VGhpc0lzQVVuaXF1ZU5vbmNl",
                  "\"@path\" \"@authority\" \"audiohook-organization-id\" \"audiohook-session-id\" "
                  "\"audiohook-correlation-id\" \"x-api-key\""));
  Sign(r);
  SignatureBase b;
  ASSERT_TRUE(BuildSignatureBase(r, VerifyOptions{}, b).ok());
  EXPECT_EQ(b.base.substr(0, b.base.find('\n')), "\"@path\": /api/v2/media/audiohook");
  SignatureVerifier v;
  EXPECT_TRUE(v.Verify(r, Lookup(), At(kCreated)).ok());
}

TEST(AudioHookSignature, ProblemNamesArePinned) {
  EXPECT_STREQ(ToString(SignatureProblem::kUnsigned), "unsigned");
  EXPECT_STREQ(ToString(SignatureProblem::kMalformed), "malformed");
  EXPECT_STREQ(ToString(SignatureProblem::kKeyMismatch), "key.mismatch");
  EXPECT_STREQ(ToString(SignatureProblem::kMissingComponent), "missing.component");
  EXPECT_STREQ(ToString(SignatureProblem::kExpired), "expired");
  EXPECT_STREQ(ToString(SignatureProblem::kUnknownKey), "unknown.key");
  EXPECT_STREQ(ToString(SignatureProblem::kMismatch), "mismatch");
  EXPECT_STREQ(ToString(SignatureProblem::kReplayed), "replayed");
}

TEST(StructuredFields, ParsesAndReserializesDictionaries) {
  auto d = sf::ParseDictionary(kDocInput);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 1u);
  EXPECT_TRUE((*d)[0].is_inner_list);
  EXPECT_EQ(std::string("sig1=") + sf::Serialize((*d)[0].list), kDocInput);

  auto sig = sf::ParseDictionary(kDocSignature);
  ASSERT_TRUE(sig);
  EXPECT_EQ((*sig)[0].item.value.kind, sf::BareItem::Kind::kBytes);
  EXPECT_EQ((*sig)[0].item.value.text.size(), 32u);

  auto many = sf::ParseDictionary("a=1, b=?0, c;x=\"q\\\"\", d=tok/en:1, e=-2.5");
  ASSERT_TRUE(many);
  ASSERT_EQ(many->size(), 5u);
  EXPECT_EQ((*many)[2].item.params[0].value.text, "q\"");
  EXPECT_EQ(sf::Serialize((*many)[4].item.value), "-2.5");

  for (const char* bad : {"", "A=1", "a=1,", "a=1,,b=2", "a=\"unterminated", "a=(1 2", "a=:!!:", "a=1, a=2",
                          "a=1;p;p", "a=1x", "a=\"\x01\"", "a=?2", "a=1234567890123456"}) {
    auto r = sf::ParseDictionary(bad);
    if (std::string_view(bad).empty()) {
      EXPECT_TRUE(r && r->empty());
    } else {
      EXPECT_FALSE(r) << bad;
    }
  }
}

TEST(NonceCache, IsBoundedAndForgetsExpiredNonces) {
  NonceCache c(2);
  EXPECT_EQ(c.Insert("a", 100, 0), NonceCache::Outcome::kFresh);
  EXPECT_EQ(c.Insert("a", 100, 1), NonceCache::Outcome::kReplayed);
  EXPECT_EQ(c.Insert("b", 50, 1), NonceCache::Outcome::kFresh);
  EXPECT_EQ(c.Insert("c", 100, 1), NonceCache::Outcome::kFull);
  EXPECT_EQ(c.Insert("c", 100, 50), NonceCache::Outcome::kFresh);  // b expired
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.Insert("a", 200, 100), NonceCache::Outcome::kFresh);  // a expired at 100
}

TEST(IntegrationSecrets, AreSealedForTheirOwnIdUnderTheKeyEncryptionKey) {
  const SecretBox box(KeyEncryptionKey::Generate());
  NewIntegration n = MakeIntegration(box, "genesys", {"role"}, FromUnixSeconds(0));
  auto raw = Base64Decode(n.client_secret);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 32u);
  EXPECT_EQ(n.record.secret_encrypted.find(*raw), std::string::npos);
  EXPECT_TRUE(SecretBox::IsEnvelope(n.record.secret_encrypted));
  auto opened = OpenIntegrationSecret(box, n.record);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, *raw);  // the HMAC key is the decoded secret
  EXPECT_EQ(n.record.api_key.size(), 32u);

  // Another key does not open it; nor does another integration's row.
  EXPECT_EQ(OpenIntegrationSecret(SecretBox(KeyEncryptionKey::Generate()), n.record).status().code(),
            "secret.wrong.key");
  store::MediaIntegration moved = n.record;
  moved.id = "another-integration";
  EXPECT_EQ(OpenIntegrationSecret(box, moved).status().code(), "secret.tampered");

  // An existing id is kept (dev mode re-seals the dev integration's new secret for it).
  EXPECT_EQ(MakeIntegration(box, "genesys", {}, FromUnixSeconds(0), "kept-id").record.id, "kept-id");
}

}  // namespace
}  // namespace verbatim::api
