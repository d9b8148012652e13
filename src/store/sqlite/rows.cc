#include "store/sqlite/rows.h"

namespace verbatim::store::sqlite {

Result<std::vector<std::string>> LoadRoleIds(Db& db, std::string_view select_sql, const std::string& owner_id) {
  Stmt st = db.Query(select_sql, owner_id);
  std::vector<std::string> out;
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(st.Text(0));
  }
}

Status ReplaceRoleIds(Db& db, std::string_view delete_sql, std::string_view insert_sql, const std::string& owner,
                      const std::vector<std::string>& role_ids) {
  VERBATIM_RETURN_IF_ERROR(db.Exec(delete_sql, owner));
  for (size_t i = 0; i < role_ids.size(); ++i) VERBATIM_RETURN_IF_ERROR(db.Exec(insert_sql, owner, i, role_ids[i]));
  return Status::Ok();
}

const char kAuditColumns[] =
    "context_id, at, principal_type, principal_id, principal_name, client_id, method, path, action, resource, "
    "conversation_id, decision, layer, code, status, "
    "COALESCE((SELECT x.json FROM audit_explanations x WHERE x.id = audit_events.explanation_id), "
    "audit_events.explanation_json), client_address";

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
  e.client_address = st.Text(16);
  return e;
}

namespace {

// The id of `text` in audit_explanations, added if new.
Result<int64_t> InternExplanation(Db& db, std::string_view text) {
  const std::string digest = ExplanationDigest(text);
  const Blob key{digest};
  {
    Stmt st = db.Query("SELECT id FROM audit_explanations WHERE digest = ?", key);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) return st.Int(0);
  }
  return db.QueryInt("INSERT INTO audit_explanations (digest, json) VALUES (?, ?) RETURNING id", key, text);
}

}  // namespace

Status InsertAudit(Db& db, const AuditEvent& e) {
  std::optional<int64_t> shared;
  if (e.explanation_json.size() >= kSharedExplanationBytes) {
    STORE_ASSIGN_OR_RETURN(shared, InternExplanation(db, e.explanation_json));
  }
  // "" and not a default string_view: a null data pointer would bind as NULL.
  const std::string_view inline_text = shared ? std::string_view("") : std::string_view(e.explanation_json);
  return db.Exec(
      "INSERT INTO audit_events (context_id, at, principal_type, principal_id, principal_name, client_id, method, "
      "path, action, resource, conversation_id, decision, layer, code, status, explanation_json, explanation_id, "
      "client_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (context_id) DO NOTHING",
      e.context_id, e.at, e.actor.principal_type, e.actor.principal_id, e.actor.principal_name, e.actor.client_id,
      e.method, e.path, e.action, e.resource, e.conversation_id, e.decision, e.layer, e.code, e.status,
      inline_text, shared, e.client_address);
}

}  // namespace verbatim::store::sqlite
