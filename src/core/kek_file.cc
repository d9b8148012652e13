#include "core/kek_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/base64.h"

namespace verbatim {
namespace {

constexpr size_t kMaxFileBytes = 256;  // the format is 61 bytes; anything larger is not ours

std::string Errno(std::string_view what, std::string_view path) {
  return std::string(what) + " " + std::string(path) + ": " + std::strerror(errno);
}

std::string Octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Zeroes a buffer that held key material when it goes out of scope.
struct Wiped {
  std::string s;
  ~Wiped() { sodium_memzero(s.data(), s.size()); }
};

Status TakeLock(int fd, KekLock lock, const std::string& path) {
  if (::flock(fd, (lock == KekLock::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0) return Status::Ok();
  if (errno == EWOULDBLOCK)
    return Status::Unavailable(
        "kek.locked",
        lock == KekLock::kShared
            ? "The key-encryption key " + path +
                  " is being rotated (`verbatim kek rotate` holds it). Retry when the rotation has finished."
            : "The key-encryption key " + path +
                  " is in use by a running verbatim process (serve, init or keys). Stop the server "
                  "before rotating the key-encryption key (docs/secrets-at-rest.md).");
  return Status::Internal(Errno("flock", path));
}

Status WriteAllAndSync(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Internal(Errno("write", path));
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) return Status::Internal(Errno("fsync", path));
  return Status::Ok();
}

// The new name must survive a power loss before any secret is sealed with it.
void SyncParentDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Creates `path` with `content`, mode 0600, all or nothing: the content is
// written and fsync'd under a temporary name, then link(2)ed to `path`, which
// fails if `path` exists. A process that finds the file never reads it half
// written (two processes creating the key of a new database at once).
Status CreateFileAtomically(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());  // 0600, O_EXCL
  if (fd < 0) return Status::Internal(Errno("create", tmp));
  FileLock closer(fd);
  Status s = ::fchmod(fd, 0600) == 0 ? WriteAllAndSync(fd, content, tmp) : Status::Internal(Errno("chmod", tmp));
  if (s.ok() && ::link(tmp.c_str(), path.c_str()) != 0)
    s = errno == EEXIST ? Status::AlreadyExists("kek.exists", path + " already exists")
                        : Status::Internal(Errno("link " + tmp + " to", path));
  ::unlink(tmp.c_str());
  if (s.ok()) SyncParentDirectory(path);
  return s;
}

}  // namespace

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FormatKekFile(const KeyEncryptionKey& key) {
  return std::string(kKekFileHeader) + "\n" + Base64Encode(key.bytes()) + "\n";
}

Result<KeyEncryptionKey> ParseKekFile(std::string_view content, std::string_view path) {
  const std::string expected = std::string(path) + " is not a verbatim key-encryption key: expected the line '" +
                               std::string(kKekFileHeader) + "', then " + std::to_string(KeyEncryptionKey::kBytes) +
                               " bytes in base64 (44 characters) on the second line, and nothing else";
  if (content.substr(0, kKekFileHeader.size() + 1) != std::string(kKekFileHeader) + "\n")
    return Status::InvalidArgument("kek.malformed", expected + " (the first line differs).");
  std::string_view b64 = content.substr(kKekFileHeader.size() + 1);
  if (!b64.empty() && b64.back() == '\n') b64.remove_suffix(1);  // the final newline is optional
  auto raw = Base64Decode(b64);
  if (!raw) return Status::InvalidArgument("kek.malformed", expected + " (the second line is not base64).");
  Wiped wipe{std::move(*raw)};
  if (wipe.s.size() != KeyEncryptionKey::kBytes)
    return Status::InvalidArgument("kek.malformed", expected + " (the key is " + std::to_string(wipe.s.size()) +
                                                        " bytes, not " + std::to_string(KeyEncryptionKey::kBytes) +
                                                        ").");
  return KeyEncryptionKey::FromBytes(wipe.s);
}

Result<KekFile> OpenKekFile(const std::string& path, KekLock lock) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return Status::NotFound("kek.missing", "The key-encryption key file " + path + " does not exist.");
    return Status::Internal(Errno("open", path));
  }
  FileLock holder(fd);  // closes fd on every early return
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Internal(Errno("stat", path));
  if (!S_ISREG(st.st_mode))
    return Status::FailedPrecondition("kek.insecure", path + " is not a regular file; a key-encryption key is a file.");
  if ((st.st_mode & 077) != 0)
    return Status::FailedPrecondition(
        "kek.insecure", path + " has mode " + Octal(st.st_mode) +
                            ": group or others may read it, and it opens every secret of the database. Make it "
                            "private to its owner (chmod 600 " +
                            path + ") and start again.");
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes)
    return Status::InvalidArgument("kek.malformed", path + " is " + std::to_string(st.st_size) +
                                                        " bytes: not a verbatim key-encryption key (61 bytes).");
  VERBATIM_RETURN_IF_ERROR(TakeLock(fd, lock, path));
  Wiped text;
  text.s.resize(kMaxFileBytes + 1);
  size_t got = 0;
  for (;;) {
    ssize_t n = ::pread(fd, text.s.data() + got, text.s.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(Errno("read", path));
    if (n == 0 || got + static_cast<size_t>(n) == text.s.size()) {
      got += static_cast<size_t>(n);
      break;
    }
    got += static_cast<size_t>(n);
  }
  auto key = ParseKekFile(std::string_view(text.s).substr(0, got), path);
  if (!key.ok()) return key.status();
  return KekFile{path, std::move(*key), std::move(holder)};
}

Result<KekFile> CreateKekFile(const std::string& path) {
  {
    KeyEncryptionKey key = KeyEncryptionKey::Generate();
    Wiped text{FormatKekFile(key)};
    VERBATIM_RETURN_IF_ERROR(CreateFileAtomically(path, text.s));
  }
  // Read back through the checks every start applies.
  return OpenKekFile(path, KekLock::kShared);
}

Status WriteKekFile(const std::string& path, const KeyEncryptionKey& key) {
  Wiped text{FormatKekFile(key)};
  return CreateFileAtomically(path, text.s);
}

Status RenameKekFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Status::Internal(Errno("rename " + from + " to", to));
  SyncParentDirectory(to);
  return Status::Ok();
}

}  // namespace verbatim
