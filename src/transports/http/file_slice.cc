#include "transports/http/file_slice.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

namespace verbatim::api {

void AttachFileSlice(HttpResponse& res, const FileSlice& slice) {
  // "OFFSET LENGTH PATH": the path is last, so it may contain spaces.
  res.set(kFileSliceHeader, std::to_string(slice.offset) + " " + std::to_string(slice.length) + " " + slice.path);
  if (!slice.renamed_path.empty()) res.set(kFileSliceRenamedHeader, slice.renamed_path);
}

std::optional<FileSlice> DetachFileSlice(HttpResponse& res) {
  auto it = res.find(kFileSliceHeader);
  if (it == res.end()) return std::nullopt;
  const std::string value(it->value());
  res.erase(kFileSliceHeader);
  FileSlice f;
  if (auto alt = res.find(kFileSliceRenamedHeader); alt != res.end()) {
    f.renamed_path = std::string(alt->value());
    res.erase(kFileSliceRenamedHeader);
  }
  const char* p = value.data();
  const char* end = p + value.size();
  auto [a, ea] = std::from_chars(p, end, f.offset);
  if (ea != std::errc() || a == end || *a != ' ') return std::nullopt;
  auto [b, eb] = std::from_chars(a + 1, end, f.length);
  if (eb != std::errc() || b == end || *b != ' ') return std::nullopt;
  f.path.assign(b + 1, end);
  if (f.path.empty()) return std::nullopt;
  return f;
}

int OpenFileSlice(const FileSlice& slice) {
  int fd = ::open(slice.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !slice.renamed_path.empty()) fd = ::open(slice.renamed_path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd;
}

bool ReadFileSlice(const FileSlice& slice, std::string& out) {
  int fd = OpenFileSlice(slice);
  if (fd < 0) return false;
  const size_t start = out.size();
  out.resize(start + slice.length);
  uint64_t done = 0;
  while (done < slice.length) {
    ssize_t n = ::pread(fd, out.data() + start + done, slice.length - done, static_cast<off_t>(slice.offset + done));
    if (n <= 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  out.resize(start + done);
  return done == slice.length;
}

}  // namespace verbatim::api
