// CachingStore: a Store that keeps recent conversations and recordings in
// memory in front of another Store. Every authorized GET of a recording reads
// one, so a hit saves a SQLite read transaction on the hottest path.
//
// Coherent for one process: every write that can change a conversation or
// its recording goes through here and invalidates it. Several nodes sharing
// one database: once someone watches the store's changes (WatchChanges), the
// other nodes' commits invalidate too, and a resync empties the cache.
// A read that raced with a write never installs its stale result: each shard
// has an epoch bumped by every invalidation, and a loaded value is cached only
// if the epoch did not move while it was read.
// Thread-safe.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/mutex.h"
#include "store/store.h"

namespace verbatim::store {

class CachingStore final : public Store {
 public:
  CachingStore(std::unique_ptr<Store> inner, size_t capacity = 8192);

  Result<Conversation> GetConversation(const std::string& id) override;
  Result<Recording> GetRecording(const std::string& conversation_id) override;

  // Writes that touch a conversation or its recording invalidate it.
  Result<Conversation> DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                              const std::string& context_id, ChangeRefused* refused = nullptr) override;
  Status AddParticipant(const std::string& conversation_id, const Participant& p) override;
  Result<ActionOutcome> ApplyRecordingAction(const std::string& conversation_id, RecordingAction action, TimePoint at,
                                             const Actor& actor, const std::string& reason,
                                             const std::string& context_id, const AuditEvent* audit = nullptr,
                                             ChangeRefused* refused = nullptr) override;
  Result<Recording> UpdateRecordingMetadata(const std::string& conversation_id, const RecordingMetadata& m) override;
  Status UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) override;
  Status CreateConversation(const Conversation& c) override;

  // Invalidates what other processes changed, then tells `handler`.
  Result<std::unique_ptr<ChangeWatch>> WatchChanges(ChangeHandler handler) override;

  // Everything else passes through.
  Result<Organization> GetOrganization() override { return inner_->GetOrganization(); }
  Result<OrgSettings> GetSettings() override { return inner_->GetSettings(); }
  Status PutSettings(const OrgSettings& s, const ChangeAuthor* by = nullptr) override { return inner_->PutSettings(s, by); }
  Status CreateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) override { return inner_->CreateClient(c, by); }
  Result<OAuthClient> GetClient(const std::string& id) override { return inner_->GetClient(id); }
  Result<std::vector<OAuthClient>> ListClients() override { return inner_->ListClients(); }
  Status UpdateClient(const OAuthClient& c, const ChangeAuthor* by = nullptr) override { return inner_->UpdateClient(c, by); }
  Status DeleteClient(const std::string& id, const ChangeAuthor* by = nullptr) override { return inner_->DeleteClient(id, by); }
  Status CreateUser(const User& u, const ChangeAuthor* by = nullptr) override { return inner_->CreateUser(u, by); }
  Result<User> GetUser(const std::string& id) override { return inner_->GetUser(id); }
  Result<std::vector<User>> ListUsers() override { return inner_->ListUsers(); }
  Status UpdateUser(const User& u, const ChangeAuthor* by = nullptr) override { return inner_->UpdateUser(u, by); }
  Status DeleteUser(const std::string& id, const ChangeAuthor* by = nullptr) override { return inner_->DeleteUser(id, by); }
  Status CreateRole(const Role& r, const ChangeAuthor* by = nullptr) override { return inner_->CreateRole(r, by); }
  Result<Role> GetRole(const std::string& id) override { return inner_->GetRole(id); }
  Result<std::vector<Role>> ListRoles() override { return inner_->ListRoles(); }
  Status UpdateRole(const Role& r, const ChangeAuthor* by = nullptr) override { return inner_->UpdateRole(r, by); }
  Status DeleteRole(const std::string& id, const ChangeAuthor* by = nullptr) override { return inner_->DeleteRole(id, by); }
  Status InsertKey(const SigningKey& k) override { return inner_->InsertKey(k); }
  Result<std::vector<SigningKey>> ListKeys() override { return inner_->ListKeys(); }
  Status RotateKeys(const SigningKey& next, TimePoint now, TimePoint publish_until) override {
    return inner_->RotateKeys(next, now, publish_until);
  }
  Status RevokeToken(const RevokedToken& t) override { return inner_->RevokeToken(t); }
  Result<std::vector<RevokedToken>> ListRevoked(TimePoint now) override { return inner_->ListRevoked(now); }
  Status PurgeRevoked(TimePoint now) override { return inner_->PurgeRevoked(now); }
  Status InsertAuthorizationCode(const AuthorizationCode& c) override { return inner_->InsertAuthorizationCode(c); }
  Result<AuthorizationCode> RedeemAuthorizationCode(const std::string& code_hash, TimePoint now) override {
    return inner_->RedeemAuthorizationCode(code_hash, now);
  }
  Status InsertRefreshToken(const RefreshToken& t) override { return inner_->InsertRefreshToken(t); }
  Result<RefreshToken> GetRefreshToken(const std::string& token_hash) override {
    return inner_->GetRefreshToken(token_hash);
  }
  Result<RefreshToken> RotateRefreshToken(const std::string& old_hash, const RefreshToken& next,
                                          TimePoint now) override {
    return inner_->RotateRefreshToken(old_hash, next, now);
  }
  Status RevokeRefreshFamily(const std::string& family_id, TimePoint now) override {
    return inner_->RevokeRefreshFamily(family_id, now);
  }
  Status PurgeExpiredGrants(TimePoint now) override { return inner_->PurgeExpiredGrants(now); }
  Result<std::optional<Conversation>> FindConversationByExternalId(const std::string& external_id) override {
    return inner_->FindConversationByExternalId(external_id);
  }
  Result<std::vector<Conversation>> ListConversations(const Page& page) override {
    return inner_->ListConversations(page);
  }
  Status AppendAudit(const std::vector<AuditEvent>& events) override { return inner_->AppendAudit(events); }
  Result<AuditEvent> GetAudit(const std::string& context_id) override { return inner_->GetAudit(context_id); }
  Result<int64_t> PurgeAuditBefore(TimePoint cutoff, int limit) override {
    return inner_->PurgeAuditBefore(cutoff, limit);
  }
  Result<AuditPage> ListAudit(const AuditFilter& f) override { return inner_->ListAudit(f); }
  Result<std::vector<ChangeEntry>> ListChanges(const ChangeFilter& f) override { return inner_->ListChanges(f); }
  Result<int64_t> LastChangeId() override { return inner_->LastChangeId(); }
  Result<int64_t> PurgeChangesBefore(TimePoint cutoff, int limit) override {
    return inner_->PurgeChangesBefore(cutoff, limit);
  }
  Status CreateIntegration(const MediaIntegration& m, const ChangeAuthor* by = nullptr) override { return inner_->CreateIntegration(m, by); }
  Result<std::vector<MediaIntegration>> ListIntegrations() override { return inner_->ListIntegrations(); }
  Result<MediaIntegration> GetIntegrationByApiKey(const std::string& api_key) override {
    return inner_->GetIntegrationByApiKey(api_key);
  }
  Status DeleteIntegration(const std::string& id, const ChangeAuthor* by = nullptr) override { return inner_->DeleteIntegration(id, by); }
  Result<std::optional<TimePoint>> HeartbeatNode(const NodeRecord& node) override { return inner_->HeartbeatNode(node); }
  Result<std::vector<NodeRecord>> ListNodes() override { return inner_->ListNodes(); }
  // Both change the conversation's media rows: the cached recording goes.
  Result<std::optional<MediaSessionClaim>> ClaimMediaSession(const MediaSessionClaim& claim, TimePoint now) override;
  Status ReleaseMediaSession(const std::string& conversation_id, const std::string& node_id) override {
    return inner_->ReleaseMediaSession(conversation_id, node_id);
  }
  Result<std::vector<MediaSessionClaim>> InterruptMediaSessions(TimePoint now,
                                                                const std::string& restarted_node) override;
  Status CreateWebhook(const Webhook& w, const ChangeAuthor* by = nullptr) override { return inner_->CreateWebhook(w, by); }
  Result<std::vector<Webhook>> ListWebhooks() override { return inner_->ListWebhooks(); }
  Result<Webhook> GetWebhook(const std::string& id) override { return inner_->GetWebhook(id); }
  Status DeleteWebhook(const std::string& id, const ChangeAuthor* by = nullptr) override { return inner_->DeleteWebhook(id, by); }
  Status SetWebhookEnabled(const std::string& id, bool enabled, const std::string& reason, TimePoint at,
                           const ChangeAuthor* by = nullptr) override {
    return inner_->SetWebhookEnabled(id, enabled, reason, at, by);
  }
  Status EnqueueDeliveries(const std::string& webhook_id, int64_t from, int64_t to,
                           const std::vector<WebhookDelivery>& deliveries) override {
    return inner_->EnqueueDeliveries(webhook_id, from, to, deliveries);
  }
  Result<std::vector<WebhookDelivery>> ClaimDueDeliveries(TimePoint now, TimePoint lease_until, int limit) override {
    return inner_->ClaimDueDeliveries(now, lease_until, limit);
  }
  Status RecordDeliveryAttempt(const DeliveryAttempt& a) override { return inner_->RecordDeliveryAttempt(a); }
  Result<std::vector<WebhookDelivery>> ListDeliveries(const DeliveryFilter& f) override { return inner_->ListDeliveries(f); }
  Result<int64_t> PurgeDeliveriesBefore(TimePoint cutoff, int limit) override { return inner_->PurgeDeliveriesBefore(cutoff, limit); }
  Status CreateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) override { return inner_->CreateTrunk(t, by); }
  Result<std::vector<SipTrunk>> ListTrunks() override { return inner_->ListTrunks(); }
  Result<SipTrunk> GetTrunk(const std::string& id) override { return inner_->GetTrunk(id); }
  Status UpdateTrunk(const SipTrunk& t, const ChangeAuthor* by = nullptr) override { return inner_->UpdateTrunk(t, by); }
  Status DeleteTrunk(const std::string& id, const ChangeAuthor* by = nullptr) override { return inner_->DeleteTrunk(id, by); }
  Result<std::optional<std::string>> GetSecret(const std::string& name) override { return inner_->GetSecret(name); }
  Status PutSecretIfAbsent(const std::string& name, const std::string& value) override {
    return inner_->PutSecretIfAbsent(name, value);
  }
  Result<int> ResealSecrets(const ResealPlan& plan) override { return inner_->ResealSecrets(plan); }

  struct CacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  CacheStats stats() const;

 private:
  struct Entry {
    std::shared_ptr<const Conversation> conversation;
    std::shared_ptr<const Recording> recording;
  };
  struct Shard {
    Mutex mu;
    std::unordered_map<std::string, Entry> entries GUARDED_BY(mu);
    uint64_t epoch GUARDED_BY(mu) = 0;  // bumped by every invalidation in this shard
    uint64_t hits GUARDED_BY(mu) = 0;
    uint64_t misses GUARDED_BY(mu) = 0;
  };
  Shard& ShardFor(const std::string& id);
  void Invalidate(const std::string& id);
  void InvalidateAll();
  template <class T, class Load, class Field>
  Result<T> Cached(const std::string& id, Load load, Field field);

  std::unique_ptr<Store> inner_;
  const size_t per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace verbatim::store
