#include "core/private_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace verbatim {

void MakePrivate(const std::filesystem::path& path, TightenReport& report) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) report.errors.push_back(path.string() + ": " + std::strerror(errno));
    return;
  }
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return;  // symlinks, sockets: not ours to change
  if ((st.st_mode & 077) == 0) return;
  if (::chmod(path.c_str(), st.st_mode & 07700) != 0) {
    report.errors.push_back(path.string() + ": " + std::strerror(errno));
    return;
  }
  ++report.tightened;
}

void MakePrivateTree(const std::filesystem::path& root, TightenReport& report) {
  MakePrivate(root, report);  // first, so that nothing below is reachable while we walk
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(root, ec))) return;
  std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::skip_permission_denied,
                                                   ec),
      end;
  if (ec) {
    report.errors.push_back(root.string() + ": " + ec.message());
    return;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      report.errors.push_back(root.string() + ": " + ec.message());
      return;
    }
    MakePrivate(it->path(), report);
  }
}

}  // namespace verbatim
