// The key-encryption key file (docs/secrets-at-rest.md). Strict format, two
// lines, nothing else:
//
//   verbatim-kek-v1
//   <the 32 key bytes, standard base64 with padding: 44 characters>
//
// A file that group or others may read (any of mode 077) is refused: the key
// opens every secret of the database. Every process that uses the key holds
// a shared flock(2) on the file while it runs; `verbatim kek rotate` takes it
// exclusively, so a rotation never runs under a live server.
//
// Thread-compatible; the lock belongs to the object (released on destruction).
#pragma once

#include <string>
#include <string_view>

#include "core/secret_box.h"
#include "core/status.h"

namespace verbatim {

inline constexpr std::string_view kKekFileHeader = "verbatim-kek-v1";

enum class KekLock { kShared, kExclusive };

// An open file descriptor holding a flock; closing it releases the lock.
class FileLock {
 public:
  FileLock() = default;
  explicit FileLock(int fd) : fd_(fd) {}
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  int fd_ = -1;
};

struct KekFile {
  std::string path;
  KeyEncryptionKey key;
  FileLock lock;
};

// Reads, checks and locks `path` (without waiting for the lock). Errors:
//   NotFound "kek.missing"; FailedPrecondition "kek.insecure" (group/other
//   bits set, or not a regular file); InvalidArgument "kek.malformed";
//   Unavailable "kek.locked" (another process holds a conflicting lock);
//   Internal for other I/O errors. Messages say what to do.
Result<KekFile> OpenKekFile(const std::string& path, KekLock lock);

// Creates `path` with a fresh key: mode 0600 whatever the umask, complete
// before it appears (written under a temporary name, then linked: fails if
// `path` exists), fsync'd with its directory, then opened with a shared lock.
// AlreadyExists "kek.exists" if the file is there.
Result<KekFile> CreateKekFile(const std::string& path);

// Writes `key` to a new file `path` the same way; no lock.
Status WriteKekFile(const std::string& path, const KeyEncryptionKey& key);

// rename(2) `from` over `to`, durable (the directory is fsync'd).
Status RenameKekFile(const std::string& from, const std::string& to);

// The file's exact text, and its strict parser (`path` only names it in errors).
std::string FormatKekFile(const KeyEncryptionKey& key);
Result<KeyEncryptionKey> ParseKekFile(std::string_view content, std::string_view path);

}  // namespace verbatim
