// libFuzzer target: the XML reader and the RFC 7865 metadata extraction.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/siprec/rs_metadata.h"

using namespace verbatim::media::siprec;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto md = ParseRecordingMetadata(in);
  if (md.ok()) {
    for (const MetadataStream& s : md->streams) (void)md->SenderOfLabel(s.label);
  }
  return 0;
}
