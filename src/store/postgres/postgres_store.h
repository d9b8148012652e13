// The PostgreSQL implementation of Store (see store.h for the contract),
// chosen with `--database-url postgresql://…` (docs/deployment.md). Several
// verbatim nodes may share one database.
//
// Connections come from a bounded pool (pg_pool.h); each store call is one
// transaction on one connection, and is durable when it returns (an
// acknowledged write is one whose COMMIT returned). Where the SQLite store
// relies on its single writer, this one takes a lock in the database, named
// at each method: writes that touch a conversation or its recording lock the
// conversation row (SELECT … FOR NO KEY UPDATE), so concurrent actions from
// any number of processes serialize per conversation and see the committed
// state; cross-row invariants (one active signing key, the key check, audit
// partitions, shared explanations) take a transaction-scoped advisory lock.
// Multi-statement reads run REPEATABLE READ READ ONLY: one snapshot.
//
// Concurrent commits are grouped by PostgreSQL's WAL writer itself, so there
// is no group-commit queue here: audit batches arrive already batched
// (api/audit_log.h) and each is one transaction.
//
// While the database is unreachable every call fails fast with Unavailable
// "store.unavailable" (the pool backs off between reconnection attempts); a
// transaction that failed on a connection broken before it began is run once
// more on a fresh connection, and a read on any broken connection too. A
// write whose connection broke after BEGIN is not repeated (its COMMIT may
// have happened): the caller gets store.unavailable.
//
// Implementation is split by topic: postgres_store.cc (open, org, clients,
// roles, keys, revocation, integrations, secrets), pg_sealed.cc,
// pg_recordings.cc, pg_audit.cc (audit and its partitions), pg_trunks.cc,
// pg_users.cc, pg_grants.cc (authorization codes and refresh tokens).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/postgres/pg_pool.h"
#include "store/store.h"

namespace verbatim::store {

struct PostgresOptions {
  std::string url;  // postgresql://USER@HOST:PORT/DATABASE?…
  int pool_size = 8;
  std::chrono::milliseconds statement_timeout{10'000};
  int connect_timeout_s = 3;
  std::chrono::milliseconds backoff_first{100};
  std::chrono::milliseconds backoff_max{2000};
  int audit_days_ahead = 2;  // audit partitions kept ready beyond today
};

class PostgresStore final : public Store {
 public:
  // `clock` must outlive the store; it is used only where the interface gives
  // no time (organization created_at, metadata and role-removal updated_at,
  // which audit partitions to create ahead).
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& opts, const Clock& clock);
  ~PostgresStore() override;

  Result<Organization> GetOrganization() override;
  Result<OrgSettings> GetSettings() override;
  Status PutSettings(const OrgSettings& s, const ChangeAuthor* by = nullptr) override;

  Status CreateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) override;
  Result<OAuthClient> GetClient(const std::string& id) override;
  Result<std::vector<OAuthClient>> ListClients() override;
  Status UpdateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) override;
  Status DeleteClient(const std::string& id, const ChangeAuthor* by = nullptr) override;

  // pg_users.cc. Usernames are unique case-insensitively (ASCII), as role names.
  Status CreateUser(const User& u, const ChangeAuthor* by = nullptr) override;
  Result<User> GetUser(const std::string& id) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdateUser(const User& u, const ChangeAuthor* by = nullptr) override;
  Status DeleteUser(const std::string& id, const ChangeAuthor* by = nullptr) override;

  Status CreateRole(const Role& r, const ChangeAuthor* by = nullptr) override;
  Result<Role> GetRole(const std::string& id) override;
  Result<std::vector<Role>> ListRoles() override;
  Status UpdateRole(const Role& r, const ChangeAuthor* by = nullptr) override;
  // Also removes the role id from every client, user and media integration.
  Status DeleteRole(const std::string& id, const ChangeAuthor* by = nullptr) override;

  Status InsertKey(const SigningKey& k) override;
  Result<std::vector<SigningKey>> ListKeys() override;
  Status RotateKeys(const SigningKey& next, TimePoint now, TimePoint publish_until) override;

  Status RevokeToken(const RevokedToken& t) override;
  Result<std::vector<RevokedToken>> ListRevoked(TimePoint now) override;
  Status PurgeRevoked(TimePoint now) override;

  // pg_grants.cc. Rotations and revocations of one family take its advisory lock.
  Status InsertAuthorizationCode(const AuthorizationCode& c) override;
  Result<AuthorizationCode> RedeemAuthorizationCode(const std::string& code_hash, TimePoint now) override;
  Status InsertRefreshToken(const RefreshToken& t) override;
  Result<RefreshToken> GetRefreshToken(const std::string& token_hash) override;
  Result<RefreshToken> RotateRefreshToken(const std::string& old_hash, const RefreshToken& next,
                                          TimePoint now) override;
  Status RevokeRefreshFamily(const std::string& family_id, TimePoint now) override;
  Status PurgeExpiredGrants(TimePoint now) override;

  Status CreateConversation(const Conversation& c) override;
  Result<Conversation> GetConversation(const std::string& id) override;
  Result<std::optional<Conversation>> FindConversationByExternalId(const std::string& external_id) override;
  Result<std::vector<Conversation>> ListConversations(const Page& page) override;  // limit clamped to 1..200
  Result<Conversation> DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                              const std::string& context_id, ChangeRefused* refused = nullptr) override;
  Status AddParticipant(const std::string& conversation_id, const Participant& p) override;

  Result<Recording> GetRecording(const std::string& conversation_id) override;
  Result<ActionOutcome> ApplyRecordingAction(const std::string& conversation_id, RecordingAction action, TimePoint at,
                                             const Actor& actor, const std::string& reason,
                                             const std::string& context_id, const AuditEvent* audit = nullptr,
                                             ChangeRefused* refused = nullptr) override;
  Result<Recording> UpdateRecordingMetadata(const std::string& conversation_id, const RecordingMetadata& m) override;
  Status UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) override;

  // A context id repeated at the same instant is ignored (a retried batch is
  // harmless): the audit key is (at, context_id), see pg_migrations.cc.
  Status AppendAudit(const std::vector<AuditEvent>& events) override;
  Result<AuditEvent> GetAudit(const std::string& context_id) override;
  // Drops every daily partition that ends at or before `cutoff` (counting its
  // events first), then deletes up to `limit` older events from the one day
  // that straddles it; returns both together.
  Result<int64_t> PurgeAuditBefore(TimePoint cutoff, int limit) override;
  Result<AuditPage> ListAudit(const AuditFilter& f) override;
  Result<std::vector<ChangeEntry>> ListChanges(const ChangeFilter& f) override;
  Result<int64_t> LastChangeId() override;
  Result<int64_t> PurgeChangesBefore(TimePoint cutoff, int limit) override;

  Status CreateIntegration(const MediaIntegration& m, const ChangeAuthor* by = nullptr) override;
  Result<std::vector<MediaIntegration>> ListIntegrations() override;
  Result<MediaIntegration> GetIntegrationByApiKey(const std::string& api_key) override;
  Status DeleteIntegration(const std::string& id, const ChangeAuthor* by = nullptr) override;
  // pg_nodes.cc. A claim locks its conversation's row first, as a recording
  // action does, so the two serialize per conversation.
  Result<std::optional<TimePoint>> HeartbeatNode(const NodeRecord& node) override;
  Result<std::vector<NodeRecord>> ListNodes() override;
  Result<std::optional<MediaSessionClaim>> ClaimMediaSession(const MediaSessionClaim& claim, TimePoint now) override;
  Status ReleaseMediaSession(const std::string& conversation_id, const std::string& node_id) override;
  Result<std::vector<MediaSessionClaim>> InterruptMediaSessions(TimePoint now,
                                                                const std::string& restarted_node) override;

  Status CreateWebhook(const Webhook& w, const ChangeAuthor* by = nullptr) override;
  Result<std::vector<Webhook>> ListWebhooks() override;
  Result<Webhook> GetWebhook(const std::string& id) override;
  Status DeleteWebhook(const std::string& id, const ChangeAuthor* by = nullptr) override;
  Status SetWebhookEnabled(const std::string& id, bool enabled, const std::string& reason, TimePoint at,
                           const ChangeAuthor* by = nullptr) override;
  Status EnqueueDeliveries(const std::string& webhook_id, int64_t from, int64_t to,
                           const std::vector<WebhookDelivery>& deliveries) override;
  Result<std::vector<WebhookDelivery>> ClaimDueDeliveries(TimePoint now, TimePoint lease_until, int limit) override;
  Status RecordDeliveryAttempt(const DeliveryAttempt& a) override;
  Result<std::vector<WebhookDelivery>> ListDeliveries(const DeliveryFilter& f) override;
  Result<int64_t> PurgeDeliveriesBefore(TimePoint cutoff, int limit) override;

  // pg_trunks.cc. Names are unique case-insensitively (ASCII), as roles'.
  Status CreateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) override;
  Result<std::vector<SipTrunk>> ListTrunks() override;
  Result<SipTrunk> GetTrunk(const std::string& id) override;
  Status UpdateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) override;
  Status DeleteTrunk(const std::string& id, const ChangeAuthor* by = nullptr) override;

  Result<std::optional<std::string>> GetSecret(const std::string& name) override;
  Status PutSecretIfAbsent(const std::string& name, const std::string& value) override;
  Result<int> ResealSecrets(const ResealPlan& plan) override;
  // LISTEN on its own connection (pg_watch.h).
  Result<std::unique_ptr<ChangeWatch>> WatchChanges(ChangeHandler handler) override;

  // Diagnostics (and tests).
  pg::Pool::Stats pool_stats() const { return pool_->stats(); }
  // The audit partitions that exist now, as UTC day numbers (days since 1970-01-01).
  Result<std::vector<int64_t>> AuditPartitionDays();

 private:
  PostgresStore(const Clock& clock, PostgresOptions opts, std::string org_id, std::unique_ptr<pg::Pool> pool);

  using Body = std::function<Status(pg::Conn&)>;
  // One transaction on a pooled connection, run again as the header says.
  Status Run(pg::TxnKind kind, const Body& body);
  Status Write(const Body& body) { return Run(pg::TxnKind::kWrite, body); }
  Status Read(const Body& body) { return Run(pg::TxnKind::kRead, body); }
  // A read of one statement: no BEGIN/COMMIT round trips.
  Status ReadOne(const Body& body) { return Run(pg::TxnKind::kSingle, body); }

  // Makes sure the daily partitions for `days` (and today .. today +
  // audit_days_ahead) exist; cheap once they are known to.
  Status EnsureAuditPartitions(std::vector<int64_t> days);
  void ForgetAuditPartitions();
  // Write(body) for a body that inserts audit events on `days`: if another
  // node dropped a partition meanwhile, it is created again and the body run
  // once more.
  Status WriteWithAudit(std::vector<int64_t> days, const Body& body);

  // Constant after construction.
  const Clock& clock_;
  const PostgresOptions opts_;
  const std::string org_id_;
  const std::unique_ptr<pg::Pool> pool_;

  Mutex partitions_mu_;
  std::set<int64_t> known_partitions_ GUARDED_BY(partitions_mu_);  // days whose audit partition this process has seen exist
};

// Opens (creating the schema if needed, under an advisory lock) the store.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& opts, const Clock& clock);

}  // namespace verbatim::store
