// libFuzzer target: the strict WAV header parser, in strict and recovery mode,
// on the whole input and on a prefix of it (as the download endpoint and
// RecoverPartials call it: the first bytes of a possibly larger file).
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/wav/wav_reader.h"

using namespace verbatim::media::wav;  // NOLINT: fuzz harness

namespace {

void Check(std::span<const std::byte> head, uint64_t file_size, bool recover) {
  ReadLimits limits;
  limits.recover = recover;
  auto r = ParseWav(head, file_size, limits);
  if (!r.ok()) return;
  // The audio it points at lies inside the file, in whole frames, after the header.
  if (r->block_align == 0 || r->data_size % r->block_align != 0) __builtin_trap();
  if (r->data_offset > file_size || r->data_size > file_size - r->data_offset) __builtin_trap();
  if (r->data_offset < 12 + 8 + 16 + 8) __builtin_trap();  // RIFF + fmt(16) + data headers at least
  if (r->channels == 0 || r->sample_rate == 0) __builtin_trap();
  if (!recover && uint64_t{r->riff_size} + 8 + r->trailing_bytes != file_size) __builtin_trap();
  (void)r->duration_seconds();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  Check(in, in.size(), false);
  Check(in, in.size(), true);
  if (size > 0) {
    // The first byte picks a prefix length; the rest of the "file" is unseen bytes.
    const size_t head = static_cast<uint8_t>(in[0]) * size / 256;
    Check(in.first(head), size + static_cast<uint8_t>(in[0]), false);
    Check(in.first(head), size, true);
  }
  return 0;
}
