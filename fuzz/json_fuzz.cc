// libFuzzer target: strict JSON for untrusted input (core/json.h). The first
// input byte picks the depth limit (as the API and JWT verifier use them); the
// rest is the document. Invariants: nothing crashes or throws; an accepted
// document is within the limits, has no duplicate keys, and survives
// ToJson -> ParseJsonStrict unchanged; ParseJsonObject agrees with
// ParseJsonStrict; the typed accessors succeed exactly for their own type
// (or null / missing) and return what is stored. ToValidUtf8 turns any bytes
// in a string into text that serializes to valid JSON.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include "core/json.h"

using namespace verbatim;  // NOLINT: fuzz harness

namespace {

[[noreturn]] void Fail(const char* what, std::string_view doc) {
  std::fprintf(stderr, "json_fuzz invariant violated: %s\n  document (%zu bytes): %.*s\n", what, doc.size(),
               static_cast<int>(std::min<size_t>(doc.size(), 2000)), doc.data());
  __builtin_trap();
}

// Structural equality; numbers compare by value (the parser may round
// doubles differently from the serializer by one ulp).
bool Same(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) {
      double x = a.to_number<double>(), y = b.to_number<double>();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      if (std::isinf(x) || std::isinf(y)) return x == y;
      return std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y)) || std::fabs(x - y) < 1e-300;
    }
    return a == b;
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!Same(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      auto it = y.find(kv.key());
      if (it == y.end() || !Same(kv.value(), it->value())) return false;
    }
    return true;
  }
  return a == b;
}

size_t Depth(const json::value& v) {
  size_t d = 0;
  if (v.is_array())
    for (const auto& e : v.get_array()) d = std::max(d, Depth(e));
  else if (v.is_object())
    for (const auto& kv : v.get_object()) d = std::max(d, Depth(kv.value()));
  else
    return 0;
  return d + 1;
}

// Exercises every accessor on every key of `o` (and a missing key), checking
// each against the stored value; recurses into nested objects.
void CheckAccessors(const json::object& o, std::string_view doc, int budget) {
  std::set<std::string_view> seen;
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    if (!seen.insert(key).second) Fail("accepted a duplicate key", doc);
    const json::value& v = kv.value();
    auto s = GetString(o, key);
    if (s.ok() != (v.is_string() || v.is_null())) Fail("GetString ok() disagrees with the type", doc);
    if (s.ok() && v.is_string() && (!*s || **s != std::string_view(v.get_string()))) Fail("GetString value", doc);
    if (!s.ok() && s.status().message().find("must be a string") == std::string::npos) Fail("GetString message", doc);
    auto i = GetInt(o, key);
    bool int_like = v.is_int64() || (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX));
    if (i.ok() != (int_like || v.is_null())) Fail("GetInt ok() disagrees with the type", doc);
    if (i.ok() && int_like && (!*i || **i != v.to_number<int64_t>())) Fail("GetInt value", doc);
    auto b = GetBool(o, key);
    if (b.ok() != (v.is_bool() || v.is_null())) Fail("GetBool ok() disagrees with the type", doc);
    if (b.ok() && v.is_bool() && (!*b || **b != v.get_bool())) Fail("GetBool value", doc);
    auto a = GetStringArray(o, key);
    bool str_array = v.is_array();
    if (str_array)
      for (const auto& e : v.get_array()) str_array = str_array && e.is_string();
    if (a.ok() != (str_array || v.is_null())) Fail("GetStringArray ok() disagrees with the type", doc);
    if (a.ok() && str_array && (!*a || (*a)->size() != v.get_array().size())) Fail("GetStringArray size", doc);
    if (v.is_object() && budget > 0) CheckAccessors(v.get_object(), doc, budget - 1);
  }
  constexpr std::string_view kAbsent = "\x01no such key\x02";
  if (!o.contains(kAbsent)) {
    auto s = GetString(o, kAbsent);
    auto i = GetInt(o, kAbsent);
    auto b = GetBool(o, kAbsent);
    auto a = GetStringArray(o, kAbsent);
    if (!s.ok() || *s || !i.ok() || *i || !b.ok() || *b || !a.ok() || *a) Fail("a missing key is not nullopt", doc);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr size_t kDepths[] = {32, 8, 16, 1, 2, 64};
  JsonLimits limits;
  limits.max_depth = kDepths[data[0] % std::size(kDepths)];
  if (data[0] & 0x80) limits.max_bytes = 64;
  std::string_view doc(reinterpret_cast<const char*>(data) + 1, size - 1);

  // ToValidUtf8 (used on every API response): idempotent, keeps valid text,
  // and makes any bytes in a JSON string serialize to parseable JSON.
  std::string valid = ToValidUtf8(std::string(doc));
  if (ToValidUtf8(valid) != valid) Fail("ToValidUtf8 is not idempotent", doc);
  json::object wrapped;
  wrapped["raw"] = json::string(doc.data(), doc.size());
  if (!ParseJsonStrict(ToValidUtf8(ToJson(wrapped)), JsonLimits{.max_depth = 2, .max_bytes = SIZE_MAX}).ok())
    Fail("a string of any bytes does not serialize to valid JSON through ToValidUtf8", doc);

  auto v = ParseJsonStrict(doc, limits);
  auto o = ParseJsonObject(doc, limits);
  if (o.ok() != (v.ok() && v->is_object())) Fail("ParseJsonObject disagrees with ParseJsonStrict", doc);
  if (!v.ok()) {
    if (v.status().code() != "bad.request" || v.status().message().empty()) Fail("error without code/message", doc);
    return 0;
  }
  if (doc.size() > limits.max_bytes) Fail("accepted a document over max_bytes", doc);
  if (valid != doc) Fail("accepted a document that is not valid UTF-8", doc);
  if (Depth(*v) > limits.max_depth) Fail("accepted a document deeper than max_depth", doc);

  std::string text = ToJson(*v);
  auto again = ParseJsonStrict(text, JsonLimits{.max_depth = limits.max_depth, .max_bytes = SIZE_MAX});
  if (!again.ok()) Fail(("ToJson output does not parse: " + again.status().message()).c_str(), doc);
  if (!Same(*v, *again)) Fail("ToJson -> ParseJsonStrict changed the value", doc);

  if (o.ok()) CheckAccessors(*o, doc, 4);
  return 0;
}
