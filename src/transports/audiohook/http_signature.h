// HTTP Message Signatures as AudioHook clients send them (Genesys AudioHook
// protocol; draft-ietf-httpbis-message-signatures, the form the reference
// implementation signs): `Signature-Input: sig1=("@request-target" "@authority"
// "audiohook-organization-id" ... "x-api-key");keyid="…";nonce="…";
// alg="hmac-sha256";created=…;expires=…` and `Signature: sig1=:<base64>:`,
// HMAC-SHA256 over the signature base, keyed by the integration's secret.
//
// Pieces: a strict RFC 8941 Dictionary parser (the subset these headers use),
// the signature base builder, a verifier (components covered, keyid = X-API-KEY,
// clock skew, HMAC in constant time, nonce replay), and a bounded nonce cache.
// Each failure is a named SignatureProblem; tests pin the strings.
// Thread-safety: functions are pure; SignatureVerifier and NonceCache are
// thread-safe (the cache has its own mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"

namespace verbatim::api {

namespace sf {  // RFC 8941 Structured Field Values (subset: no Lists at top level)

struct BareItem {
  enum class Kind { kInteger, kDecimal, kString, kToken, kBytes, kBoolean };
  Kind kind = Kind::kBoolean;
  int64_t integer = 0;
  double decimal = 0;
  std::string text;  // kString, kToken; decoded bytes for kBytes
  bool boolean = true;
};
struct Param {
  std::string key;
  BareItem value;
};
struct Item {
  BareItem value;
  std::vector<Param> params;
};
struct InnerList {
  std::vector<Item> items;
  std::vector<Param> params;
};
struct Member {
  std::string key;
  bool is_inner_list = false;
  Item item;        // when !is_inner_list
  InnerList list;   // when is_inner_list
};
using Dictionary = std::vector<Member>;  // in field order; duplicate keys are rejected

std::optional<Dictionary> ParseDictionary(std::string_view field);
std::string Serialize(const BareItem& b);
std::string Serialize(const InnerList& l);

}  // namespace sf

enum class SignatureProblem {
  kNone,
  kUnsigned,          // no Signature-Input / Signature headers
  kMalformed,         // headers do not parse, or a parameter is missing or invalid
  kKeyMismatch,       // keyid differs from X-API-KEY
  kMissingComponent,  // a required component is not covered, or a covered header is absent
  kUnsupported,       // a component or component parameter we do not implement
  kBadAlgorithm,      // alg other than hmac-sha256
  kNotYetValid,       // created is in the future beyond the skew
  kExpired,           // created too old, or expires passed
  kUnknownKey,        // no integration has this API key
  kMismatch,          // the HMAC does not match
  kReplayed,          // nonce seen before within its validity
};
const char* ToString(SignatureProblem p);  // "unsigned", "malformed", ... ("none" for kNone)

// The request facts a signature can cover.
struct SignedRequest {
  std::string method;     // "GET"
  std::string authority;  // the Host header
  std::string target;     // request-target as sent: path[?query]
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercase, every field line
};

struct SignatureParams {
  std::string label;  // "sig1"
  std::vector<std::string> components;
  std::string keyid, nonce, alg;
  std::optional<int64_t> created, expires;  // unix seconds
};

struct SignatureCheck {
  SignatureProblem problem = SignatureProblem::kNone;
  std::string field;   // what was wrong: "signature-input", "keyid", "created", "nonce", "signature", ...
  std::string detail;  // one sentence, never a secret
  SignatureParams params;
  bool ok() const { return problem == SignatureProblem::kNone; }
};

struct SignatureBase {
  SignatureParams params;
  std::string base;       // the exact bytes the HMAC covers
  std::string signature;  // decoded from the Signature header
};

struct VerifyOptions {
  // Covered components that must be present; "@request-target" is also
  // satisfied by "@path" (the query is not used by the endpoint).
  std::vector<std::string> required = {"@request-target",          "@authority",
                                       "audiohook-organization-id", "audiohook-session-id",
                                       "audiohook-correlation-id",  "x-api-key"};
  int64_t max_skew_seconds = 10;
  size_t min_nonce_length = 22;  // as the reference server (18 random bytes in base64)
};

// Parses both headers and builds the base for the first signature label.
// Checks structure and coverage, not time or key.
SignatureCheck BuildSignatureBase(const SignedRequest& req, const VerifyOptions& opts, SignatureBase& out);

// Bounded set of recently used nonces; entries expire at the time given.
class NonceCache {
 public:
  enum class Outcome { kFresh, kReplayed, kFull };
  explicit NonceCache(size_t capacity = 100'000) : capacity_(capacity) {}
  Outcome Insert(const std::string& key, int64_t expires_unix, int64_t now_unix);
  size_t size() const;

 private:
  const size_t capacity_;
  mutable Mutex mu_;
  std::unordered_map<std::string, int64_t> entries_ GUARDED_BY(mu_);
  std::multimap<int64_t, std::string> by_expiry_ GUARDED_BY(mu_);
};

// Verifies a request end to end. `key_for` returns the HMAC key (the decoded
// client secret) for an API key, or nullopt if none is known; an unknown key is
// still checked against a random key so both paths cost the same.
class SignatureVerifier {
 public:
  using KeyLookup = std::function<std::optional<std::string>(const std::string& api_key)>;
  explicit SignatureVerifier(VerifyOptions opts = {}, size_t nonce_capacity = 100'000)
      : opts_(std::move(opts)), nonces_(nonce_capacity) {}

  SignatureCheck Verify(const SignedRequest& req, const KeyLookup& key_for, TimePoint now);
  const VerifyOptions& options() const { return opts_; }

 private:
  const VerifyOptions opts_;
  NonceCache nonces_;
};

}  // namespace verbatim::api
