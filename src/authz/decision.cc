#include "authz/decision.h"

#include <algorithm>

namespace verbatim::authz {
namespace {

std::string Fill(std::string_view tmpl, const MessageParams& params) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      size_t end = tmpl.find('}', i);
      if (end != std::string_view::npos) {
        std::string_view key = tmpl.substr(i + 1, end - i - 1);
        auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == key; });
        if (it != params.end()) {
          out += it->second;
          i = end;
          continue;
        }
      }
    }
    out += tmpl[i];
  }
  return out;
}

}  // namespace

void Deny(Decision& d, int status, std::string code, std::string tmpl, MessageParams params) {
  d.allowed = false;
  d.status = status;
  d.code = std::move(code);
  d.message = Fill(tmpl, params);
  d.message_template = std::move(tmpl);
  d.params = std::move(params);
}

const LayerResult* FirstFailure(const Decision& d) {
  for (const auto& l : d.layers)
    if (l.outcome == Outcome::kFail) return &l;
  return nullptr;
}

json::object ExplanationJson(const Decision& d) {
  json::object e;
  e["decision"] = d.allowed ? "allow" : "deny";
  e["action"] = d.action;
  e["resource"] = d.resource;
  if (d.principal) {
    json::object p;
    p["type"] = d.principal->type;
    p["id"] = d.principal->id;
    p["name"] = d.principal->name;
    p["roles"] = ToJsonArray(d.principal->roles);
    if (!d.principal->via_client_id.empty()) {
      json::object via;
      via["id"] = d.principal->via_client_id;
      via["name"] = d.principal->via_client_name;
      p["viaClient"] = std::move(via);
    }
    e["principal"] = std::move(p);
  } else {
    e["principal"] = nullptr;
  }
  json::array layers;
  for (const auto& l : d.layers) {
    json::object o;
    o["layer"] = ToString(l.layer);
    o["result"] = ToString(l.outcome);
    if (!l.code.empty()) o["code"] = l.code;
    if (l.outcome != Outcome::kNotEvaluated && (l.layer == Layer::kScope || l.layer == Layer::kPermission)) {
      if (!l.required.empty()) o["required"] = ToJsonArray(l.required);
      if (l.outcome == Outcome::kFail || l.layer == Layer::kScope) o["granted"] = ToJsonArray(l.granted);
    }
    if (!l.granted_by.empty()) o["grantedBy"] = l.granted_by;
    if (!l.detail.empty()) o["detail"] = l.detail;
    for (const auto& kv : l.extra) o[kv.key()] = kv.value();
    layers.emplace_back(std::move(o));
  }
  e["layers"] = std::move(layers);
  e["fix"] = ToJsonArray(d.fix);
  if (!d.history.empty()) e["history"] = HistoryJson(d.history);
  return e;
}

json::array HistoryJson(const std::vector<HistoryNote>& notes) {
  json::array out;
  for (const auto& n : notes) {
    json::object o;
    o["layer"] = n.layer;
    o["changeId"] = n.change_id;
    o["kind"] = n.kind;
    o["at"] = n.at;
    json::object by;
    by["type"] = n.actor_type;
    by["id"] = n.actor_id;
    by["name"] = n.actor_name;
    by["clientId"] = n.actor_client_id;
    o["by"] = std::move(by);
    o["contextId"] = n.context_id.empty() ? json::value(nullptr) : json::value(n.context_id);
    o["message"] = n.message;
    o["fix"] = n.fix.empty() ? json::value(nullptr) : json::value(n.fix);
    out.emplace_back(std::move(o));
  }
  return out;
}

}  // namespace verbatim::authz
