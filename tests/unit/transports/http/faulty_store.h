// A Store that forwards to a real one, with faults the audit tests switch on:
// AppendAudit (the group-commit writer's only write) can fail as a full disk
// would, or block until released (a slow disk). Everything else passes through.
// Thread-safe (the writer thread calls AppendAudit while tests flip the knobs).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "store/store.h"

namespace verbatim::api::testing_util {

class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}

  // Every AppendAudit fails while set (nothing is written).
  void FailAudit(bool fail) { fail_audit_ = fail; }
  // Every ReleaseMediaSession fails while set.
  void FailReleases(bool fail) { fail_releases_ = fail; }
  // While closed, AppendAudit waits (before writing) until Open().
  void CloseGate() {
    std::lock_guard lock(mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard lock(mu_);
      gate_open_ = true;
    }
    gate_.notify_all();
  }
  uint64_t append_calls() const { return append_calls_; }
  uint64_t failed_appends() const { return failed_appends_; }

  Status AppendAudit(const std::vector<store::AuditEvent>& events) override {
    ++append_calls_;
    {
      std::unique_lock lock(mu_);
      gate_.wait(lock, [&] { return gate_open_; });
    }
    if (fail_audit_) {
      ++failed_appends_;
      return Status::Internal("injected: database or disk is full");
    }
    return inner_->AppendAudit(events);
  }

  Result<store::Organization> GetOrganization() override { return inner_->GetOrganization(); }
  Result<store::OrgSettings> GetSettings() override { return inner_->GetSettings(); }
  Status PutSettings(const store::OrgSettings& s, const store::ChangeAuthor* by = nullptr) override { return inner_->PutSettings(s, by); }
  Status CreateClient(const store::OAuthClient& c, const store::ChangeAuthor* by = nullptr) override { return inner_->CreateClient(c, by); }
  Result<store::OAuthClient> GetClient(const std::string& id) override { return inner_->GetClient(id); }
  Result<std::vector<store::OAuthClient>> ListClients() override { return inner_->ListClients(); }
  Status UpdateClient(const store::OAuthClient& c, const store::ChangeAuthor* by = nullptr) override { return inner_->UpdateClient(c, by); }
  Status DeleteClient(const std::string& id, const store::ChangeAuthor* by = nullptr) override { return inner_->DeleteClient(id, by); }
  Status CreateUser(const store::User& u, const store::ChangeAuthor* by = nullptr) override { return inner_->CreateUser(u, by); }
  Result<store::User> GetUser(const std::string& id) override { return inner_->GetUser(id); }
  Result<std::vector<store::User>> ListUsers() override { return inner_->ListUsers(); }
  Status UpdateUser(const store::User& u, const store::ChangeAuthor* by = nullptr) override { return inner_->UpdateUser(u, by); }
  Status DeleteUser(const std::string& id, const store::ChangeAuthor* by = nullptr) override { return inner_->DeleteUser(id, by); }
  Status CreateRole(const store::Role& r, const store::ChangeAuthor* by = nullptr) override { return inner_->CreateRole(r, by); }
  Result<store::Role> GetRole(const std::string& id) override { return inner_->GetRole(id); }
  Result<std::vector<store::Role>> ListRoles() override { return inner_->ListRoles(); }
  Status UpdateRole(const store::Role& r, const store::ChangeAuthor* by = nullptr) override { return inner_->UpdateRole(r, by); }
  Status DeleteRole(const std::string& id, const store::ChangeAuthor* by = nullptr) override { return inner_->DeleteRole(id, by); }
  Status InsertKey(const store::SigningKey& k) override { return inner_->InsertKey(k); }
  Result<std::vector<store::SigningKey>> ListKeys() override { return inner_->ListKeys(); }
  Status RotateKeys(const store::SigningKey& next, TimePoint now, TimePoint publish_until) override {
    return inner_->RotateKeys(next, now, publish_until);
  }
  Status RevokeToken(const store::RevokedToken& t) override { return inner_->RevokeToken(t); }
  Result<std::vector<store::RevokedToken>> ListRevoked(TimePoint now) override { return inner_->ListRevoked(now); }
  Status PurgeRevoked(TimePoint now) override { return inner_->PurgeRevoked(now); }
  // Runs just before each authorization code is stored (e.g. to delete its user meanwhile).
  void BeforeCodeInsert(std::function<void(store::Store& inner)> hook) { before_code_insert_ = std::move(hook); }
  Status InsertAuthorizationCode(const store::AuthorizationCode& c) override {
    if (before_code_insert_) before_code_insert_(*inner_);
    return inner_->InsertAuthorizationCode(c);
  }
  Result<store::AuthorizationCode> RedeemAuthorizationCode(const std::string& code_hash, TimePoint now) override {
    return inner_->RedeemAuthorizationCode(code_hash, now);
  }
  Status InsertRefreshToken(const store::RefreshToken& t) override { return inner_->InsertRefreshToken(t); }
  Result<store::RefreshToken> GetRefreshToken(const std::string& token_hash) override {
    return inner_->GetRefreshToken(token_hash);
  }
  Result<store::RefreshToken> RotateRefreshToken(const std::string& old_hash, const store::RefreshToken& next,
                                                 TimePoint now) override {
    return inner_->RotateRefreshToken(old_hash, next, now);
  }
  Status RevokeRefreshFamily(const std::string& family_id, TimePoint now) override {
    return inner_->RevokeRefreshFamily(family_id, now);
  }
  Status PurgeExpiredGrants(TimePoint now) override { return inner_->PurgeExpiredGrants(now); }
  Status CreateConversation(const store::Conversation& c) override { return inner_->CreateConversation(c); }
  Result<store::Conversation> GetConversation(const std::string& id) override { return inner_->GetConversation(id); }
  Result<std::optional<store::Conversation>> FindConversationByExternalId(const std::string& external_id) override {
    return inner_->FindConversationByExternalId(external_id);
  }
  Result<std::vector<store::Conversation>> ListConversations(const store::Page& page) override {
    return inner_->ListConversations(page);
  }
  Result<store::Conversation> DisconnectConversation(const std::string& id, TimePoint at, const store::Actor& actor,
                                                     const std::string& context_id,
                                                     store::ChangeRefused* refused = nullptr) override {
    return inner_->DisconnectConversation(id, at, actor, context_id, refused);
  }
  Status AddParticipant(const std::string& conversation_id, const store::Participant& p) override {
    return inner_->AddParticipant(conversation_id, p);
  }
  Result<store::Recording> GetRecording(const std::string& conversation_id) override {
    return inner_->GetRecording(conversation_id);
  }
  Result<store::ActionOutcome> ApplyRecordingAction(const std::string& conversation_id, RecordingAction action,
                                                    TimePoint at, const store::Actor& actor, const std::string& reason,
                                                    const std::string& context_id,
                                                    const store::AuditEvent* audit = nullptr,
                                                    store::ChangeRefused* refused = nullptr) override {
    return inner_->ApplyRecordingAction(conversation_id, action, at, actor, reason, context_id, audit, refused);
  }
  Result<store::Recording> UpdateRecordingMetadata(const std::string& conversation_id,
                                                   const store::RecordingMetadata& m) override {
    return inner_->UpdateRecordingMetadata(conversation_id, m);
  }
  Status UpsertMediaFile(const std::string& conversation_id, const store::MediaFile& f) override {
    return inner_->UpsertMediaFile(conversation_id, f);
  }
  Result<store::AuditEvent> GetAudit(const std::string& context_id) override { return inner_->GetAudit(context_id); }
  Result<store::AuditPage> ListAudit(const store::AuditFilter& f) override { return inner_->ListAudit(f); }
  Result<std::vector<store::ChangeEntry>> ListChanges(const store::ChangeFilter& f) override {
    return inner_->ListChanges(f);
  }
  Result<int64_t> LastChangeId() override { return inner_->LastChangeId(); }
  Result<int64_t> PurgeChangesBefore(TimePoint cutoff, int limit) override {
    return inner_->PurgeChangesBefore(cutoff, limit);
  }
  Result<int64_t> PurgeAuditBefore(TimePoint cutoff, int limit) override {
    return inner_->PurgeAuditBefore(cutoff, limit);
  }
  Status CreateIntegration(const store::MediaIntegration& m, const store::ChangeAuthor* by = nullptr) override { return inner_->CreateIntegration(m, by); }
  Result<std::vector<store::MediaIntegration>> ListIntegrations() override { return inner_->ListIntegrations(); }
  Result<store::MediaIntegration> GetIntegrationByApiKey(const std::string& api_key) override {
    return inner_->GetIntegrationByApiKey(api_key);
  }
  Status DeleteIntegration(const std::string& id, const store::ChangeAuthor* by = nullptr) override { return inner_->DeleteIntegration(id, by); }
  Result<std::optional<TimePoint>> HeartbeatNode(const store::NodeRecord& node) override { return inner_->HeartbeatNode(node); }
  Result<std::vector<store::NodeRecord>> ListNodes() override { return inner_->ListNodes(); }
  Result<std::optional<store::MediaSessionClaim>> ClaimMediaSession(const store::MediaSessionClaim& claim,
                                                                    TimePoint now) override {
    return inner_->ClaimMediaSession(claim, now);
  }
  Status ReleaseMediaSession(const std::string& conversation_id, const std::string& node_id) override {
    if (fail_releases_) return Status::Unavailable("store.unavailable", "injected: the database is down");
    return inner_->ReleaseMediaSession(conversation_id, node_id);
  }
  Result<std::vector<store::MediaSessionClaim>> InterruptMediaSessions(TimePoint now,
                                                                       const std::string& restarted_node) override {
    return inner_->InterruptMediaSessions(now, restarted_node);
  }
  Status CreateWebhook(const store::Webhook& w, const store::ChangeAuthor* by = nullptr) override { return inner_->CreateWebhook(w, by); }
  Result<std::vector<store::Webhook>> ListWebhooks() override { return inner_->ListWebhooks(); }
  Result<store::Webhook> GetWebhook(const std::string& id) override { return inner_->GetWebhook(id); }
  Status DeleteWebhook(const std::string& id, const store::ChangeAuthor* by = nullptr) override { return inner_->DeleteWebhook(id, by); }
  Status SetWebhookEnabled(const std::string& id, bool enabled, const std::string& reason, TimePoint at,
                           const store::ChangeAuthor* by = nullptr) override {
    return inner_->SetWebhookEnabled(id, enabled, reason, at, by);
  }
  Status EnqueueDeliveries(const std::string& webhook_id, int64_t from, int64_t to,
                           const std::vector<store::WebhookDelivery>& deliveries) override {
    return inner_->EnqueueDeliveries(webhook_id, from, to, deliveries);
  }
  Result<std::vector<store::WebhookDelivery>> ClaimDueDeliveries(TimePoint now, TimePoint lease_until, int limit) override {
    return inner_->ClaimDueDeliveries(now, lease_until, limit);
  }
  Status RecordDeliveryAttempt(const store::DeliveryAttempt& a) override { return inner_->RecordDeliveryAttempt(a); }
  Result<std::vector<store::WebhookDelivery>> ListDeliveries(const store::DeliveryFilter& f) override { return inner_->ListDeliveries(f); }
  Result<int64_t> PurgeDeliveriesBefore(TimePoint cutoff, int limit) override { return inner_->PurgeDeliveriesBefore(cutoff, limit); }
  Status CreateTrunk(const store::SipTrunk& t, const store::ChangeAuthor* by = nullptr) override { return inner_->CreateTrunk(t, by); }
  Result<std::vector<store::SipTrunk>> ListTrunks() override { return inner_->ListTrunks(); }
  Result<store::SipTrunk> GetTrunk(const std::string& id) override { return inner_->GetTrunk(id); }
  Status UpdateTrunk(const store::SipTrunk& t, const store::ChangeAuthor* by = nullptr) override { return inner_->UpdateTrunk(t, by); }
  Status DeleteTrunk(const std::string& id, const store::ChangeAuthor* by = nullptr) override { return inner_->DeleteTrunk(id, by); }
  Result<std::optional<std::string>> GetSecret(const std::string& name) override { return inner_->GetSecret(name); }
  Status PutSecretIfAbsent(const std::string& name, const std::string& value) override {
    return inner_->PutSecretIfAbsent(name, value);
  }
  Result<int> ResealSecrets(const store::ResealPlan& plan) override { return inner_->ResealSecrets(plan); }

 private:
  std::function<void(store::Store&)> before_code_insert_;
  std::unique_ptr<store::Store> inner_;
  std::atomic<bool> fail_audit_{false};
  std::atomic<bool> fail_releases_{false};
  std::atomic<uint64_t> append_calls_{0};
  std::atomic<uint64_t> failed_appends_{0};
  std::mutex mu_;  // guards gate_open_
  std::condition_variable gate_;
  bool gate_open_ = true;
};

}  // namespace verbatim::api::testing_util
