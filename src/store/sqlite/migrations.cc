#include "store/sqlite/migrations.h"

#include <iterator>
#include <string>

#include "store/store_errors.h"

namespace verbatim::store::sqlite {
namespace {

// Step i moves the schema from version i to i+1. Never edit a released step:
// append a new one. Times are unix milliseconds; string lists that are only
// ever read whole are JSON arrays in TEXT columns; role ids are child rows so
// that deleting a role is one indexed DELETE.
constexpr const char* kSteps[] = {
    // 1: initial schema.
    R"sql(
CREATE TABLE organizations (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE org_settings (
  org_id          TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  auto_start      INTEGER NOT NULL,
  pause_behavior  TEXT NOT NULL CHECK (pause_behavior IN ('silence', 'skip')),
  retention_days  INTEGER NOT NULL
);

CREATE TABLE oauth_clients (
  id                             TEXT PRIMARY KEY,
  name                           TEXT NOT NULL,
  description                    TEXT NOT NULL,
  allowed_scopes                 TEXT NOT NULL,  -- JSON array
  allowed_grant_types            TEXT NOT NULL,  -- JSON array
  access_token_validity_seconds  INTEGER NOT NULL,
  secret_hash                    TEXT NOT NULL,
  created_at                     INTEGER NOT NULL,
  updated_at                     INTEGER NOT NULL
);
-- Built-in role ids are not rows of `roles`, hence no foreign key on role_id.
CREATE TABLE client_roles (
  client_id  TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  role_id    TEXT NOT NULL,
  PRIMARY KEY (client_id, position)
) WITHOUT ROWID;
CREATE INDEX client_roles_by_role ON client_roles(role_id);

CREATE TABLE roles (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  description  TEXT NOT NULL,
  permissions  TEXT NOT NULL,  -- JSON array
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX roles_by_name ON roles(name COLLATE NOCASE);

CREATE TABLE signing_keys (
  kid              TEXT PRIMARY KEY,
  alg              TEXT NOT NULL,
  private_key_pem  TEXT NOT NULL,
  public_jwk_json  TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  retired_at       INTEGER,
  publish_until    INTEGER
);

CREATE TABLE revoked_tokens (
  jti         TEXT PRIMARY KEY,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens(expires_at);

CREATE TABLE conversations (
  id            TEXT PRIMARY KEY,
  state         TEXT NOT NULL CHECK (state IN ('connected', 'disconnected')),
  started_at    INTEGER NOT NULL,
  ended_at      INTEGER,
  participants  TEXT NOT NULL,  -- JSON array of {id, name, purpose}
  external_id   TEXT NOT NULL,
  created_by    TEXT NOT NULL
);
CREATE INDEX conversations_by_external_id ON conversations(external_id, started_at);
CREATE INDEX conversations_by_start ON conversations(started_at, id);

-- No row until the first action: a conversation without one is state 'none'.
CREATE TABLE recordings (
  conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  state            TEXT NOT NULL CHECK (state IN ('none', 'active', 'paused', 'stopped')),
  version          INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  labels           TEXT NOT NULL,  -- JSON array
  retention_days   INTEGER,
  notes            TEXT NOT NULL
);
CREATE TABLE recording_segments (
  conversation_id  TEXT NOT NULL REFERENCES recordings(conversation_id) ON DELETE CASCADE,
  idx              INTEGER NOT NULL,  -- 1-based
  started_at       INTEGER NOT NULL,
  ended_at         INTEGER,
  PRIMARY KEY (conversation_id, idx)
) WITHOUT ROWID;
CREATE TABLE recording_transitions (
  conversation_id  TEXT NOT NULL REFERENCES recordings(conversation_id) ON DELETE CASCADE,
  seq              INTEGER NOT NULL,  -- 1-based, no gaps
  action           TEXT NOT NULL,
  from_state       TEXT NOT NULL,
  to_state         TEXT NOT NULL,
  segment          INTEGER NOT NULL,
  at               INTEGER NOT NULL,
  principal_type   TEXT NOT NULL,
  principal_id     TEXT NOT NULL,
  principal_name   TEXT NOT NULL,
  client_id        TEXT NOT NULL,
  reason           TEXT NOT NULL,
  context_id       TEXT NOT NULL,
  PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE TABLE media_files (
  conversation_id  TEXT NOT NULL REFERENCES recordings(conversation_id) ON DELETE CASCADE,
  segment          INTEGER NOT NULL,  -- one file per segment
  path             TEXT NOT NULL,
  format           TEXT NOT NULL,
  channels         INTEGER NOT NULL,
  sample_rate      INTEGER NOT NULL,
  bytes            INTEGER NOT NULL,
  duration_ms      INTEGER NOT NULL,
  status           TEXT NOT NULL,
  channel_labels   TEXT NOT NULL,  -- JSON array
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, segment)
) WITHOUT ROWID;

-- Append-only. Every index ends in (at, context_id) so that each filter is an
-- index range scan in keyset order (newest first = backwards).
CREATE TABLE audit_events (
  context_id        TEXT PRIMARY KEY,
  at                INTEGER NOT NULL,
  principal_type    TEXT NOT NULL,
  principal_id      TEXT NOT NULL,
  principal_name    TEXT NOT NULL,
  client_id         TEXT NOT NULL,
  method            TEXT NOT NULL,
  path              TEXT NOT NULL,
  action            TEXT NOT NULL,
  resource          TEXT NOT NULL,
  conversation_id   TEXT NOT NULL,
  decision          TEXT NOT NULL,
  layer             TEXT NOT NULL,
  code              TEXT NOT NULL,
  status            INTEGER NOT NULL,
  explanation_json  TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_events(at, context_id);
CREATE INDEX audit_by_conversation ON audit_events(conversation_id, at, context_id);
CREATE INDEX audit_by_principal ON audit_events(principal_id, at, context_id);
CREATE INDEX audit_by_decision ON audit_events(decision, at, context_id);

CREATE TABLE media_integrations (
  id                TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  api_key           TEXT NOT NULL UNIQUE,
  secret_encrypted  BLOB NOT NULL,
  created_at        INTEGER NOT NULL
);
CREATE TABLE integration_roles (
  integration_id  TEXT NOT NULL REFERENCES media_integrations(id) ON DELETE CASCADE,
  position        INTEGER NOT NULL,
  role_id         TEXT NOT NULL,
  PRIMARY KEY (integration_id, position)
) WITHOUT ROWID;
CREATE INDEX integration_roles_by_role ON integration_roles(role_id);

CREATE TABLE server_secrets (
  name   TEXT PRIMARY KEY,
  value  BLOB NOT NULL
);
)sql",

    // 2: denials are what support looks for, and most events are allowed reads:
    // index only the denials instead of every event by decision (one B-tree
    // fewer on the hottest insert).
    R"sql(
DROP INDEX audit_by_decision;
CREATE INDEX audit_by_decision_deny ON audit_events(at, context_id) WHERE decision = 'deny';
)sql",

    // 3: a denial keeps its whole explanation (1-2 KB), and it is the same text
    // every time a client retries the same denied call: store each distinct
    // text once (by BLAKE2b digest) and point to it. Small ones stay inline.
    R"sql(
CREATE TABLE audit_explanations (
  id      INTEGER PRIMARY KEY,
  digest  BLOB NOT NULL UNIQUE,
  json    TEXT NOT NULL
);
ALTER TABLE audit_events ADD COLUMN explanation_id INTEGER;
)sql",

    // 4: retention deletes old events, then the explanations none points to:
    // find the pointers without a scan (only denials have one).
    R"sql(
CREATE INDEX audit_by_explanation ON audit_events(explanation_id) WHERE explanation_id IS NOT NULL;
)sql",

    // 5: tokens follow their client: a client can be disabled, and every token
    // issued at or before tokens_valid_after (unix ms) is refused, for the
    // reason kept next to it (docs/decisions.md "Tokens follow their client").
    R"sql(
ALTER TABLE oauth_clients ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE oauth_clients ADD COLUMN tokens_valid_after INTEGER;
ALTER TABLE oauth_clients ADD COLUMN tokens_valid_after_reason TEXT NOT NULL DEFAULT '';
)sql",

    // 6: who sent the request: the client address (after trusted proxies, see
    // transports/http/forwarded.h). Older events have none ('').
    R"sql(
ALTER TABLE audit_events ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
)sql",

    // 7: SIPREC trunks (the allow-listed recording sources, docs/sip-trunks.md)
    // and the media source that owns each conversation: only it may join.
    // Existing conversations get no owner, so no media session can join them.
    R"sql(
CREATE TABLE sip_trunks (
  id                  TEXT PRIMARY KEY,
  name                TEXT NOT NULL,
  description         TEXT NOT NULL,
  networks            TEXT NOT NULL,  -- JSON array of CIDRs
  transports          TEXT NOT NULL,  -- JSON array: udp, tcp
  digest_username     TEXT NOT NULL,
  digest_realm        TEXT NOT NULL,
  digest_ha1_md5      TEXT NOT NULL,
  digest_ha1_sha256   TEXT NOT NULL,
  max_sessions        INTEGER NOT NULL,
  max_channels        INTEGER NOT NULL,
  max_bandwidth_kbps  INTEGER NOT NULL,
  rtp_source          TEXT NOT NULL CHECK (rtp_source IN ('offer', 'latch')),
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX sip_trunks_by_name ON sip_trunks(name COLLATE NOCASE);
ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
)sql",
    // SRTP policy per SIP trunk (docs/sip-trunks.md "SRTP"); transports may now include "tls".
    R"sql(
ALTER TABLE sip_trunks ADD COLUMN srtp TEXT NOT NULL DEFAULT 'optional' CHECK (srtp IN ('off', 'optional', 'required'));
)sql",

    // 9: users, the people who sign in (issue 13). Usernames are unique
    // case-insensitively; roles and the token cutoff work as on clients.
    R"sql(
CREATE TABLE users (
  id                         TEXT PRIMARY KEY,
  username                   TEXT NOT NULL,
  display_name               TEXT NOT NULL,
  email                      TEXT NOT NULL,
  password_hash              TEXT NOT NULL,  -- Argon2id, libsodium's encoded form
  enabled                    INTEGER NOT NULL,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL,
  tokens_valid_after         INTEGER,
  tokens_valid_after_reason  TEXT NOT NULL
);
CREATE UNIQUE INDEX users_by_username ON users(username COLLATE NOCASE);
CREATE TABLE user_roles (
  user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  role_id   TEXT NOT NULL,
  PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
CREATE INDEX user_roles_by_role ON user_roles(role_id);
)sql",

    // 10: the authorization code flow's client fields (issue 13): redirect
    // URIs, and public clients that hold no secret.
    R"sql(
ALTER TABLE oauth_clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE oauth_clients ADD COLUMN client_type TEXT NOT NULL DEFAULT 'confidential'
  CHECK (client_type IN ('confidential', 'public'));
)sql",

    // 11: sign-in grants (issue 13): one-time authorization codes and the
    // refresh tokens of each sign-in, kept by the SHA-256 of the secret. They
    // go with their client and their user (the cascades; the *_by_client and
    // *_by_user indexes spare those deletes a scan). Used codes and rotated
    // tokens stay until they expire, so that a replay is recognized.
    R"sql(
CREATE TABLE auth_codes (
  code_hash       TEXT PRIMARY KEY,  -- lowercase hex SHA-256 of the code
  client_id       TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  redirect_uri    TEXT NOT NULL,
  scopes          TEXT NOT NULL,  -- JSON array
  code_challenge  TEXT NOT NULL,
  family_id       TEXT NOT NULL,
  auth_time       INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  used_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX auth_codes_by_family ON auth_codes(family_id);
CREATE INDEX auth_codes_by_expiry ON auth_codes(expires_at);
CREATE INDEX auth_codes_by_client ON auth_codes(client_id);
CREATE INDEX auth_codes_by_user ON auth_codes(user_id);

CREATE TABLE refresh_tokens (
  token_hash  TEXT PRIMARY KEY,  -- lowercase hex SHA-256 of the token
  family_id   TEXT NOT NULL,
  client_id   TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  scopes      TEXT NOT NULL,  -- JSON array
  auth_time   INTEGER NOT NULL,
  issued_at   INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  revoked_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
CREATE INDEX refresh_tokens_by_client ON refresh_tokens(client_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens(user_id);
)sql",

    // 12: the change log (issue 15, docs/changes.md), written in the same
    // transaction as each change. AUTOINCREMENT: an id is never reused after
    // retention deletes the newest rows, so a stream resuming from an old id
    // cannot mistake a new entry for one it has seen.
    R"sql(
CREATE TABLE changes (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  at               INTEGER NOT NULL,
  kind             TEXT NOT NULL,
  subject_type     TEXT NOT NULL,
  subject_id       TEXT NOT NULL,
  subject_name     TEXT NOT NULL,
  actor_type       TEXT NOT NULL,
  actor_id         TEXT NOT NULL,
  actor_name       TEXT NOT NULL,
  actor_client_id  TEXT NOT NULL,
  context_id       TEXT NOT NULL,
  fields           TEXT NOT NULL  -- JSON array of {field, before?, after?}
);
CREATE INDEX changes_by_subject ON changes(subject_type, subject_id, id);
CREATE INDEX changes_by_actor ON changes(actor_id, id);
CREATE INDEX changes_by_time ON changes(at);
)sql",
    // 13: webhooks and their outbox (docs/webhooks.md).
    R"sql(
CREATE TABLE webhooks (
  id                 TEXT PRIMARY KEY,
  url                TEXT NOT NULL,
  description        TEXT NOT NULL,
  kinds              TEXT NOT NULL,  -- JSON array
  secret_encrypted   BLOB NOT NULL,
  enabled            INTEGER NOT NULL,
  disabled_reason    TEXT NOT NULL,
  disabled_at        INTEGER,
  last_delivered_at  INTEGER,
  cursor             INTEGER NOT NULL,
  created_by_type    TEXT NOT NULL,
  created_by_id      TEXT NOT NULL,
  created_by_name    TEXT NOT NULL,
  created_by_client  TEXT NOT NULL,
  created_at         INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT NOT NULL UNIQUE,
  webhook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  change_id        INTEGER NOT NULL,
  kind             TEXT NOT NULL,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL,  -- pending | delivered | failed
  attempts         INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  next_attempt_at  INTEGER NOT NULL,
  last_attempt_at  INTEGER,
  last_status      INTEGER NOT NULL,
  last_error       TEXT NOT NULL,
  finished_at      INTEGER,
  UNIQUE (webhook_id, change_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, seq);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(finished_at) WHERE finished_at IS NOT NULL;
)sql",
    // 14: nodes and the media sessions they hold (docs/deployment.md, "Media
    // sessions and node failure"); which node's disk holds each media file.
    R"sql(
CREATE TABLE nodes (
  id                TEXT PRIMARY KEY,
  advertise_url     TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  heartbeat_at      INTEGER NOT NULL,
  lease_expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE media_sessions (
  conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  node_id          TEXT NOT NULL,
  transport        TEXT NOT NULL,
  opened_at        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_sessions_by_node ON media_sessions(node_id);
ALTER TABLE media_files ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
ALTER TABLE media_files ADD COLUMN interrupted_at INTEGER;
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kSteps));

Result<int> UserVersion(Db& db) {
  Stmt st = db.Prepare("PRAGMA user_version");
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("sqlite: PRAGMA user_version returned no row");
  return static_cast<int>(st.Int(0));
}

Status TooNew(int version) { return SchemaTooNew(version, kLatest); }

}  // namespace

int LatestSchemaVersion() { return kLatest; }

Status Migrate(Db& db) {
  STORE_ASSIGN_OR_RETURN(int version, UserVersion(db));
  if (version == kLatest) return Status::Ok();  // the common case: no write, no lock
  if (version > kLatest) return TooNew(version);

  return db.Transaction(TxnKind::kWrite, [](Db& db) -> Status {
    // Re-read under the write lock: another process may have migrated meanwhile.
    STORE_ASSIGN_OR_RETURN(int current, UserVersion(db));
    if (current > kLatest) return TooNew(current);
    for (int v = current; v < kLatest; ++v) {
      Status s = db.ExecScript(kSteps[v]);
      if (!s.ok()) return Status::Internal("schema step " + std::to_string(v + 1) + ": " + s.message());
    }
    // PRAGMA takes no parameters; the value is our own constant, not input.
    return db.ExecScript(("PRAGMA user_version = " + std::to_string(kLatest)).c_str());
  });
}

}  // namespace verbatim::store::sqlite
