// The SQLite implementation of Store (see store.h for the contract).
//
// One writer connection behind write_mu_: every write is one BEGIN IMMEDIATE …
// COMMIT, so writes are serialized and each is durable when the method returns
// (WAL; synchronous=NORMAL survives a process crash, FULL also power loss).
// Reads use a small pool of read-only connections; WAL lets them run while a
// write is in progress, so GETs never queue behind writes. Multi-statement
// reads run in one read transaction, i.e. on one consistent snapshot. WAL
// checkpoints run on a background thread (see checkpointer.h), not in requests.
//
// Implementation is split by topic: sqlite_store.cc (open, org, clients,
// roles, keys, revocation, integrations, secrets), sqlite_sealed.cc (values
// sealed under the key-encryption key), sqlite_recordings.cc
// (conversations, recordings), sqlite_audit.cc (audit), sqlite_trunks.cc
// (SIPREC trunks), sqlite_users.cc (users), sqlite_grants.cc (authorization
// codes and refresh tokens).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace verbatim::store {

class SqliteStore final : public Store {
 public:
  static constexpr int kReaderConnections = 4;

  // `clock` must outlive the store; it is used only where the interface gives
  // no time (organization created_at, metadata and role-removal updated_at).
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& opts, const Clock& clock);
  ~SqliteStore() override;

  Result<Organization> GetOrganization() override;
  Result<OrgSettings> GetSettings() override;
  Status PutSettings(const OrgSettings& s, const ChangeAuthor* by = nullptr) override;

  Status CreateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) override;
  Result<OAuthClient> GetClient(const std::string& id) override;
  Result<std::vector<OAuthClient>> ListClients() override;
  Status UpdateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) override;
  Status DeleteClient(const std::string& id, const ChangeAuthor* by = nullptr) override;

  // sqlite_users.cc. Usernames are unique case-insensitively (ASCII), as role names.
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

  // sqlite_grants.cc.
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
  // The newest conversation with that external id (ids may repeat over time).
  Result<std::optional<Conversation>> FindConversationByExternalId(const std::string& external_id) override;
  Result<std::vector<Conversation>> ListConversations(const Page& page) override;  // limit clamped to 1..200
  Result<Conversation> DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                              const std::string& context_id, ChangeRefused* refused = nullptr) override;
  // Replaces the participant with the same id, else appends.
  Status AddParticipant(const std::string& conversation_id, const Participant& p) override;

  Result<Recording> GetRecording(const std::string& conversation_id) override;
  // On an idempotent repeat the returned transition has seq 0 (nothing appended).
  Result<ActionOutcome> ApplyRecordingAction(const std::string& conversation_id, RecordingAction action, TimePoint at,
                                             const Actor& actor, const std::string& reason,
                                             const std::string& context_id, const AuditEvent* audit = nullptr,
                                             ChangeRefused* refused = nullptr) override;
  Result<Recording> UpdateRecordingMetadata(const std::string& conversation_id, const RecordingMetadata& m) override;
  // One file per segment: upserts by (conversation, segment).
  Status UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) override;

  // Duplicate context ids are ignored (a retried batch is harmless).
  Status AppendAudit(const std::vector<AuditEvent>& events) override;
  Result<AuditEvent> GetAudit(const std::string& context_id) override;
  Result<int64_t> PurgeAuditBefore(TimePoint cutoff, int limit) override;
  // since and until are inclusive; limit clamped to 1..200.
  Result<AuditPage> ListAudit(const AuditFilter& f) override;
  Result<std::vector<ChangeEntry>> ListChanges(const ChangeFilter& f) override;
  Result<int64_t> LastChangeId() override;
  Result<int64_t> PurgeChangesBefore(TimePoint cutoff, int limit) override;

  Status CreateIntegration(const MediaIntegration& m, const ChangeAuthor* by = nullptr) override;
  Result<std::vector<MediaIntegration>> ListIntegrations() override;
  Result<MediaIntegration> GetIntegrationByApiKey(const std::string& api_key) override;
  Status DeleteIntegration(const std::string& id, const ChangeAuthor* by = nullptr) override;
  // sqlite_nodes.cc
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

  Status CreateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) override;
  Result<std::vector<SipTrunk>> ListTrunks() override;
  Result<SipTrunk> GetTrunk(const std::string& id) override;
  Status UpdateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) override;
  Status DeleteTrunk(const std::string& id, const ChangeAuthor* by = nullptr) override;

  Result<std::optional<std::string>> GetSecret(const std::string& name) override;
  Status PutSecretIfAbsent(const std::string& name, const std::string& value) override;
  Result<int> ResealSecrets(const ResealPlan& plan) override;

  // Diagnostics (and tests): a PRAGMA as the writer connection sees it. Only
  // journal_mode, synchronous, foreign_keys, busy_timeout and user_version.
  Result<std::string> WriterPragma(std::string_view name);

 private:
  SqliteStore(const Clock& clock, std::string org_id, std::unique_ptr<sqlite::Db> writer,
              std::unique_ptr<sqlite::Checkpointer> checkpointer, std::vector<std::unique_ptr<sqlite::Db>> readers);

  using Body = std::function<Status(sqlite::Db&)>;
  Status Write(const Body& body);  // one write transaction on the writer
  Status Read(const Body& body);   // one read transaction on a pooled reader

  // Constant after construction.
  const Clock& clock_;
  const std::string org_id_;

  // Group commit (as LevelDB's write queue): writers line up; the one at the
  // front runs everyone queued behind it in one transaction and wakes them.
  struct QueuedWrite;
  Mutex queue_mu_;
  std::deque<QueuedWrite*> write_queue_ GUARDED_BY(queue_mu_);

  // Serializes all use of writer_ (the only connection that writes).
  Mutex write_mu_ ACQUIRED_AFTER(queue_mu_);
  std::unique_ptr<sqlite::Db> writer_ PT_GUARDED_BY(write_mu_);
  // Hooked into writer_'s commits; declared after it so that it goes first.
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;

  // Guards idle_readers_ only; a leased reader belongs to the leasing thread.
  Mutex reader_mu_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<sqlite::Db>> idle_readers_ GUARDED_BY(reader_mu_);
};

}  // namespace verbatim::store
