#include "transports/audiohook/http_signature.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/ids.h"

namespace verbatim::api {
namespace sf {
namespace {

constexpr size_t kMaxFieldBytes = 8 * 1024;
constexpr size_t kMaxMembers = 8;
constexpr size_t kMaxItems = 32;
constexpr size_t kMaxParams = 16;

bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsLcAlpha(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsTchar(char c) {
  return IsAlpha(c) || IsDigit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over the field value; every Parse* returns false on malformed input.
struct Parser {
  std::string_view s;
  size_t i = 0;

  bool End() const { return i >= s.size(); }
  char Peek() const { return End() ? '\0' : s[i]; }
  void SkipSp() {
    while (!End() && s[i] == ' ') ++i;
  }
  void SkipOws() {
    while (!End() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }

  bool Key(std::string& out) {
    if (End() || !(IsLcAlpha(s[i]) || s[i] == '*')) return false;
    size_t start = i++;
    while (!End() && (IsLcAlpha(s[i]) || IsDigit(s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.' || s[i] == '*'))
      ++i;
    out = std::string(s.substr(start, i - start));
    return out.size() <= 64;
  }

  bool Number(BareItem& out) {
    bool neg = false;
    if (Peek() == '-') {
      neg = true;
      ++i;
    }
    size_t start = i;
    while (!End() && IsDigit(s[i])) ++i;
    size_t int_digits = i - start;
    if (int_digits == 0) return false;
    if (Peek() != '.') {
      if (int_digits > 15) return false;
      int64_t v = 0;
      for (size_t k = start; k < i; ++k) v = v * 10 + (s[k] - '0');
      out.kind = BareItem::Kind::kInteger;
      out.integer = neg ? -v : v;
      return true;
    }
    if (int_digits > 12) return false;
    ++i;
    size_t frac_start = i;
    while (!End() && IsDigit(s[i])) ++i;
    size_t frac_digits = i - frac_start;
    if (frac_digits == 0 || frac_digits > 3) return false;
    double v = 0;
    for (size_t k = start; k < frac_start - 1; ++k) v = v * 10 + (s[k] - '0');
    double scale = 0.1;
    for (size_t k = frac_start; k < i; ++k, scale /= 10) v += (s[k] - '0') * scale;
    out.kind = BareItem::Kind::kDecimal;
    out.decimal = neg ? -v : v;
    return true;
  }

  bool String(BareItem& out) {
    ++i;  // opening quote
    std::string text;
    while (!End()) {
      char c = s[i++];
      if (c == '\\') {
        if (End() || (s[i] != '"' && s[i] != '\\')) return false;
        text += s[i++];
      } else if (c == '"') {
        out.kind = BareItem::Kind::kString;
        out.text = std::move(text);
        return true;
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return false;
      } else {
        text += c;
      }
    }
    return false;  // unterminated
  }

  bool Token(BareItem& out) {
    size_t start = i++;
    while (!End() && (IsTchar(s[i]) || s[i] == ':' || s[i] == '/')) ++i;
    out.kind = BareItem::Kind::kToken;
    out.text = std::string(s.substr(start, i - start));
    return true;
  }

  bool Bytes(BareItem& out) {
    size_t start = ++i;
    while (!End() && s[i] != ':') {
      char c = s[i];
      if (!(IsAlpha(c) || IsDigit(c) || c == '+' || c == '/' || c == '=')) return false;
      ++i;
    }
    if (End()) return false;
    auto decoded = Base64Decode(s.substr(start, i - start));
    ++i;  // closing colon
    if (!decoded) return false;
    out.kind = BareItem::Kind::kBytes;
    out.text = std::move(*decoded);
    return true;
  }

  bool Bare(BareItem& out) {
    char c = Peek();
    if (c == '-' || IsDigit(c)) return Number(out);
    if (c == '"') return String(out);
    if (c == '*' || IsAlpha(c)) return Token(out);
    if (c == ':') return Bytes(out);
    if (c == '?') {
      ++i;
      if (Peek() != '0' && Peek() != '1') return false;
      out.kind = BareItem::Kind::kBoolean;
      out.boolean = s[i++] == '1';
      return true;
    }
    return false;
  }

  bool Params(std::vector<Param>& out) {
    while (Peek() == ';') {
      ++i;
      SkipSp();
      Param p;
      if (!Key(p.key)) return false;
      if (Peek() == '=') {
        ++i;
        if (!Bare(p.value)) return false;
      }
      // RFC 8941 lets a later duplicate win; for signatures that is an ambiguity we refuse.
      for (const auto& q : out)
        if (q.key == p.key) return false;
      out.push_back(std::move(p));
      if (out.size() > kMaxParams) return false;
    }
    return true;
  }

  bool ItemOf(Item& out) { return Bare(out.value) && Params(out.params); }

  bool Inner(InnerList& out) {
    ++i;  // '('
    for (;;) {
      SkipSp();
      if (End()) return false;
      if (s[i] == ')') {
        ++i;
        return Params(out.params);
      }
      Item item;
      if (!ItemOf(item)) return false;
      out.items.push_back(std::move(item));
      if (out.items.size() > kMaxItems) return false;
      if (Peek() != ' ' && Peek() != ')') return false;
    }
  }
};

void AppendParams(std::string& out, const std::vector<Param>& params) {
  for (const auto& p : params) {
    out += ';' + p.key;
    if (!(p.value.kind == BareItem::Kind::kBoolean && p.value.boolean)) out += '=' + Serialize(p.value);
  }
}

}  // namespace

std::optional<Dictionary> ParseDictionary(std::string_view field) {
  if (field.size() > kMaxFieldBytes) return std::nullopt;
  Parser p{field};
  p.SkipSp();
  Dictionary out;
  while (!p.End()) {
    Member m;
    if (!p.Key(m.key)) return std::nullopt;
    if (p.Peek() == '=') {
      ++p.i;
      if (p.Peek() == '(') {
        m.is_inner_list = true;
        if (!p.Inner(m.list)) return std::nullopt;
      } else if (!p.ItemOf(m.item)) {
        return std::nullopt;
      }
    } else if (!p.Params(m.item.params)) {  // bare key: Boolean true with parameters
      return std::nullopt;
    }
    for (const auto& q : out)
      if (q.key == m.key) return std::nullopt;
    out.push_back(std::move(m));
    if (out.size() > kMaxMembers) return std::nullopt;
    p.SkipOws();
    if (p.End()) break;
    if (p.Peek() != ',') return std::nullopt;
    ++p.i;
    p.SkipOws();
    if (p.End()) return std::nullopt;  // trailing comma
  }
  return out;
}

std::string Serialize(const BareItem& b) {
  switch (b.kind) {
    case BareItem::Kind::kInteger: return std::to_string(b.integer);
    case BareItem::Kind::kDecimal: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", b.decimal);
      std::string s = buf;
      while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
      return s;
    }
    case BareItem::Kind::kString: {
      std::string out = "\"";
      for (char c : b.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + '"';
    }
    case BareItem::Kind::kToken: return b.text;
    case BareItem::Kind::kBytes: return ':' + Base64Encode(b.text) + ':';
    case BareItem::Kind::kBoolean: return b.boolean ? "?1" : "?0";
  }
  return "";
}

std::string Serialize(const InnerList& l) {
  std::string out = "(";
  for (size_t k = 0; k < l.items.size(); ++k) {
    if (k > 0) out += ' ';
    out += Serialize(l.items[k].value);
    AppendParams(out, l.items[k].params);
  }
  out += ')';
  AppendParams(out, l.params);
  return out;
}

}  // namespace sf

namespace {

using Kind = sf::BareItem::Kind;

SignatureCheck Problem(SignatureProblem p, std::string field, std::string detail) {
  SignatureCheck c;
  c.problem = p;
  c.field = std::move(field);
  c.detail = std::move(detail);
  return c;
}

// RFC 9421 §2.1: every field line's value, trimmed, obs-fold replaced, joined by ", ".
std::optional<std::string> HeaderValue(const SignedRequest& req, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : req.headers) {
    if (k != name) continue;
    std::string_view t = v;
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    out = out ? *out + ", " + std::string(t) : std::string(t);
  }
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of a derived component; nullopt if we do not implement it.
std::optional<std::string> Derived(const SignedRequest& req, std::string_view name) {
  if (name == "@method") return req.method;
  if (name == "@authority") return Lower(req.authority);
  if (name == "@request-target") return req.target;
  size_t q = req.target.find('?');
  if (name == "@path") return req.target.substr(0, q);
  if (name == "@query") return q == std::string::npos ? std::string("?") : req.target.substr(q);
  return std::nullopt;
}

SignatureCheck ReadParams(const sf::InnerList& list, SignatureParams& out) {
  for (const auto& p : list.params) {
    const auto& v = p.value;
    if (p.key == "created" || p.key == "expires") {
      if (v.kind != Kind::kInteger || v.integer < 0)
        return Problem(SignatureProblem::kMalformed, p.key, "'" + p.key + "' must be a non-negative integer");
      (p.key == "created" ? out.created : out.expires) = v.integer;
    } else if (p.key == "keyid" || p.key == "nonce" || p.key == "alg" || p.key == "tag") {
      if (v.kind != Kind::kString)
        return Problem(SignatureProblem::kMalformed, p.key, "'" + p.key + "' must be a string");
      if (p.key == "keyid") out.keyid = v.text;
      if (p.key == "nonce") out.nonce = v.text;
      if (p.key == "alg") out.alg = v.text;
    } else {
      return Problem(SignatureProblem::kMalformed, "signature-input", "unknown signature parameter '" + p.key + "'");
    }
  }
  return {};
}

}  // namespace

const char* ToString(SignatureProblem p) {
  switch (p) {
    case SignatureProblem::kNone: return "none";
    case SignatureProblem::kUnsigned: return "unsigned";
    case SignatureProblem::kMalformed: return "malformed";
    case SignatureProblem::kKeyMismatch: return "key.mismatch";
    case SignatureProblem::kMissingComponent: return "missing.component";
    case SignatureProblem::kUnsupported: return "unsupported";
    case SignatureProblem::kBadAlgorithm: return "bad.algorithm";
    case SignatureProblem::kNotYetValid: return "not.yet.valid";
    case SignatureProblem::kExpired: return "expired";
    case SignatureProblem::kUnknownKey: return "unknown.key";
    case SignatureProblem::kMismatch: return "mismatch";
    case SignatureProblem::kReplayed: return "replayed";
  }
  return "?";
}

SignatureCheck BuildSignatureBase(const SignedRequest& req, const VerifyOptions& opts, SignatureBase& out) {
  auto input_field = HeaderValue(req, "signature-input");
  auto sig_field = HeaderValue(req, "signature");
  if (!input_field && !sig_field)
    return Problem(SignatureProblem::kUnsigned, "signature-input",
                   "the request has no Signature-Input and Signature headers");
  if (!input_field || !sig_field)
    return Problem(SignatureProblem::kMalformed, input_field ? "signature" : "signature-input",
                   std::string("the ") + (input_field ? "Signature" : "Signature-Input") + " header is missing");
  auto inputs = sf::ParseDictionary(*input_field);
  if (!inputs || inputs->empty() || !inputs->front().is_inner_list)
    return Problem(SignatureProblem::kMalformed, "signature-input",
                   "Signature-Input is not a structured-field dictionary of inner lists (RFC 8941)");
  auto sigs = sf::ParseDictionary(*sig_field);
  if (!sigs)
    return Problem(SignatureProblem::kMalformed, "signature", "Signature is not a structured-field dictionary");
  const sf::Member& input = inputs->front();
  auto sig = std::find_if(sigs->begin(), sigs->end(), [&](const sf::Member& m) { return m.key == input.key; });
  if (sig == sigs->end() || sig->is_inner_list || sig->item.value.kind != Kind::kBytes)
    return Problem(SignatureProblem::kMalformed, "signature",
                   "Signature has no byte-sequence value for label '" + input.key + "'");

  SignatureBase b;
  b.params.label = input.key;
  b.signature = sig->item.value.text;
  if (auto c = ReadParams(input.list, b.params); !c.ok()) return c;

  std::string base;
  for (const auto& item : input.list.items) {
    if (item.value.kind != Kind::kString)
      return Problem(SignatureProblem::kMalformed, "signature-input", "covered components must be strings");
    const std::string& name = item.value.text;
    if (name.empty() || Lower(name) != name)
      return Problem(SignatureProblem::kMalformed, "signature-input",
                     "component names are lowercase: '" + name.substr(0, 64) + "'");
    if (!item.params.empty())
      return Problem(SignatureProblem::kUnsupported, "signature-input",
                     "component parameters (;sf ;key ;bs ;req ;name) are not supported: '" + name.substr(0, 64) + "'");
    if (std::find(b.params.components.begin(), b.params.components.end(), name) != b.params.components.end())
      return Problem(SignatureProblem::kMalformed, "signature-input", "component '" + name + "' is listed twice");
    std::optional<std::string> value;
    if (name[0] == '@') {
      if (name == "@signature-params")
        return Problem(SignatureProblem::kMalformed, "signature-input", "'@signature-params' cannot be covered");
      value = Derived(req, name);
      if (!value)
        return Problem(SignatureProblem::kUnsupported, "signature-input",
                       "derived component '" + name.substr(0, 64) + "' is not supported");
    } else {
      value = HeaderValue(req, name);
      if (!value)
        return Problem(SignatureProblem::kMissingComponent, name,
                       "the signature covers header '" + name.substr(0, 64) + "' but the request does not carry it");
    }
    b.params.components.push_back(name);
    base += sf::Serialize(item.value) + ": " + *value + "\n";
  }
  for (const auto& r : opts.required) {
    auto& c = b.params.components;
    bool covered = std::find(c.begin(), c.end(), r) != c.end() ||
                   (r == "@request-target" && std::find(c.begin(), c.end(), "@path") != c.end());
    if (!covered)
      return Problem(SignatureProblem::kMissingComponent, "signature-input",
                     "the signature does not cover the required component '" + r + "'");
  }
  // Re-encoded from the parsed form, as the reference verifier does: a signer
  // must have been canonical.
  base += "\"@signature-params\": " + sf::Serialize(input.list);
  b.base = std::move(base);
  out = std::move(b);
  return {};
}

NonceCache::Outcome NonceCache::Insert(const std::string& key, int64_t expires_unix, int64_t now_unix) {
  MutexLock lock(mu_);
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_unix) {
    entries_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  if (entries_.count(key)) return Outcome::kReplayed;
  if (entries_.size() >= capacity_) return Outcome::kFull;
  entries_.emplace(key, expires_unix);
  by_expiry_.emplace(expires_unix, key);
  return Outcome::kFresh;
}

size_t NonceCache::size() const {
  MutexLock lock(mu_);
  return entries_.size();
}

SignatureCheck SignatureVerifier::Verify(const SignedRequest& req, const KeyLookup& key_for, TimePoint now) {
  SignatureBase b;
  if (auto c = BuildSignatureBase(req, opts_, b); !c.ok()) return c;
  auto fail = [&](SignatureProblem p, std::string field, std::string detail) {
    SignatureCheck c = Problem(p, std::move(field), std::move(detail));
    c.params = b.params;
    return c;
  };
  const SignatureParams& p = b.params;
  const std::string api_key = HeaderValue(req, "x-api-key").value_or("");
  if (p.keyid.empty()) return fail(SignatureProblem::kMalformed, "keyid", "the signature has no 'keyid' parameter");
  if (p.keyid != api_key)
    return fail(SignatureProblem::kKeyMismatch, "keyid", "the signature's keyid differs from the X-API-KEY header");
  if (!p.alg.empty() && p.alg != "hmac-sha256")
    return fail(SignatureProblem::kBadAlgorithm, "alg",
                "only alg=\"hmac-sha256\" is accepted (got '" + p.alg.substr(0, 32) + "')");
  if (p.nonce.size() < opts_.min_nonce_length || p.nonce.size() > 256)
    return fail(SignatureProblem::kMalformed, "nonce",
                "the signature needs a 'nonce' of at least " + std::to_string(opts_.min_nonce_length) + " characters");
  if (!p.created) return fail(SignatureProblem::kMalformed, "created", "the signature has no 'created' parameter");
  const int64_t t = ToUnixSeconds(now), skew = opts_.max_skew_seconds;
  if (*p.created > t + skew)
    return fail(SignatureProblem::kNotYetValid, "created",
                "'created' is " + std::to_string(*p.created - t) + " s in the future (allowed clock skew: " +
                    std::to_string(skew) + " s)");
  if (t - *p.created > skew)
    return fail(SignatureProblem::kExpired, "created",
                "'created' is " + std::to_string(t - *p.created) + " s old (at most " + std::to_string(skew) +
                    " s is accepted)");
  if (p.expires && *p.expires < *p.created)
    return fail(SignatureProblem::kMalformed, "expires", "'expires' is before 'created'");
  if (p.expires && *p.expires + skew < t)
    return fail(SignatureProblem::kExpired, "expires",
                "the signature expired " + std::to_string(t - *p.expires) + " s ago");

  std::optional<std::string> key = key_for(api_key);
  std::string dummy;
  if (!key) {  // same work for an unknown key as for a wrong signature
    dummy.resize(32);
    randombytes_buf(dummy.data(), dummy.size());
  }
  const std::string mac = HmacSha256(key ? *key : dummy, b.base);
  const bool match = ConstantTimeEquals(mac, b.signature);
  if (!key) return fail(SignatureProblem::kUnknownKey, "x-api-key", "no AudioHook integration has this API key");
  if (!match)
    return fail(SignatureProblem::kMismatch, "signature",
                "the HMAC-SHA256 signature does not match (wrong client secret, or a signed header changed)");
  // Only a valid signature may consume a nonce, or anyone could burn them.
  // Past created + skew the time check refuses the request anyway, so a nonce
  // needs remembering only that long (whatever 'expires' says).
  switch (nonces_.Insert(p.keyid + '\n' + p.nonce, *p.created + 2 * skew, t)) {
    case NonceCache::Outcome::kFresh:
      break;
    case NonceCache::Outcome::kReplayed:
      return fail(SignatureProblem::kReplayed, "nonce", "this nonce was already used: the request is a replay");
    case NonceCache::Outcome::kFull:
      return fail(SignatureProblem::kReplayed, "nonce",
                  "too many signed requests to track their nonces; retry shortly");
  }
  SignatureCheck ok;
  ok.params = p;
  return ok;
}

}  // namespace verbatim::api
