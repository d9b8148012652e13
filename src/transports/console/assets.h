// The console's static files (docs/console.md): src/transports/console/assets/
// compiled into the binary (cmake/embed_dir.cmake), so the console needs no
// CDN and no files beside the executable. VERBATIM_CONSOLE_ASSETS_DIR serves
// them from a directory instead, for working on the page without a rebuild.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace verbatim::console {

struct EmbeddedFile {
  std::string_view path;  // "app.js", "pages/clients.js"
  std::string_view bytes;
};

// Generated: every file under assets/, sorted by path.
const std::vector<EmbeddedFile>& EmbeddedAssets();

struct Asset {
  std::string bytes;
  std::string content_type;
  std::string etag;  // a strong validator: "\"<sha-256 prefix>\""
};

class Assets {
 public:
  // The embedded files, or those under `dir` when it is not empty (read on
  // every request, so an edit shows on reload).
  explicit Assets(std::string dir = {});

  // The file at `path` (relative, as in "pages/clients.js"); nullopt when
  // there is none or the path is not a plain relative name ([a-z0-9._-] and
  // '/' only, no "..", no leading '/').
  std::optional<Asset> Find(std::string_view path) const;
  bool from_disk() const { return !dir_.empty(); }

 private:
  std::string dir_;
  std::vector<std::pair<std::string, Asset>> embedded_;  // path → asset, hashed once
};

// "text/javascript; charset=utf-8" for "app.js"; application/octet-stream when unknown.
std::string ContentTypeFor(std::string_view path);
// True for a path an asset may have.
bool IsAssetPath(std::string_view path);

}  // namespace verbatim::console
