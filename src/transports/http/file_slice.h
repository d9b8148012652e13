// FileSlice: lets a handler answer with bytes of a file without reading them
// into memory (the X-Sendfile pattern). The handler attaches the slice to its
// response; HttpServer detaches it and streams the response body (if any)
// followed by the slice, in fixed-size chunks, so a one-hour recording costs
// one chunk of memory, not 115 MB. Anything else that handles responses
// (tests, fuzzers) can materialize the slice with ReadFileSlice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "transports/http/http_server.h"

namespace verbatim::api {

struct FileSlice {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string renamed_path;  // where `path` may have been renamed to meanwhile (a .part closing); optional
};

// Internal header, never sent: HttpServer removes it before writing.
inline constexpr std::string_view kFileSliceHeader = "X-Verbatim-File-Slice";
inline constexpr std::string_view kFileSliceRenamedHeader = "X-Verbatim-File-Slice-Renamed";

void AttachFileSlice(HttpResponse& res, const FileSlice& slice);
// Removes the slice from `res`; nullopt if it carries none (or a malformed one).
std::optional<FileSlice> DetachFileSlice(HttpResponse& res);
// Opens slice.path, or slice.renamed_path if path is gone; -1 if neither opens.
int OpenFileSlice(const FileSlice& slice);
// Appends exactly slice.length bytes to `out`; false on a short read.
bool ReadFileSlice(const FileSlice& slice, std::string& out);

}  // namespace verbatim::api
