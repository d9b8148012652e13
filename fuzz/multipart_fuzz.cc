// libFuzzer target: multipart bodies. The first input line is the Content-Type
// value, the rest the body, so the fuzzer explores boundaries too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/siprec/multipart.h"

using namespace verbatim::media::siprec;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view content_type = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto parts = ParseMultipart(content_type, body);
  if (parts.ok()) {
    if (parts->empty() || parts->size() > kMaxParts) __builtin_trap();
    for (const BodyPart& p : *parts) (void)p.content_type();
  }
  (void)SplitSiprecBody(content_type, body);
  return 0;
}
