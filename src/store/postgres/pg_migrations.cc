#include "store/postgres/pg_migrations.h"

#include <iterator>
#include <string>

#include "store/store_errors.h"

namespace verbatim::store::pg {
namespace {

// Step i moves the schema from version i to i+1. Never edit a released step:
// append a new one. The tables mirror the SQLite store's (same names, same
// meaning) so that both are read the same way: times are bigint unix
// milliseconds, string lists JSON arrays (jsonb), role ids child rows.
// Differences, each for a reason:
//   - `seq` identity columns give the insertion order SQLite's rowid gave;
//   - role names (and trunk names, usernames) are unique on
//     lower(name COLLATE "C"): ASCII case folding, exactly SQLite's NOCASE;
//   - audit_events is partitioned by day on `at` (docs/decisions.md
//     "Audit partitions by day"); a unique key of a partitioned table must
//     hold the partition key, so the key is (at, context_id);
//   - binary values are bytea.
constexpr const char* kSteps[] = {
    // 1: initial schema (the SQLite store's step 7, in one step).
    R"sql(
CREATE TABLE organizations (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  bigint NOT NULL,
  seq         bigint GENERATED ALWAYS AS IDENTITY
);
CREATE TABLE org_settings (
  org_id          text PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  auto_start      boolean NOT NULL,
  pause_behavior  text NOT NULL CHECK (pause_behavior IN ('silence', 'skip')),
  retention_days  integer NOT NULL
);

CREATE TABLE oauth_clients (
  id                             text PRIMARY KEY,
  name                           text NOT NULL,
  description                    text NOT NULL,
  allowed_scopes                 jsonb NOT NULL,
  allowed_grant_types            jsonb NOT NULL,
  access_token_validity_seconds  integer NOT NULL,
  secret_hash                    text NOT NULL,
  created_at                     bigint NOT NULL,
  updated_at                     bigint NOT NULL,
  enabled                        boolean NOT NULL DEFAULT true,
  tokens_valid_after             bigint,
  tokens_valid_after_reason      text NOT NULL DEFAULT ''
);
-- Built-in role ids are not rows of `roles`, hence no foreign key on role_id.
CREATE TABLE client_roles (
  client_id  text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  position   integer NOT NULL,
  role_id    text NOT NULL,
  PRIMARY KEY (client_id, position)
);
CREATE INDEX client_roles_by_role ON client_roles(role_id);

CREATE TABLE roles (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  description  text NOT NULL,
  permissions  jsonb NOT NULL,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL
);
CREATE UNIQUE INDEX roles_by_name ON roles (lower(name COLLATE "C"));

CREATE TABLE signing_keys (
  kid              text PRIMARY KEY,
  alg              text NOT NULL,
  private_key_pem  text NOT NULL,
  public_jwk_json  text NOT NULL,
  created_at       bigint NOT NULL,
  retired_at       bigint,
  publish_until    bigint,
  seq              bigint GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE revoked_tokens (
  jti         text PRIMARY KEY,
  expires_at  bigint NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens(expires_at);

CREATE TABLE conversations (
  id            text PRIMARY KEY,
  state         text NOT NULL CHECK (state IN ('connected', 'disconnected')),
  started_at    bigint NOT NULL,
  ended_at      bigint,
  participants  jsonb NOT NULL,
  external_id   text NOT NULL,
  created_by    text NOT NULL,
  -- The media source that may feed it: "trunk:<id>", "integration:<id>",
  -- "client:<id>"; '' = none (docs/sip-trunks.md).
  owner         text NOT NULL DEFAULT '',
  seq           bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX conversations_by_external_id ON conversations(external_id, started_at, seq);
CREATE INDEX conversations_by_start ON conversations(started_at, id);

-- No row until the first action: a conversation without one is state 'none'.
CREATE TABLE recordings (
  conversation_id  text PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  state            text NOT NULL CHECK (state IN ('none', 'active', 'paused', 'stopped')),
  version          bigint NOT NULL,
  updated_at       bigint NOT NULL,
  labels           jsonb NOT NULL,
  retention_days   integer,
  notes            text NOT NULL
);
CREATE TABLE recording_segments (
  conversation_id  text NOT NULL REFERENCES recordings(conversation_id) ON DELETE CASCADE,
  idx              integer NOT NULL,  -- 1-based
  started_at       bigint NOT NULL,
  ended_at         bigint,
  PRIMARY KEY (conversation_id, idx)
);
CREATE TABLE recording_transitions (
  conversation_id  text NOT NULL REFERENCES recordings(conversation_id) ON DELETE CASCADE,
  seq              bigint NOT NULL,  -- 1-based, no gaps
  action           text NOT NULL,
  from_state       text NOT NULL,
  to_state         text NOT NULL,
  segment          integer NOT NULL,
  at               bigint NOT NULL,
  principal_type   text NOT NULL,
  principal_id     text NOT NULL,
  principal_name   text NOT NULL,
  client_id        text NOT NULL,
  reason           text NOT NULL,
  context_id       text NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
CREATE TABLE media_files (
  conversation_id  text NOT NULL REFERENCES recordings(conversation_id) ON DELETE CASCADE,
  segment          integer NOT NULL,  -- one file per segment
  path             text NOT NULL,
  format           text NOT NULL,
  channels         integer NOT NULL,
  sample_rate      integer NOT NULL,
  bytes            bigint NOT NULL,
  duration_ms      bigint NOT NULL,
  status           text NOT NULL,
  channel_labels   jsonb NOT NULL,
  updated_at       bigint NOT NULL,
  PRIMARY KEY (conversation_id, segment)
);

-- A denial's long explanation is stored once per distinct text (BLAKE2b digest).
CREATE TABLE audit_explanations (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  digest  bytea NOT NULL UNIQUE,
  json    text NOT NULL
);

-- Append-only, one partition per UTC day (audit_events_YYYYMMDD, created
-- ahead by the writer; retention drops whole partitions). Every index ends in
-- (at, context_id) so that each filter is an index range scan in keyset order.
CREATE TABLE audit_events (
  context_id        text NOT NULL,
  at                bigint NOT NULL,
  principal_type    text NOT NULL,
  principal_id      text NOT NULL,
  principal_name    text NOT NULL,
  client_id         text NOT NULL,
  method            text NOT NULL,
  path              text NOT NULL,
  action            text NOT NULL,
  resource          text NOT NULL,
  conversation_id   text NOT NULL,
  decision          text NOT NULL,
  layer             text NOT NULL,
  code              text NOT NULL,
  status            integer NOT NULL,
  explanation_json  text NOT NULL,
  explanation_id    bigint,
  client_address    text NOT NULL DEFAULT '',
  PRIMARY KEY (at, context_id)
) PARTITION BY RANGE (at);
CREATE INDEX audit_by_context ON audit_events(context_id);
CREATE INDEX audit_by_conversation ON audit_events(conversation_id, at, context_id);
CREATE INDEX audit_by_principal ON audit_events(principal_id, at, context_id);
CREATE INDEX audit_by_decision_deny ON audit_events(at, context_id) WHERE decision = 'deny';
CREATE INDEX audit_by_explanation ON audit_events(explanation_id) WHERE explanation_id IS NOT NULL;

CREATE TABLE media_integrations (
  id                text PRIMARY KEY,
  name              text NOT NULL,
  api_key           text NOT NULL UNIQUE,
  secret_encrypted  bytea NOT NULL,
  created_at        bigint NOT NULL,
  seq               bigint GENERATED ALWAYS AS IDENTITY
);
CREATE TABLE integration_roles (
  integration_id  text NOT NULL REFERENCES media_integrations(id) ON DELETE CASCADE,
  position        integer NOT NULL,
  role_id         text NOT NULL,
  PRIMARY KEY (integration_id, position)
);
CREATE INDEX integration_roles_by_role ON integration_roles(role_id);

CREATE TABLE server_secrets (
  name   text PRIMARY KEY,
  value  bytea NOT NULL
);

-- SIPREC trunks: the allow-listed recording sources (docs/sip-trunks.md).
CREATE TABLE sip_trunks (
  id                  text PRIMARY KEY,
  name                text NOT NULL,
  description         text NOT NULL,
  networks            jsonb NOT NULL,  -- CIDRs
  transports          jsonb NOT NULL,  -- udp, tcp
  digest_username     text NOT NULL,
  digest_realm        text NOT NULL,
  digest_ha1_md5      text NOT NULL,
  digest_ha1_sha256   text NOT NULL,
  max_sessions        integer NOT NULL,
  max_channels        integer NOT NULL,
  max_bandwidth_kbps  integer NOT NULL,
  rtp_source          text NOT NULL CHECK (rtp_source IN ('offer', 'latch')),
  created_at          bigint NOT NULL,
  updated_at          bigint NOT NULL
);
CREATE UNIQUE INDEX sip_trunks_by_name ON sip_trunks (lower(name COLLATE "C"));
)sql",
    // 2: SRTP policy per SIP trunk (docs/sip-trunks.md "SRTP"; the SQLite store's step 8); transports may include "tls".
    R"sql(
ALTER TABLE sip_trunks ADD COLUMN srtp text NOT NULL DEFAULT 'optional' CHECK (srtp IN ('off', 'optional', 'required'));
)sql",
    // 3: users, the people who sign in (issue 13; the SQLite store's step 9).
    R"sql(
CREATE TABLE users (
  id                         text PRIMARY KEY,
  username                   text NOT NULL,
  display_name               text NOT NULL,
  email                      text NOT NULL,
  password_hash              text NOT NULL,  -- Argon2id, libsodium's encoded form
  enabled                    boolean NOT NULL,
  created_at                 bigint NOT NULL,
  updated_at                 bigint NOT NULL,
  tokens_valid_after         bigint,
  tokens_valid_after_reason  text NOT NULL
);
CREATE UNIQUE INDEX users_by_username ON users (lower(username COLLATE "C"));
CREATE TABLE user_roles (
  user_id   text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  position  integer NOT NULL,
  role_id   text NOT NULL,
  PRIMARY KEY (user_id, position)
);
CREATE INDEX user_roles_by_role ON user_roles(role_id);
)sql",
    // 4: the authorization code flow's client fields (issue 13; the SQLite store's step 10).
    R"sql(
ALTER TABLE oauth_clients ADD COLUMN redirect_uris jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE oauth_clients ADD COLUMN client_type text NOT NULL DEFAULT 'confidential'
  CHECK (client_type IN ('confidential', 'public'));
)sql",
    // 5: sign-in grants, authorization codes and refresh tokens kept by hash
    // (issue 13; the SQLite store's step 11). They go with their client and
    // their user (the cascades; the *_by_client and *_by_user indexes spare
    // those deletes a scan).
    R"sql(
CREATE TABLE auth_codes (
  code_hash       text PRIMARY KEY,  -- lowercase hex SHA-256 of the code
  client_id       text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  user_id         text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  redirect_uri    text NOT NULL,
  scopes          jsonb NOT NULL,
  code_challenge  text NOT NULL,
  family_id       text NOT NULL,
  auth_time       bigint NOT NULL,
  expires_at      bigint NOT NULL,
  used_at         bigint
);
CREATE INDEX auth_codes_by_family ON auth_codes(family_id);
CREATE INDEX auth_codes_by_expiry ON auth_codes(expires_at);
CREATE INDEX auth_codes_by_client ON auth_codes(client_id);
CREATE INDEX auth_codes_by_user ON auth_codes(user_id);

CREATE TABLE refresh_tokens (
  token_hash  text PRIMARY KEY,  -- lowercase hex SHA-256 of the token
  family_id   text NOT NULL,
  client_id   text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  scopes      jsonb NOT NULL,
  auth_time   bigint NOT NULL,
  issued_at   bigint NOT NULL,
  expires_at  bigint NOT NULL,
  used_at     bigint,
  revoked_at  bigint
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
CREATE INDEX refresh_tokens_by_client ON refresh_tokens(client_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens(user_id);
)sql",
    // 6: every commit that changes what other nodes hold in memory notifies
    // channel "verbatim_changes.<schema>" (issue 14; pg_watch.h: one channel
    // per schema, so installations sharing a database do not hear each
    // other). Triggers, so no writer can forget: the server, `verbatim users
    // …` and a DBA's UPDATE alike. (Settings are read from the store each
    // time, so they need none.)
    // Sent at COMMIT, never for a rollback; PostgreSQL folds equal payloads of
    // one transaction into one. CREATE OR REPLACE: a database rewound to an
    // older version by hand still upgrades.
    R"sql(
CREATE OR REPLACE FUNCTION verbatim_notify_topic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('verbatim_changes.' || current_schema(), TG_ARGV[0]);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION verbatim_notify_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
  PERFORM pg_notify('verbatim_changes.' || current_schema(), 'conversation:' || (r ->> TG_ARGV[0]));
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER oauth_clients_notify AFTER INSERT OR UPDATE OR DELETE ON oauth_clients
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('directory');
CREATE OR REPLACE TRIGGER client_roles_notify AFTER INSERT OR UPDATE OR DELETE ON client_roles
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('directory');
CREATE OR REPLACE TRIGGER roles_notify AFTER INSERT OR UPDATE OR DELETE ON roles
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('directory');
CREATE OR REPLACE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('directory');
CREATE OR REPLACE TRIGGER user_roles_notify AFTER INSERT OR UPDATE OR DELETE ON user_roles
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('directory');
CREATE OR REPLACE TRIGGER revoked_tokens_notify AFTER INSERT OR UPDATE ON revoked_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('revocations');
CREATE OR REPLACE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('keys');
CREATE OR REPLACE TRIGGER sip_trunks_notify AFTER INSERT OR UPDATE OR DELETE ON sip_trunks
  FOR EACH STATEMENT EXECUTE FUNCTION verbatim_notify_topic('trunks');
CREATE OR REPLACE TRIGGER conversations_notify AFTER INSERT OR UPDATE OR DELETE ON conversations
  FOR EACH ROW EXECUTE FUNCTION verbatim_notify_conversation('id');
CREATE OR REPLACE TRIGGER recordings_notify AFTER INSERT OR UPDATE OR DELETE ON recordings
  FOR EACH ROW EXECUTE FUNCTION verbatim_notify_conversation('conversation_id');
CREATE OR REPLACE TRIGGER recording_segments_notify AFTER INSERT OR UPDATE OR DELETE ON recording_segments
  FOR EACH ROW EXECUTE FUNCTION verbatim_notify_conversation('conversation_id');
CREATE OR REPLACE TRIGGER media_files_notify AFTER INSERT OR UPDATE OR DELETE ON media_files
  FOR EACH ROW EXECUTE FUNCTION verbatim_notify_conversation('conversation_id');
)sql",
    // 7: the change log (issue 15, docs/changes.md; the SQLite store's step
    // 12). Writers take kChangeLogLock just before their insert and hold it
    // to COMMIT, so ids become visible in increasing order: a reader resuming
    // after id N never finds a smaller id committed later.
    R"sql(
CREATE TABLE changes (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at               bigint NOT NULL,
  kind             text NOT NULL,
  subject_type     text NOT NULL,
  subject_id       text NOT NULL,
  subject_name     text NOT NULL,
  actor_type       text NOT NULL,
  actor_id         text NOT NULL,
  actor_name       text NOT NULL,
  actor_client_id  text NOT NULL,
  context_id       text NOT NULL,
  fields           jsonb NOT NULL
);
CREATE INDEX changes_by_subject ON changes(subject_type, subject_id, id);
CREATE INDEX changes_by_actor ON changes(actor_id, id);
CREATE INDEX changes_by_time ON changes(at);
)sql",
    // 8: webhooks and their outbox (docs/webhooks.md; the SQLite store's step 13).
    R"sql(
CREATE TABLE webhooks (
  id                 text PRIMARY KEY,
  url                text NOT NULL,
  description        text NOT NULL,
  kinds              jsonb NOT NULL,
  secret_encrypted   bytea NOT NULL,
  enabled            boolean NOT NULL,
  disabled_reason    text NOT NULL,
  disabled_at        bigint,
  last_delivered_at  bigint,
  cursor             bigint NOT NULL,
  created_by_type    text NOT NULL,
  created_by_id      text NOT NULL,
  created_by_name    text NOT NULL,
  created_by_client  text NOT NULL,
  created_at         bigint NOT NULL
);
CREATE TABLE webhook_deliveries (
  seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id               text NOT NULL UNIQUE,
  webhook_id       text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  change_id        bigint NOT NULL,
  kind             text NOT NULL,
  payload          text NOT NULL,
  status           text NOT NULL,
  attempts         integer NOT NULL,
  created_at       bigint NOT NULL,
  next_attempt_at  bigint NOT NULL,
  last_attempt_at  bigint,
  last_status      integer NOT NULL,
  last_error       text NOT NULL,
  finished_at      bigint,
  UNIQUE (webhook_id, change_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, seq);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(finished_at) WHERE finished_at IS NOT NULL;
)sql",
    // 9: nodes and the media sessions they hold (docs/deployment.md, "Media
    // sessions and node failure"; the SQLite store's step 14).
    R"sql(
CREATE TABLE nodes (
  id                text PRIMARY KEY,
  advertise_url     text NOT NULL,
  started_at        bigint NOT NULL,
  heartbeat_at      bigint NOT NULL,
  lease_expires_at  bigint NOT NULL
);
CREATE TABLE media_sessions (
  conversation_id  text PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  node_id          text NOT NULL,
  transport        text NOT NULL,
  opened_at        bigint NOT NULL
);
CREATE INDEX media_sessions_by_node ON media_sessions(node_id);
ALTER TABLE media_files ADD COLUMN node_id text NOT NULL DEFAULT '';
ALTER TABLE media_files ADD COLUMN interrupted_at bigint;
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kSteps));

Result<int> CurrentVersion(Conn& conn) {
  VERBATIM_RETURN_IF_ERROR(conn.Script("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"));
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT max(version) FROM schema_version"));
  return rows.empty() || rows[0].IsNull(0) ? 0 : static_cast<int>(rows[0].Int(0));
}

Status ApplySteps(Conn& conn) {
  STORE_ASSIGN_OR_RETURN(int current, CurrentVersion(conn));
  if (current == kLatest) return Status::Ok();
  if (current > kLatest) return SchemaTooNew(current, kLatest);
  VERBATIM_RETURN_IF_ERROR(conn.Begin(TxnKind::kWrite));
  for (int v = current; v < kLatest; ++v) {
    Status s = conn.Script(kSteps[v]);
    if (!s.ok()) {
      conn.Rollback();
      if (s.kind() == Status::Kind::kUnavailable) return s;
      return Status::Internal("schema step " + std::to_string(v + 1) + ": " + s.message());
    }
  }
  Status s = conn.Exec("DELETE FROM schema_version");
  if (s.ok()) s = conn.Exec("INSERT INTO schema_version (version) VALUES ($1)", kLatest);
  if (s.ok()) s = conn.Commit();
  if (!s.ok()) conn.Rollback();
  return s;
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

Status Migrate(Conn& conn) {
  // Session lock, not a transaction lock: CREATE TABLE IF NOT EXISTS
  // schema_version runs before the steps' transaction and must be covered too.
  VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_lock($1)", kMigrationLock));
  Status s = ApplySteps(conn);
  if (conn.broken()) return s;  // the server released the lock with the session
  Status unlock = conn.Exec("SELECT pg_advisory_unlock($1)", kMigrationLock);
  return s.ok() ? unlock : s;
}

}  // namespace verbatim::store::pg
