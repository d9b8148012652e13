#include "transports/http/router.h"

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

bool IsParam(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Matches the pre-split pattern against the pre-split path; fills params only on a match.
bool MatchSegments(const std::vector<std::string>& ps, const std::vector<std::string_view>& xs,
                   std::vector<std::pair<std::string, std::string>>& params) {
  if (ps.size() != xs.size()) return false;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (IsParam(ps[i])) {
      if (xs[i].empty()) return false;
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params.clear();
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!IsParam(ps[i])) continue;
    // Parameters are percent-decoded ("Recording%20Viewer"); a bad escape
    // is kept as sent, so the handler's validation names it.
    auto decoded = oauth::PercentDecode(xs[i], false);
    params.emplace_back(ps[i].substr(1, ps[i].size() - 2), decoded ? *decoded : std::string(xs[i]));
  }
  return true;
}

}  // namespace

void Router::Add(Route r) {
  std::vector<std::string> segs;
  for (auto seg : Split(r.pattern)) segs.emplace_back(seg);
  segments_.push_back(std::move(segs));
  routes_.push_back(std::move(r));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  // Literal segments beat parameters: try routes in order, but prefer a match
  // without parameters (e.g. /roles/{id} vs a future /roles/builtin).
  const Route* best = nullptr;
  std::vector<std::pair<std::string, std::string>> best_params;
  if (path.empty() || path[0] != '/') return m;
  const auto xs = Split(path);
  std::vector<std::pair<std::string, std::string>> params;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (!MatchSegments(segments_[i], xs, params)) continue;
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
