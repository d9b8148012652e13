// Signed media URLs: how a node that does not hold a recording's file sends an
// authorized client to the node that does (docs/api.md §7, "Downloading on
// several nodes"). The node that decided mints a short-lived URL on the
// owner's advertised address; the owner checks it without a token, so the
// client's bearer token never travels to another origin (fetch and curl drop
// Authorization on a cross-origin redirect anyway).
//
// The signature is a MAC under a key derived from the key-encryption key,
// which every node of an installation loads from the same file; it covers the
// conversation, the segment, the serving node, the expiry and who was
// authorized (for the serving node's audit event).
//
// Transport-free and pure: no clock, store or socket; the caller passes `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/secret_box.h"
#include "core/status.h"
#include "core/clock.h"

namespace verbatim::service {

// Long enough to follow a redirect, short enough that a URL copied into a log
// or a ticket is useless: resuming a download later asks any node again.
inline constexpr std::chrono::seconds kMediaUrlLifetime{60};

struct MediaUrlGrant {
  std::string conversation_id;
  int segment = 0;
  std::string node_id;         // the node that serves it
  int64_t expires = 0;         // unix seconds
  std::string principal_type;  // who was authorized ("client" | "user")
  std::string principal_id;
  std::string context_id;      // the decision that minted it (its audit event)
};

// The query string (no leading '?') of the signed URL:
// segment=N&node=ID&expires=UNIX&by=B64URL&ctx=ID&signature=B64URL.
std::string SignedMediaQuery(const SecretBox& box, const MediaUrlGrant& grant);


// The grant a signed URL carries, once its signature, node and expiry check
// out against `conversation_id` (the path's), `self_node` and `now`. Errors
// (PermissionDenied, each message says what to do):
//   "media.url.invalid"     a parameter is missing or malformed, or the signature does not verify
//   "media.url.expired"     past `expires`, or further ahead than kMediaUrlLifetime (clock skew)
//   "media.url.wrong.node"  signed for another node
using QueryLookup = std::function<std::optional<std::string>(std::string_view name)>;

Result<MediaUrlGrant> VerifySignedMedia(const SecretBox& box, std::string_view conversation_id,
                                        const QueryLookup& query, std::string_view self_node, TimePoint now);

}  // namespace verbatim::service
