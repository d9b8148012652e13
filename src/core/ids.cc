#include "core/ids.h"

#include <pthread.h>
#include <sodium.h>
#include <sodium/randombytes_internal_random.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/base64.h"

namespace verbatim {

namespace {

// Bumped in a forked child: ids must never repeat the parent's buffered bytes.
std::atomic<uint64_t> fork_generation{0};
void OnFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Ids draw their random bytes from a per-thread buffer of CSPRNG output,
// refilled 4 KiB at a time: one randombytes_buf (a ChaCha20 block setup and
// a getpid(2) fork check, ~0.3 µs) per ~256 ids instead of one per id; every
// request takes a context id and every grant a jti (docs/performance.md
// "Grants"). Secrets (RandomToken) never come from here.
class IdRandom {
 public:
  void Take(uint8_t* out, size_t n) {
    const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (used_ + n > sizeof buf_ || generation != generation_) {
      randombytes_buf(buf_, sizeof buf_);
      used_ = 0;
      generation_ = generation;
    }
    std::memcpy(out, buf_ + used_, n);
    used_ += n;
  }

 private:
  uint8_t buf_[4096];
  size_t used_ = sizeof buf_;  // empty until first use
  uint64_t generation_ = 0;
};
thread_local IdRandom id_random;

}  // namespace

void InitRandom() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A ChaCha20 generator keyed from the kernel, instead of one getrandom(2)
    // per id: every request draws a context id, every grant a jti.
    randombytes_set_implementation(&randombytes_internal_implementation);
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
    pthread_atfork(nullptr, nullptr, OnFork);
  });
}

namespace {
std::string FormatUuid(const std::array<uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 15];
  }
  return out;
}
}  // namespace

std::string NewUuid() {
  InitRandom();
  std::array<uint8_t, 16> b;
  id_random.Take(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return FormatUuid(b);
}


std::string NewUuidV7() {
  InitRandom();
  std::array<uint8_t, 16> b;
  id_random.Take(b.data() + 6, 10);
  const uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return FormatUuid(b);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string RandomToken(size_t bytes) {
  InitRandom();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return Base64UrlEncode(raw);
}

}  // namespace verbatim
