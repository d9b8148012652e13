#include "oauth/password_hash.h"

#include <sodium.h>

#include <condition_variable>
#include <mutex>

#include "core/ids.h"

namespace verbatim::oauth {
namespace {

// Bounds the memory Argon2id takes at once (kMaxConcurrentHashes × kMemLimitBytes).
class HashSlots {
 public:
  void Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return in_use_ < kMaxConcurrentHashes; });
    ++in_use_;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      --in_use_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int in_use_ = 0;
};

HashSlots& Slots() {
  static HashSlots slots;
  return slots;
}

class SlotHeld {
 public:
  SlotHeld() { Slots().Acquire(); }
  ~SlotHeld() { Slots().Release(); }
  SlotHeld(const SlotHeld&) = delete;
  SlotHeld& operator=(const SlotHeld&) = delete;
};

bool IsArgon2id(std::string_view encoded) {
  return encoded.starts_with(crypto_pwhash_argon2id_STRPREFIX) && encoded.size() < crypto_pwhash_STRBYTES;
}

// A hash of a random password with the current parameters, computed once:
// what VerifyAgainstNothing checks against.
const std::string& DecoyHash() {
  static const std::string decoy = [] {
    auto h = HashPassword(NewUserPassword());
    return h.ok() ? *h : std::string();
  }();
  return decoy;
}

// Number of UTF-8 code points, or nullopt when `s` is not valid UTF-8.
std::optional<size_t> Utf8Length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return std::nullopt;
    i += len;
    ++n;
  }
  return n;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  InitRandom();  // sodium_init: the salt comes from its generator
  char out[crypto_pwhash_STRBYTES];
  SlotHeld slot;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimitBytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::Internal("Could not hash the password (out of memory).");
  return std::string(out);
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  if (!IsArgon2id(encoded)) {
    VerifyAgainstNothing(password);
    return false;
  }
  const std::string terminated(encoded);  // libsodium reads a C string
  SlotHeld slot;
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void VerifyAgainstNothing(std::string_view password) {
  const std::string& decoy = DecoyHash();
  if (decoy.empty()) return;
  SlotHeld slot;
  // The result is meaningless (nobody has this password); only the time it takes counts.
  [[maybe_unused]] const int ignored = crypto_pwhash_str_verify(decoy.c_str(), password.data(), password.size());
}

bool NeedsRehash(std::string_view encoded) {
  if (!IsArgon2id(encoded)) return true;
  const std::string terminated(encoded);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), kOpsLimit, kMemLimitBytes) != 0;
}

std::optional<std::string> PasswordPolicyProblem(std::string_view password, std::string_view username) {
  if (password.size() > kMaxPasswordBytes)
    return "The password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes.";
  auto length = Utf8Length(password);
  if (!length) return std::string("The password is not valid UTF-8.");
  if (*length < kMinPasswordLength)
    return "The password must be at least " + std::to_string(kMinPasswordLength) + " characters long.";
  if (EqualsIgnoreAsciiCase(password, username)) return std::string("The password may not be the username.");
  return std::nullopt;
}

std::string NewUserPassword() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";  // no 0/O, 1/l/I
  constexpr uint32_t kSize = sizeof(kAlphabet) - 1;
  InitRandom();
  std::string out;
  for (int i = 0; i < 20; ++i) out += kAlphabet[randombytes_uniform(kSize)];
  return out;
}

}  // namespace verbatim::oauth
