#include "transports/http/denial_cache.h"

namespace verbatim::api {

std::string DenialCache::Key(const authz::TokenCheck& token, std::string_view action, std::string_view resource,
                             uint64_t directory_generation) {
  if (!token.ok() || token.jti.empty()) return {};
  std::string key;
  key.reserve(token.jti.size() + action.size() + resource.size() + 24);
  // '\n' cannot occur in a jti or an action; the resource is last.
  key.append(token.jti).append(1, '\n').append(std::to_string(directory_generation)).append(1, '\n');
  key.append(action).append(1, '\n').append(resource);
  return key;
}

std::shared_ptr<const RenderedDenial> DenialCache::Make(const authz::Decision& decision,
                                                        const authz::Principal& principal,
                                                        const HttpResponse& response, std::string audit_explanation) {
  // Inside JSON strings a quote is escaped, so the unescaped key sequence can
  // only be the real contextId member, whatever the request put in the path.
  const std::string needle = "\"contextId\":\"" + std::string(kPlaceholderContextId) + "\"";
  const std::string& body = response.body();
  const size_t at = body.find(needle);
  if (at == std::string::npos) return nullptr;
  auto d = std::make_shared<RenderedDenial>();
  d->decision = decision;
  d->principal = principal;
  d->headers = response;
  d->headers.body().clear();
  const size_t value_at = at + needle.size() - 1 - kPlaceholderContextId.size();
  d->body_head = body.substr(0, value_at);
  d->body_tail = body.substr(value_at + kPlaceholderContextId.size());
  d->audit_explanation = std::move(audit_explanation);
  return d;
}

HttpResponse DenialCache::Render(const RenderedDenial& d, std::string_view context_id) {
  HttpResponse res = d.headers;
  std::string& body = res.body();
  body.reserve(d.body_head.size() + context_id.size() + d.body_tail.size());
  body.append(d.body_head).append(context_id).append(d.body_tail);
  return res;
}

std::shared_ptr<const RenderedDenial> DenialCache::Find(const std::string& key) const {
  if (key.empty()) return nullptr;
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void DenialCache::Insert(const std::string& key, std::shared_ptr<const RenderedDenial> entry) {
  if (key.empty() || !entry) return;
  MutexLock lock(mu_);
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_[key] = std::move(entry);
}

}  // namespace verbatim::api
