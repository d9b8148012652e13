// A Decision is the whole story of one authorization: every layer's result,
// the status and code the caller gets, the message, and the fix. It is a value:
// the engine builds it, the API renders it, the audit log stores it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "authz/catalog.h"
#include "core/json.h"

namespace verbatim::authz {

// Order is the order of evaluation (docs/api.md §2): token → scope → permission → resource.
enum class Layer { kToken, kScope, kPermission, kResource };
enum class Outcome { kPass, kFail, kNotEvaluated };

const char* ToString(Layer l);    // "token" | "scope" | "permission" | "resource"
const char* ToString(Outcome o);  // "pass" | "fail" | "not-evaluated"

struct LayerResult {
  Layer layer = Layer::kToken;
  Outcome outcome = Outcome::kNotEvaluated;
  std::string code;                   // failing code, e.g. "missing.scope"; empty on pass
  std::vector<std::string> required;  // what this layer needed
  std::vector<std::string> granted;   // what the request had
  std::string granted_by;             // the scope or role that satisfied it
  std::string detail;                 // one sentence
  json::object extra;                 // layer-specific facts (claim, endedAt, state, allowedActions, ...)
};

struct PrincipalSummary {
  std::string type;  // "client" | "user"
  std::string id;
  std::string name;
  std::vector<std::string> roles;  // role names
  std::string via_client_id;       // a user: the client it signed in through
  std::string via_client_name;
};

// A recent change that the failing layer depends on (docs/changes.md,
// "What changed"): found in the change log by the service, rendered as the
// explanation's `history`. The engine never fills it.
struct HistoryNote {
  std::string layer;  // "token" | "scope" | "permission": the layer it explains
  int64_t change_id = 0;
  std::string kind;  // the change's kind, e.g. "client.updated"
  std::string at;    // RFC 3339
  std::string actor_type, actor_id, actor_name, actor_client_id;
  std::string context_id;  // of the request that made the change ("" offline)
  std::string message;     // one sentence: what was there, until when, who changed it
  std::string fix;         // how to restore it ("" when nothing is to be restored)
};

struct Decision {
  bool allowed = false;  // every evaluated layer passed
  int status = 200;      // HTTP status when denied
  std::string code;      // docs/api.md §3 code when denied
  std::string message;
  std::string message_template;                              // messageWithParams
  std::vector<std::pair<std::string, std::string>> params;  // messageParams, in order
  std::string action;     // permission required
  std::string resource;   // "conversation/<id>"
  std::optional<PrincipalSummary> principal;
  std::vector<LayerResult> layers;  // always all four, in order
  std::vector<std::string> fix;
  std::vector<std::string> insufficient_scopes;  // for WWW-Authenticate on 403
  std::vector<HistoryNote> history;              // newest first; empty unless a recent change explains it

  LayerResult& layer(Layer l) { return layers[static_cast<size_t>(l)]; }
  const LayerResult& layer(Layer l) const { return layers[static_cast<size_t>(l)]; }
};

// The `explanation` object of docs/api.md §3 (`history` only when there is some).
json::object ExplanationJson(const Decision& d);
json::array HistoryJson(const std::vector<HistoryNote>& notes);

// The first layer that failed, in evaluation order: what metrics, the audit
// log and gRPC error details call "the layer" of a denial. nullptr if none.
const LayerResult* FirstFailure(const Decision& d);

using MessageParams = std::vector<std::pair<std::string, std::string>>;

// Marks `d` denied with `status` and `code`; `message` is `tmpl` with each
// {name} replaced by its param (messageWithParams keeps the template).
void Deny(Decision& d, int status, std::string code, std::string tmpl, MessageParams params);

}  // namespace verbatim::authz
