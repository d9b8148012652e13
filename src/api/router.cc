#include "api/router.h"

#include "oauth/form.h"

namespace verbatim::api {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 1;  // paths start with '/'
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::pair<std::string, std::string>>& params) {
  if (path.empty() || path[0] != '/') return false;
  auto ps = Split(pattern);
  auto xs = Split(path);
  if (ps.size() != xs.size()) return false;
  std::vector<std::pair<std::string, std::string>> found;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].size() > 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      if (xs[i].empty()) return false;
      // Parameters are percent-decoded ("Recording%20Viewer"); a bad escape
      // is kept as sent, so the handler's validation names it.
      auto decoded = oauth::PercentDecode(xs[i], false);
      found.emplace_back(std::string(ps[i].substr(1, ps[i].size() - 2)), decoded ? *decoded : std::string(xs[i]));
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::Add(Route r) { routes_.push_back(std::move(r)); }

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  // Literal segments beat parameters: try routes in order, but prefer a match
  // without parameters (e.g. /roles/{id} vs a future /roles/builtin).
  const Route* best = nullptr;
  std::vector<std::pair<std::string, std::string>> best_params;
  for (const auto& r : routes_) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!MatchPattern(r.pattern, path, params)) continue;
    m.path_matched = true;
    m.allowed_methods.push_back(r.method);
    if (r.method != method) continue;
    if (!best || params.size() < best_params.size()) {
      best = &r;
      best_params = std::move(params);
    }
  }
  m.route = best;
  m.params = std::move(best_params);
  return m;
}

}  // namespace verbatim::api
