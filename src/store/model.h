// Plain records persisted by the Store. No behaviour beyond small helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/recording_state.h"

namespace verbatim::store {

struct Organization {
  std::string id;
  std::string name;
  TimePoint created_at;
};

struct OrgSettings {
  bool auto_start = true;                 // SIPREC/AudioHook sessions start recording at once
  std::string pause_behavior = "silence";  // "silence" | "skip"
  int retention_days = 90;                // default retention for new recordings
};

struct OAuthClient {
  std::string id;  // UUID; also the OAuth client_id
  std::string name;
  std::string description;
  std::vector<std::string> allowed_scopes;
  std::vector<std::string> allowed_grant_types;  // "client_credentials", "authorization_code", "refresh_token"
  // Where the authorization code flow may send a signed-in user back to,
  // matched exactly (oauth/pkce.h). Empty for client_credentials-only clients.
  std::vector<std::string> redirect_uris;
  // "confidential" (has a secret) or "public" (a browser or native app that
  // cannot keep one: no secret, no client_credentials; PKCE protects its codes).
  std::string client_type = "confidential";
  std::vector<std::string> role_ids;              // built-in or custom role ids
  int access_token_validity_seconds = 3600;
  std::string secret_hash;  // hex SHA-256 of the secret; never leaves the server
  TimePoint created_at;
  TimePoint updated_at;
  bool enabled = true;  // a disabled client gets no tokens, and the ones it has are refused
  // Tokens issued at or before this instant are refused (its secret was
  // rotated, a scope or role removed, it was disabled, or an administrator
  // revoked them all); the reason is quoted in the 401.
  std::optional<TimePoint> tokens_valid_after;
  std::string tokens_valid_after_reason;
};

// A person who signs in (docs/users.md). Roles work as on clients; which scopes
// a user's token may carry is decided by the OAuth client the user signs in
// through, so the two layers stay separate.
struct User {
  std::string id;        // UUID; the `sub` of the user's access tokens
  std::string username;  // unique, case-insensitive; what the person types to sign in
  std::string display_name;
  std::string email;  // informational; may be empty
  std::vector<std::string> role_ids;
  // Argon2id in libsodium's encoded form ("$argon2id$v=19$m=...,t=...,p=1$salt$hash",
  // oauth/password_hash.h); never leaves the server.
  std::string password_hash;
  bool enabled = true;  // a disabled user cannot sign in, and the tokens it has are refused
  TimePoint created_at;
  TimePoint updated_at;
  // As on OAuthClient: tokens issued at or before this instant are refused
  // (password changed, a role removed, disabled, or revoked by an administrator).
  std::optional<TimePoint> tokens_valid_after;
  std::string tokens_valid_after_reason;
};

// Custom roles only; built-in roles are constants of authz and never stored.
struct Role {
  std::string id;
  std::string name;  // unique, case-insensitive
  std::string description;
  std::vector<std::string> permissions;  // "domain:entity:action" with '*'
  TimePoint created_at;
  TimePoint updated_at;
};

struct SigningKey {
  std::string kid;  // RFC 7638 thumbprint
  std::string alg;  // "ES256"
  // The PKCS#8 PEM sealed under the key-encryption key (core/secret_box.h,
  // context SealedContext(kSigningKey, kid)); stored in column private_key_pem.
  std::string private_key_sealed;
  std::string public_jwk_json;  // {"kty":"EC",...} without private parts
  TimePoint created_at;
  std::optional<TimePoint> retired_at;  // set when a newer key takes over signing
  // A retired key stays in JWKS until every token it signed has expired.
  std::optional<TimePoint> publish_until;
};

struct RevokedToken {
  std::string jti;
  TimePoint expires_at;  // row may be purged after this
};

// A one-time authorization code (RFC 6749 §4.1.2, docs/users.md "Sign-in").
// Kept by the SHA-256 of the code, never the code itself. Redeeming marks it
// used instead of deleting it, so a second redemption is recognized as a
// replay and the sign-in it started can be revoked (RFC 6749 §4.1.2).
struct AuthorizationCode {
  std::string code_hash;  // lowercase hex SHA-256 of the code
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string code_challenge;  // PKCE S256 (RFC 7636 §4.2)
  std::string family_id;       // the sign-in ("sid" of its access tokens, family of its refresh tokens)
  TimePoint auth_time;         // when the person entered the password
  TimePoint expires_at;        // 60 s after issue
  std::optional<TimePoint> used_at;
};

// One refresh token of a sign-in's rotation family (RFC 9700 §4.14.2): each
// use retires it (used_at) and issues the next; using a retired one again
// revokes the whole family. Kept by hash.
struct RefreshToken {
  std::string token_hash;  // lowercase hex SHA-256 of the token
  std::string family_id;
  std::string client_id;
  std::string user_id;
  std::vector<std::string> scopes;
  TimePoint auth_time;   // of the sign-in the family started with
  TimePoint issued_at;
  TimePoint expires_at;  // the family's end: a rotation does not extend it
  std::optional<TimePoint> used_at;     // rotated (or redeemed twice: then the family is revoked)
  std::optional<TimePoint> revoked_at;  // the family was revoked (reuse, sign-out, administrator)
};

struct Participant {
  std::string id;
  std::string name;
  std::string purpose;  // agent | customer | ivr | external
};

struct Conversation {
  std::string id;
  std::string state = "connected";  // connected | disconnected
  TimePoint started_at;
  std::optional<TimePoint> ended_at;
  std::vector<Participant> participants;
  std::string external_id;  // e.g. SIP Call-ID or AudioHook conversationId; may be empty
  std::string created_by;   // principal id
  // The media source that may feed this conversation: "trunk:<id>",
  // "integration:<id>" or "client:<id>"; empty = none may join it (see
  // docs/sip-trunks.md "Who may join a conversation").
  std::string owner;
};

// Who did something, for timelines and audit.
struct Actor {
  std::string principal_type;  // "client" | "user" | "system"
  std::string principal_id;
  std::string principal_name;
  std::string client_id;
};

struct Segment {
  int index = 0;  // 1-based
  TimePoint started_at;
  std::optional<TimePoint> ended_at;
};

struct Transition {
  int64_t seq = 0;  // 1-based, per recording
  std::string action;  // start | stop | pause | resume | disconnect
  RecordingState from = RecordingState::kNone;
  RecordingState to = RecordingState::kNone;
  int segment = 0;  // segment index the transition belongs to (0 if none)
  TimePoint at;
  Actor actor;
  std::string reason;
  std::string context_id;
};

struct RecordingMetadata {
  std::vector<std::string> labels;
  std::optional<int> retention_days;
  std::string notes;
};

struct MediaFile {
  int segment = 0;
  std::string path;  // relative to the media root
  std::string format = "audio/wav";
  int channels = 0;
  int sample_rate = 8000;
  int64_t bytes = 0;
  int64_t duration_ms = 0;
  // recording | interrupted (the node recording it stopped renewing its lease
  // before finishing it) | complete. A file recovered after an interruption is
  // complete and keeps interrupted_at.
  std::string status = "recording";
  std::vector<std::string> channel_labels;  // participant per channel
  TimePoint updated_at;
  std::string node_id;  // the node whose media directory holds the file ("" = written before nodes had ids)
  std::optional<TimePoint> interrupted_at;
};

// A verbatim node as the other nodes see it (docs/deployment.md, "Media
// sessions and node failure"): alive while lease_expires_at is ahead, which
// its heartbeat keeps pushing forward.
struct NodeRecord {
  std::string id;             // stable across restarts: DATA_DIR/node-id
  std::string advertise_url;  // where the other nodes reach its HTTP API ("" = not advertised)
  TimePoint started_at;
  TimePoint heartbeat_at;
  TimePoint lease_expires_at;
};

// A live media session's hold on its conversation: one per conversation in the
// whole cluster, held by the node that took the call for as long as that
// node's lease lasts.
struct MediaSessionClaim {
  std::string conversation_id;
  std::string node_id;
  std::string transport;  // siprec | audiohook
  TimePoint opened_at;
};

struct Recording {
  std::string conversation_id;
  RecordingState state = RecordingState::kNone;
  std::vector<Segment> segments;
  std::vector<Transition> timeline;
  RecordingMetadata metadata;
  std::vector<MediaFile> media;
  int64_t version = 0;  // bumps on every change
  TimePoint updated_at;
  bool conversation_ended = false;  // filled by GetRecording (saves a second read)
};

struct AuditEvent {
  std::string context_id;  // primary key
  TimePoint at;
  Actor actor;
  std::string method;
  std::string path;
  std::string action;    // permission, e.g. recording:recording:start
  std::string resource;  // e.g. conversation/<id>
  std::string conversation_id;
  std::string decision;  // allow | deny
  std::string layer;     // failing layer, empty when allowed
  std::string code;      // error code, empty when allowed
  int status = 0;
  std::string explanation_json;
  std::string client_address;  // the client's IP (behind trusted proxies: theirs, transports/http/forwarded.h); "" if unknown
};

struct AuditFilter {
  std::optional<std::string> conversation_id;
  std::optional<std::string> principal_id;
  std::optional<std::string> decision;
  std::optional<TimePoint> since;
  std::optional<TimePoint> until;
  // Keyset paging: events strictly older than this cursor (opaque to callers).
  std::optional<std::string> cursor;
  int limit = 50;
};

struct AuditPage {
  std::vector<AuditEvent> events;
  std::optional<std::string> next_cursor;
};

struct MediaIntegration {
  std::string id;
  std::string name;
  std::string api_key;           // sent by AudioHook clients as X-API-KEY
  // The raw client secret sealed under the key-encryption key (context
  // SealedContext(kIntegrationSecret, id)).
  std::string secret_encrypted;
  std::vector<std::string> role_ids;
  TimePoint created_at;
};

// Secrets the store keeps sealed under the key-encryption key
// (docs/secrets-at-rest.md). A new kind of sealed column adds a value here and
// its table to SqliteStore::ResealSecrets, so that key migration and
// `verbatim kek rotate` cover it.
enum class SealedKind { kSigningKey, kIntegrationSecret, kWebhookSecret };

struct SealedValue {
  SealedKind kind = SealedKind::kSigningKey;
  std::string id;     // the row: kid, integration id
  std::string value;  // as stored
};

// The associated data that binds a sealed value to its row: a value copied
// into another row does not open there.
inline std::string SealedContext(SealedKind kind, std::string_view id) {
  switch (kind) {
    case SealedKind::kSigningKey: return "signing-key:" + std::string(id);
    case SealedKind::kIntegrationSecret: return "integration:" + std::string(id);
    case SealedKind::kWebhookSecret: return "webhook:" + std::string(id);
  }
  return "unknown:" + std::string(id);
}

// A SIPREC recording source (docs/sip-trunks.md). Networks and transports are
// validated before they get here; the digest secret is kept only as HA1s.
struct SipTrunk {
  std::string id;  // UUID
  std::string name;
  std::string description;
  std::vector<std::string> networks;    // canonical CIDRs, "192.0.2.0/24", "2001:db8::/32"
  std::vector<std::string> transports;  // "udp" | "tcp" | "tls"
  std::string digest_username;          // empty = no SIP digest authentication
  std::string digest_realm;
  std::string digest_ha1_md5;     // hex H(username:realm:password), RFC 3261 §22.4
  std::string digest_ha1_sha256;  // the same with SHA-256 (RFC 8760)
  int max_sessions = 100;
  int max_channels = 8;
  int max_bandwidth_kbps = 2048;
  std::string rtp_source = "offer";  // "offer" | "latch"
  std::string srtp = "optional";     // "off" | "optional" | "required" (docs/sip-trunks.md "SRTP")
  TimePoint created_at;
  TimePoint updated_at;
};

// ---- webhooks (docs/webhooks.md)

// Where the change log is pushed. Deliveries are made from a durable outbox:
// the dispatcher turns log entries after `cursor` into WebhookDelivery rows
// and moves the cursor in the same transaction.
struct Webhook {
  std::string id;  // UUID
  std::string url;
  std::string description;
  std::vector<std::string> kinds;  // exact kinds or families ending in '.' ("recording.")
  // The signing secret ("whsec_..."), sealed under the key-encryption key
  // (context SealedContext(kWebhookSecret, id)).
  std::string secret_encrypted;
  bool enabled = true;
  std::string disabled_reason;  // why it is disabled; empty while enabled
  std::optional<TimePoint> disabled_at;
  std::optional<TimePoint> last_delivered_at;  // the last successful delivery
  int64_t cursor = 0;  // the last change-log id turned into deliveries (or passed over)
  Actor created_by;
  TimePoint created_at;
};

enum class DeliveryStatus { kPending, kDelivered, kFailed };
inline const char* DeliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kDelivered: return "delivered";
    case DeliveryStatus::kFailed: return "failed";
  }
  return "pending";
}
inline std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view s) {
  for (DeliveryStatus d : {DeliveryStatus::kPending, DeliveryStatus::kDelivered, DeliveryStatus::kFailed})
    if (s == DeliveryStatusName(d)) return d;
  return std::nullopt;
}

// One event for one webhook: the same id and body on every attempt.
struct WebhookDelivery {
  int64_t seq = 0;     // the outbox's order (paging)
  std::string id;      // "msg_...": the webhook-id header
  std::string webhook_id;
  int64_t change_id = 0;
  std::string kind;
  std::string payload;  // the request body, rendered once
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  TimePoint created_at;
  TimePoint next_attempt_at;  // pending: when it is due, or when a claim on it lapses
  std::optional<TimePoint> last_attempt_at;
  int last_status = 0;     // the last attempt's HTTP status; 0 = no response
  std::string last_error;  // empty after a success
  std::optional<TimePoint> finished_at;  // delivered or failed
};

// The outcome of one attempt (RecordDeliveryAttempt).
struct DeliveryAttempt {
  std::string delivery_id;
  TimePoint at;
  int status = 0;
  std::string error;
  DeliveryStatus next = DeliveryStatus::kPending;  // delivered, failed for good, or pending again
  TimePoint retry_at;                              // when next is kPending
};

struct DeliveryFilter {
  std::string webhook_id;
  std::optional<DeliveryStatus> status;
  std::optional<int64_t> before_seq;  // paging backwards: newest first
  int limit = 50;
};

struct Page {
  int limit = 50;
  int offset = 0;
};

// ---- the change log (docs/changes.md)

// Who makes a change: written with the change, in its transaction.
struct ChangeAuthor {
  Actor actor;
  std::string context_id;  // the request's; empty for changes made offline (the CLI)
  TimePoint at;
};

// One field of a changed record, its values as JSON text ("" = absent: the
// record did not exist before or does not after). Secrets never appear:
// a rotated secret is the field "secret" with before null and after "rotated".
struct FieldChange {
  std::string field;
  std::string before;
  std::string after;
};

// One entry of the change log: an administrative change, a recording
// transition or a media file that became ready. Ids increase in commit order.
struct ChangeEntry {
  int64_t id = 0;
  TimePoint at;
  std::string kind;          // "client.updated", "recording.paused", "media.ready"... (docs/changes.md)
  std::string subject_type;  // client | user | role | settings | integration | trunk | conversation
  std::string subject_id;
  std::string subject_name;
  Actor actor;
  std::string context_id;
  std::vector<FieldChange> fields;
};

struct ChangeFilter {
  std::optional<int64_t> after_id;  // entries with a larger id (paging forward, resuming a stream)
  std::optional<TimePoint> since;
  std::optional<std::string> principal_id;  // the actor's principal id
  std::optional<std::string> kind;          // exact, or a prefix ending in '.' ("client.")
  std::optional<std::string> subject_type;
  std::optional<std::string> subject_id;
  bool newest_first = false;  // history lookups read backwards
  int limit = 100;
};

// Why the store refused a change, as facts: the use case turns them into
// the decision's resource layer (authz::ResourceNotFound, ConversationEnded,
// InvalidTransition) without comparing error strings or reading again, so
// what it reports is what the refusing transaction saw.
struct ChangeRefused {
  enum class Reason { kNone, kConversationNotFound, kConversationEnded, kInvalidTransition };
  Reason reason = Reason::kNone;
  RecordingState state = RecordingState::kNone;  // the recording's committed state (kInvalidTransition)
  std::optional<TimePoint> ended_at;            // kConversationEnded
};

}  // namespace verbatim::store
