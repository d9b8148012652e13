// libFuzzer target: the two parsers of docs/secrets-at-rest.md whose input an
// attacker may control: a sealed value read from the database
// (SecretBox::Open, e.g. by someone with write access to the file) and the
// key-encryption key file (ParseKekFile). The first input byte picks which.
// Invariants: nothing crashes; only a well-formed envelope can open, and only
// under its own key id and context; an accepted key file is exactly the
// canonical text of the key it yields; a sealed value opens to its plaintext
// and never under another context.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/kek_file.h"
#include "core/secret_box.h"

using namespace verbatim;  // NOLINT: fuzz harness

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "secret_box_fuzz invariant violated: %s\n", what);
  __builtin_trap();
}

const SecretBox& Box() {
  static const SecretBox* box = new SecretBox(std::move(KeyEncryptionKey::FromBytes(std::string(32, 'k'))).value());
  return *box;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const SecretBox& box = Box();
  switch (data[0] % 3) {
    case 0: {  // a stored value, as read from the database
      auto opened = box.Open(in, "integration:fuzz");
      if (opened.ok()) {
        if (!SecretBox::IsEnvelope(in)) Fail("a value that is not an envelope opened");
        if (SecretBox::KeyIdOf(in) != box.key_id()) Fail("an envelope of another key id opened");
        if (box.Open(in, "integration:other").ok()) Fail("an envelope opened under two contexts");
      } else if (opened.status().code() != "secret.malformed" && opened.status().code() != "secret.wrong.key" &&
                 opened.status().code() != "secret.tampered") {
        Fail("an unknown failure code");
      }
      break;
    }
    case 1: {  // a key file
      auto key = ParseKekFile(in, "fuzz");
      if (key.ok()) {
        std::string canonical = FormatKekFile(*key);
        if (in != canonical && std::string(in) + "\n" != canonical) Fail("a non-canonical key file was accepted");
      } else if (key.status().code() != "kek.malformed") {
        Fail("a key file failure that is not kek.malformed");
      }
      break;
    }
    default: {  // round trip of arbitrary plaintext
      const std::string sealed = box.Seal(in, "signing-key:fuzz");
      auto opened = box.Open(sealed, "signing-key:fuzz");
      if (!opened.ok() || *opened != in) Fail("a sealed value did not open to its plaintext");
      if (box.Open(sealed, "signing-key:other").ok()) Fail("a sealed value opened under another context");
      break;
    }
  }
  return 0;
}
