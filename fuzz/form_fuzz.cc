// libFuzzer target: application/x-www-form-urlencoded bodies, percent-decoding
// and HTTP Basic client credentials (oauth/form.h). The first input byte picks
// the field limit; the rest is used three ways: as a form body, as a Basic
// Authorization header value, and (split at the first ':') as a client id and
// secret that must survive encoding into a Basic header and parsing back.
// Invariants: nothing crashes; a parsed form has unique names and at most
// max_fields fields, and re-encoding it parses to the same fields; decoding
// never grows the input; PercentDecode(PercentEncode(x)) == x.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "oauth/form.h"

using namespace verbatim;         // NOLINT: fuzz harness
using namespace verbatim::oauth;  // NOLINT: fuzz harness

namespace {

[[noreturn]] void Fail(const char* what, std::string_view in) {
  std::fprintf(stderr, "form_fuzz invariant violated: %s\n  input (%zu bytes): %.*s\n", what, in.size(),
               static_cast<int>(std::min<size_t>(in.size(), 2000)), in.data());
  __builtin_trap();
}

void CheckForm(std::string_view in, size_t max_fields) {
  auto form = ParseForm(in, max_fields);
  if (!form.ok()) {
    if (form.status().code() != "invalid_request") Fail("form error without invalid_request", in);
    return;
  }
  if (form->fields.size() > max_fields) Fail("more fields than max_fields", in);
  std::string encoded;
  for (size_t i = 0; i < form->fields.size(); ++i) {
    const auto& [name, value] = form->fields[i];
    if (form->Find(name) != &form->fields[i].second) Fail("a field name appears twice", in);
    if (form->Get(name) != value) Fail("Get() disagrees with Find()", in);
    if (!encoded.empty()) encoded += '&';
    encoded += PercentEncode(name) + "=" + PercentEncode(value);
  }
  auto again = ParseForm(encoded, max_fields);
  if (!again.ok()) Fail("a re-encoded form does not parse", in);
  // Empty names with empty values ("=" pairs) are kept; pairs that are wholly
  // empty ("&&") are skipped, which PercentEncode never produces.
  if (again->fields != form->fields) Fail("a re-encoded form parses to different fields", in);
}

void CheckDecode(std::string_view in) {
  for (bool plus : {false, true}) {
    auto d = PercentDecode(in, plus);
    if (d && d->size() > in.size()) Fail("PercentDecode grew the input", in);
    if (!plus && d && in.find('%') == std::string_view::npos && *d != in) Fail("decoding without '%' changed it", in);
    auto round = PercentDecode(PercentEncode(in), plus);
    if (!round || *round != in) Fail("PercentDecode(PercentEncode(x)) != x", in);
  }
}

void CheckBasic(std::string_view in) {
  auto creds = ParseBasicAuthorization(in);
  if (creds) {
    // Whatever parsed must re-encode to a header that parses the same.
    std::string h = "Basic " + Base64Encode(PercentEncode(creds->client_id) + ":" + PercentEncode(creds->client_secret));
    auto back = ParseBasicAuthorization(h);
    if (!back || back->client_id != creds->client_id || back->client_secret != creds->client_secret)
      Fail("a parsed Basic credential does not round-trip", in);
  }
  // Any id (no ':' in it is not required: it is percent-encoded) and secret
  // round-trip through the header a client builds (RFC 6749 §2.3.1).
  size_t colon = in.find(':');
  std::string id(in.substr(0, colon));
  std::string secret(colon == std::string_view::npos ? std::string_view() : in.substr(colon + 1));
  for (const char* scheme : {"Basic ", "basic  ", "BASIC "}) {
    std::string h = scheme + Base64Encode(PercentEncode(id) + ":" + PercentEncode(secret));
    auto parsed = ParseBasicAuthorization(h);
    if (!parsed || parsed->client_id != id || parsed->client_secret != secret)
      Fail("an encoded Basic credential does not parse back", in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr size_t kMaxFields[] = {64, 1, 2, 8, 0};
  size_t max_fields = kMaxFields[data[0] % std::size(kMaxFields)];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckForm(in, max_fields);
  CheckDecode(in);
  CheckBasic(in);
  return 0;
}
