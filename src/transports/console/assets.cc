#include "transports/console/assets.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/crypto.h"

namespace verbatim::console {
namespace {

constexpr size_t kMaxAssetBytes = 8 << 20;

Asset Make(std::string bytes, std::string_view path) {
  Asset a;
  a.etag = "\"" + HexEncode(Sha256(bytes)).substr(0, 32) + "\"";
  a.bytes = std::move(bytes);
  a.content_type = ContentTypeFor(path);
  return a;
}

}  // namespace

std::string ContentTypeFor(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},               {".png", "image/png"},
      {".ico", "image/x-icon"},                {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"}};
  for (const auto& [ext, type] : kTypes)
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext) return std::string(type);
  return "application/octet-stream";
}

bool IsAssetPath(std::string_view path) {
  if (path.empty() || path.size() > 200 || path.front() == '/' || path.front() == '.') return false;
  if (path.find("..") != std::string_view::npos || path.find("//") != std::string_view::npos) return false;
  return std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
  });
}

Assets::Assets(std::string dir) : dir_(std::move(dir)) {
  if (!dir_.empty()) return;
  for (const auto& f : EmbeddedAssets()) embedded_.emplace_back(std::string(f.path), Make(std::string(f.bytes), f.path));
}

std::optional<Asset> Assets::Find(std::string_view path) const {
  if (!IsAssetPath(path)) return std::nullopt;
  if (dir_.empty()) {
    for (const auto& [p, a] : embedded_)
      if (p == path) return a;
    return std::nullopt;
  }
  std::ifstream in(dir_ + "/" + std::string(path), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (bytes.size() > kMaxAssetBytes) return std::nullopt;
  return Make(std::move(bytes), path);
}

}  // namespace verbatim::console
