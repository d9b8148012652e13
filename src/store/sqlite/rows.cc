#include "store/sqlite/rows.h"

#include "core/json.h"

namespace verbatim::store::sqlite {
namespace {

// Our own columns: malformed JSON means a corrupt row, not bad input.
Result<json::array> ParseArray(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return Status::Internal("store: corrupt JSON list column");
  return std::move(v.as_array());
}

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

}  // namespace

std::string EncodeStrings(const std::vector<std::string>& v) { return ToJson(ToJsonArray(v)); }

Result<std::vector<std::string>> DecodeStrings(std::string_view text) {
  STORE_ASSIGN_OR_RETURN(json::array a, ParseArray(text));
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const auto& e : a) {
    if (!e.is_string()) return Status::Internal("store: corrupt JSON string list");
    out.emplace_back(e.as_string());
  }
  return out;
}

std::string EncodeParticipants(const std::vector<Participant>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& p : v) a.push_back(json::object{{"id", p.id}, {"name", p.name}, {"purpose", p.purpose}});
  return ToJson(a);
}

Result<std::vector<Participant>> DecodeParticipants(std::string_view text) {
  STORE_ASSIGN_OR_RETURN(json::array a, ParseArray(text));
  std::vector<Participant> out;
  out.reserve(a.size());
  for (const auto& e : a) {
    if (!e.is_object()) return Status::Internal("store: corrupt participants column");
    const auto& o = e.as_object();
    out.push_back(Participant{Str(o, "id"), Str(o, "name"), Str(o, "purpose")});
  }
  return out;
}

Result<std::vector<std::string>> LoadRoleIds(Db& db, std::string_view select_sql, const std::string& owner_id) {
  Stmt st = db.Query(select_sql, owner_id);
  std::vector<std::string> out;
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(st.Text(0));
  }
}

const char kAuditColumns[] =
    "context_id, at, principal_type, principal_id, principal_name, client_id, method, path, action, resource, "
    "conversation_id, decision, layer, code, status, explanation_json";

AuditEvent ReadAudit(const Stmt& st) {
  AuditEvent e;
  e.context_id = st.Text(0);
  e.at = st.Time(1);
  e.actor = Actor{st.Text(2), st.Text(3), st.Text(4), st.Text(5)};
  e.method = st.Text(6);
  e.path = st.Text(7);
  e.action = st.Text(8);
  e.resource = st.Text(9);
  e.conversation_id = st.Text(10);
  e.decision = st.Text(11);
  e.layer = st.Text(12);
  e.code = st.Text(13);
  e.status = static_cast<int>(st.Int(14));
  e.explanation_json = st.Text(15);
  return e;
}

Status InsertAudit(Db& db, const AuditEvent& e) {
  return db.Exec(
      "INSERT INTO audit_events (context_id, at, principal_type, principal_id, principal_name, client_id, method, "
      "path, action, resource, conversation_id, decision, layer, code, status, explanation_json) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (context_id) DO NOTHING",
      e.context_id, e.at, e.actor.principal_type, e.actor.principal_id, e.actor.principal_name, e.actor.client_id,
      e.method, e.path, e.action, e.resource, e.conversation_id, e.decision, e.layer, e.code, e.status,
      e.explanation_json);
}

}  // namespace verbatim::store::sqlite
