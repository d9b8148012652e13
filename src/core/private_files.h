// Private file modes for everything verbatim writes (docs/secrets-at-rest.md):
// directories 0700, files 0600. New files get them from the process umask
// (077, set by the CLI at start) and from explicit modes at creation; these
// helpers tighten what already exists, e.g. a data directory written by an
// older verbatim with 0644 WAVs.
//
// They only remove group/other bits (the owner's bits stay), never follow
// symbolic links, and report rather than stop on an entry they cannot change.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace verbatim {

inline constexpr unsigned kPrivateDirMode = 0700;
inline constexpr unsigned kPrivateFileMode = 0600;

struct TightenReport {
  int tightened = 0;                // entries whose group/other bits were removed
  std::vector<std::string> errors;  // "<path>: <reason>" for entries left as they were
};

// `path` itself (a directory or a regular file), if it exists.
void MakePrivate(const std::filesystem::path& path, TightenReport& report);
// `root` and every directory and regular file below it.
void MakePrivateTree(const std::filesystem::path& root, TightenReport& report);

}  // namespace verbatim
