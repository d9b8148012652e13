// Store: everything verbatim persists. Two implementations: SQLite (WAL, the
// default, store/sqlite/) and PostgreSQL (several nodes on one database,
// store/postgres/); tests/unit/store/conformance/ holds both to this contract.
// Thread-safe: every method may be called from any thread. Every method that
// returns OK has committed its write before returning.
//
// The change log (docs/changes.md): every write that takes a ChangeAuthor
// appends what it changed (store/change_diff.h) in its own transaction, so an
// acknowledged change is always logged and a logged change always happened.
// Without an author (seeding, tests) nothing is logged. Recording transitions
// and media files becoming complete are logged as well.
//
// Error codes are the API's: "conversation.not.found", "conversation.ended",
// "recording.invalid.transition", "client.not.found", "role.not.found",
// "role.name.taken", "user.not.found", "user.name.taken",
// "integration.not.found", "webhook.not.found", "trunk.not.found", "trunk.name.taken", "code.not.found",
// "refresh.not.found" (store/store_errors.h); a database that cannot be reached
// or does not answer in time is Unavailable "store.unavailable"; other storage
// failures are Internal.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/model.h"

namespace verbatim::store {

// Name of the server secret holding the key check: a known text sealed under
// the key-encryption key, so that a wrong key is recognized at start-up.
inline constexpr char kKeyCheckSecretName[] = "kek-check";

// One pass over every sealed value (see ResealSecrets).
struct ResealPlan {
  std::optional<std::string> expected_check;  // the stored key check; nullopt = none yet
  std::string new_check;                      // stored when the pass succeeds
  std::vector<std::string> drop_secrets;      // server secrets to delete (e.g. a legacy key)
  // The new stored value of one sealed value (returning it unchanged skips the
  // write); a failure aborts the pass.
  std::function<Result<std::string>(const SealedValue&)> reseal;
};

struct ActionOutcome {
  Recording recording;    // after the action; timeline: only the latest transition, media: not loaded
  Transition transition;  // the one appended, or the would-be one when !changed
  bool changed = false;   // false on an idempotent repeat (nothing written except audit)
};

// Changes committed by any process sharing a store (several nodes on one
// PostgreSQL, docs/deployment.md "Several nodes"): what to reload.
enum class ChangeTopic {
  kDirectory,     // clients, users, roles and their role lists
  kRevocations,   // revoked tokens and sign-ins
  kKeys,          // signing keys (a rotation)
  kTrunks,        // SIPREC trunks
  kConversation,  // one conversation or its recording (Change::id)
  kResync,        // the watch (re)connected and may have missed changes: reload everything
};

struct Change {
  ChangeTopic topic;
  std::string id;  // the conversation of kConversation
};

// Calls its handler until destroyed (the destructor waits for a call in progress).
class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
};
// Called from the watch's own thread with the changes of one or more commits.
using ChangeHandler = std::function<void(const std::vector<Change>&)>;

class Store {
 public:
  virtual ~Store() = default;

  // --- organization (single org; created by the first Open) ---
  virtual Result<Organization> GetOrganization() = 0;
  virtual Result<OrgSettings> GetSettings() = 0;
  virtual Status PutSettings(const OrgSettings& s, const ChangeAuthor* by = nullptr) = 0;

  // --- OAuth clients ---
  virtual Status CreateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) = 0;
  virtual Result<OAuthClient> GetClient(const std::string& id) = 0;  // NotFound "client.not.found"
  virtual Result<std::vector<OAuthClient>> ListClients() = 0;
  // Replaces every mutable field incl. secret_hash.
  virtual Status UpdateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) = 0;
  virtual Status DeleteClient(const std::string& id, const ChangeAuthor* by = nullptr) = 0;

  // --- users (people who sign in; docs/users.md) ---
  // AlreadyExists "user.name.taken" (username, case-insensitive).
  virtual Status CreateUser(const User& u, const ChangeAuthor* by = nullptr) = 0;
  virtual Result<User> GetUser(const std::string& id) = 0;  // NotFound "user.not.found"
  virtual Result<std::vector<User>> ListUsers() = 0;        // by username
  // Replaces every field but id and created_at; AlreadyExists "user.name.taken"
  // when the new username belongs to another user.
  virtual Status UpdateUser(const User& u, const ChangeAuthor* by = nullptr) = 0;
  virtual Status DeleteUser(const std::string& id, const ChangeAuthor* by = nullptr) = 0;  // NotFound "user.not.found"

  // --- custom roles ---
  virtual Status CreateRole(const Role& r, const ChangeAuthor* by = nullptr) = 0;  // AlreadyExists "role.name.taken"
  virtual Result<Role> GetRole(const std::string& id) = 0;
  virtual Result<std::vector<Role>> ListRoles() = 0;
  virtual Status UpdateRole(const Role& r, const ChangeAuthor* by = nullptr) = 0;
  // Also removes the role id from every client and every user that had it.
  virtual Status DeleteRole(const std::string& id, const ChangeAuthor* by = nullptr) = 0;

  // --- signing keys ---
  virtual Status InsertKey(const SigningKey& k) = 0;
  virtual Result<std::vector<SigningKey>> ListKeys() = 0;  // oldest first
  // In one transaction: retire every active key (retired_at=now, publish_until
  // as given) and insert `next` as the active one.
  virtual Status RotateKeys(const SigningKey& next, TimePoint now, TimePoint publish_until) = 0;

  // --- revocation ---
  virtual Status RevokeToken(const RevokedToken& t) = 0;  // idempotent
  virtual Result<std::vector<RevokedToken>> ListRevoked(TimePoint now) = 0;  // unexpired only
  virtual Status PurgeRevoked(TimePoint now) = 0;

  // --- sign-in grants (authorization codes and refresh tokens; docs/users.md) ---
  // Codes and refresh tokens go with their client and their user: deleting
  // either deletes them, and inserting one for a client or user that is gone
  // is NotFound "client.not.found" / "user.not.found" (InsertRefreshToken too).
  virtual Status InsertAuthorizationCode(const AuthorizationCode& c) = 0;
  // Atomically marks the code used and returns it as it was before: used_at
  // empty on the first redemption, set on a replay (nothing is changed then).
  // NotFound "code.not.found" when no such code is stored (or it was purged).
  virtual Result<AuthorizationCode> RedeemAuthorizationCode(const std::string& code_hash, TimePoint now) = 0;
  virtual Status InsertRefreshToken(const RefreshToken& t) = 0;
  virtual Result<RefreshToken> GetRefreshToken(const std::string& token_hash) = 0;  // NotFound "refresh.not.found"
  // Atomically: if `old_hash` is stored, unused and its family unrevoked, marks
  // it used at `now`, inserts `next` and returns the old record with used_at
  // still empty. Otherwise changes nothing and returns the old record as
  // stored (used_at or revoked_at set), so the caller can revoke the family.
  // NotFound "refresh.not.found" when no such token is stored.
  virtual Result<RefreshToken> RotateRefreshToken(const std::string& old_hash, const RefreshToken& next,
                                                  TimePoint now) = 0;
  // Sets revoked_at on every refresh token of the family (idempotent; keeps the
  // first revoked_at). Unknown families are not an error.
  virtual Status RevokeRefreshFamily(const std::string& family_id, TimePoint now) = 0;
  // Deletes codes and refresh tokens whose expires_at is before `now`.
  virtual Status PurgeExpiredGrants(TimePoint now) = 0;

  // --- conversations ---
  virtual Status CreateConversation(const Conversation& c) = 0;
  virtual Result<Conversation> GetConversation(const std::string& id) = 0;
  virtual Result<std::optional<Conversation>> FindConversationByExternalId(const std::string& external_id) = 0;
  virtual Result<std::vector<Conversation>> ListConversations(const Page& page) = 0;  // newest first
  // Marks it disconnected (ended_at = at). An active or paused recording is
  // stopped in the same transaction (transition action "disconnect").
  // FailedPrecondition "conversation.ended" if already disconnected.
  // `refused` (optional) says why, as facts, when it refuses.
  virtual Result<Conversation> DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                                      const std::string& context_id,
                                                      ChangeRefused* refused = nullptr) = 0;
  virtual Status AddParticipant(const std::string& conversation_id, const Participant& p) = 0;

  // --- recordings ---
  // A conversation without any action has a Recording in state none.
  virtual Result<Recording> GetRecording(const std::string& conversation_id) = 0;
  // Runs NextState() on the committed state inside one write transaction, so
  // concurrent actions on one conversation serialize. Errors: NotFound
  // "conversation.not.found", FailedPrecondition "conversation.ended" or
  // "recording.invalid.transition". `audit` (optional) commits in the same
  // transaction; `refused` (optional) says why, as facts, when it refuses.
  virtual Result<ActionOutcome> ApplyRecordingAction(const std::string& conversation_id, RecordingAction action,
                                                     TimePoint at, const Actor& actor, const std::string& reason,
                                                     const std::string& context_id, const AuditEvent* audit = nullptr,
                                                     ChangeRefused* refused = nullptr) = 0;
  virtual Result<Recording> UpdateRecordingMetadata(const std::string& conversation_id,
                                                    const RecordingMetadata& m) = 0;
  // Logs "media.ready" when the file's status becomes "complete".
  virtual Status UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) = 0;

  // --- the change log ---
  // In id order (newest first if f.newest_first), at most f.limit entries.
  virtual Result<std::vector<ChangeEntry>> ListChanges(const ChangeFilter& f) = 0;
  // The largest id logged so far (0 when none): where a new stream starts.
  virtual Result<int64_t> LastChangeId() = 0;
  // Retention, as PurgeAuditBefore: up to `limit` of the oldest entries older than `cutoff`.
  virtual Result<int64_t> PurgeChangesBefore(TimePoint cutoff, int limit) = 0;

  // --- audit ---
  virtual Status AppendAudit(const std::vector<AuditEvent>& events) = 0;
  virtual Result<AuditEvent> GetAudit(const std::string& context_id) = 0;  // NotFound "audit.not.found"
  virtual Result<AuditPage> ListAudit(const AuditFilter& f) = 0;          // newest first
  // Retention: deletes up to `limit` of the oldest events older than `cutoff`
  // (and, once fewer than `limit` were left, the shared explanations no event
  // points to any more). Returns how many events it deleted.
  virtual Result<int64_t> PurgeAuditBefore(TimePoint cutoff, int limit) = 0;

  // --- AudioHook integrations ---
  virtual Status CreateIntegration(const MediaIntegration& m, const ChangeAuthor* by = nullptr) = 0;
  virtual Result<std::vector<MediaIntegration>> ListIntegrations() = 0;
  virtual Result<MediaIntegration> GetIntegrationByApiKey(const std::string& api_key) = 0;
  virtual Status DeleteIntegration(const std::string& id, const ChangeAuthor* by = nullptr) = 0;

  // --- nodes and their media sessions (docs/deployment.md, "Media sessions and node failure";
  //     sqlite/sqlite_nodes.cc) ---
  // Inserts or refreshes the node's row. Returns the lease the row had before
  // (nullopt for a new row): a node whose lease ran out meanwhile may have
  // had its sessions interrupted by another node.
  virtual Result<std::optional<TimePoint>> HeartbeatNode(const NodeRecord& node) = 0;
  virtual Result<std::vector<NodeRecord>> ListNodes() = 0;  // by id
  // Claims the conversation's live media for claim.node_id. FailedPrecondition
  // "media.busy" while a node whose lease has not run out at `now` holds it
  // (the claiming node included). The claim of a node whose lease ran out is
  // interrupted first, as InterruptMediaSessions does, in the same
  // transaction, and returned.
  virtual Result<std::optional<MediaSessionClaim>> ClaimMediaSession(const MediaSessionClaim& claim, TimePoint now) = 0;
  // Ends the node's claim on the conversation (nothing when it holds none).
  virtual Status ReleaseMediaSession(const std::string& conversation_id, const std::string& node_id) = 0;
  // Interrupts the claims of every node whose lease ran out before `now`, and
  // every claim of `restarted_node` when it is not empty (a node starting
  // again ends what its previous run held). For each claim: it is deleted,
  // the conversation's files still "recording" become "interrupted" with
  // interrupted_at = now, and "media.interrupted" is logged by the system,
  // in one transaction. Returns the claims it ended.
  virtual Result<std::vector<MediaSessionClaim>> InterruptMediaSessions(TimePoint now,
                                                                        const std::string& restarted_node) = 0;

  // --- webhooks and their outbox (docs/webhooks.md; sqlite/sqlite_webhooks.cc) ---
  virtual Status CreateWebhook(const Webhook& w, const ChangeAuthor* by = nullptr) = 0;
  virtual Result<std::vector<Webhook>> ListWebhooks() = 0;        // oldest first
  virtual Result<Webhook> GetWebhook(const std::string& id) = 0;  // NotFound "webhook.not.found"
  virtual Status DeleteWebhook(const std::string& id, const ChangeAuthor* by = nullptr) = 0;  // and its deliveries
  // Enabling clears the reason. Disabling records `reason` and fails the
  // webhook's pending deliveries with it; while disabled, nothing is queued.
  virtual Status SetWebhookEnabled(const std::string& id, bool enabled, const std::string& reason, TimePoint at,
                                   const ChangeAuthor* by = nullptr) = 0;
  // Atomically: if the webhook's cursor is still `from`, inserts `deliveries`
  // and moves the cursor to `to`. FailedPrecondition "webhook.cursor.moved"
  // when another dispatcher got there first (nothing is written).
  virtual Status EnqueueDeliveries(const std::string& webhook_id, int64_t from, int64_t to,
                                   const std::vector<WebhookDelivery>& deliveries) = 0;
  // Claims up to `limit` pending deliveries of enabled webhooks due at `now`,
  // oldest due first (then in log order): their next_attempt_at becomes `lease_until`, so another
  // dispatcher leaves them alone until the claim lapses (its node died).
  virtual Result<std::vector<WebhookDelivery>> ClaimDueDeliveries(TimePoint now, TimePoint lease_until,
                                                                  int limit) = 0;
  // Counts the attempt and records its outcome (a delivery that is no longer
  // pending is left as it is). A success also sets the webhook's last_delivered_at.
  virtual Status RecordDeliveryAttempt(const DeliveryAttempt& a) = 0;
  virtual Result<std::vector<WebhookDelivery>> ListDeliveries(const DeliveryFilter& f) = 0;  // newest first
  // Retention: up to `limit` finished deliveries that finished before `cutoff`.
  virtual Result<int64_t> PurgeDeliveriesBefore(TimePoint cutoff, int limit) = 0;

  // --- SIPREC trunks (implemented in sqlite/sqlite_trunks.cc) ---
  // AlreadyExists "trunk.name.taken" (case-insensitive).
  virtual Status CreateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) = 0;
  virtual Result<std::vector<SipTrunk>> ListTrunks() = 0;  // by name
  virtual Result<SipTrunk> GetTrunk(const std::string& id) = 0;  // NotFound "trunk.not.found"
  // Every field but id and created_at.
  virtual Status UpdateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) = 0;
  virtual Status DeleteTrunk(const std::string& id, const ChangeAuthor* by = nullptr) = 0;

  // --- server secrets (e.g. the key check, kKeyCheckSecretName) ---
  virtual Result<std::optional<std::string>> GetSecret(const std::string& name) = 0;
  virtual Status PutSecretIfAbsent(const std::string& name, const std::string& value) = 0;

  // --- values sealed under the key-encryption key (docs/secrets-at-rest.md) ---
  // In one write transaction: FailedPrecondition "kek.check.changed" unless
  // the stored key check equals plan.expected_check (another process bound or
  // rotated the key meanwhile); else every sealed value goes through
  // plan.reseal, drop_secrets are deleted and new_check is stored. Nothing is
  // written if any step fails. Returns how many values were rewritten.
  virtual Result<int> ResealSecrets(const ResealPlan& plan) = 0;

  // --- other processes' changes ---
  // Starts calling `handler` with the changes every process commits to this
  // store (this one's too), beginning with a kResync once listening. A null
  // watch: no other process can write here (SQLite: one server per file).
  virtual Result<std::unique_ptr<ChangeWatch>> WatchChanges(ChangeHandler handler) {
    (void)handler;
    return std::unique_ptr<ChangeWatch>();
  }
};

enum class SyncMode { kNormal, kFull };  // kFull also survives power loss

struct SqliteOptions {
  std::string path;  // the database file; its directory must exist
  SyncMode sync = SyncMode::kNormal;
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) and migrates the database.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& opts, const Clock& clock);

}  // namespace verbatim::store
