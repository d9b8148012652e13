// What a change did, as change-log entries (docs/changes.md): pure functions
// of the record before and after, shared by both stores so that SQLite and
// PostgreSQL log the same entry for the same write. Each store calls them
// inside the write's transaction, with `before` as that transaction read it.
//
// A null `before` is a creation, a null `after` a deletion; nullopt when an
// update changed nothing worth logging (only updated_at). Secrets and their
// hashes never appear in an entry.
#pragma once

#include <optional>
#include <string>

#include "core/json.h"
#include "store/model.h"

namespace verbatim::store {

std::optional<ChangeEntry> ClientChange(const OAuthClient* before, const OAuthClient* after, const ChangeAuthor& by);
std::optional<ChangeEntry> UserChange(const User* before, const User* after, const ChangeAuthor& by);
std::optional<ChangeEntry> RoleChange(const Role* before, const Role* after, const ChangeAuthor& by);
std::optional<ChangeEntry> SettingsChange(const OrgSettings& before, const OrgSettings& after, const ChangeAuthor& by);
std::optional<ChangeEntry> IntegrationChange(const MediaIntegration* before, const MediaIntegration* after,
                                             const ChangeAuthor& by);
std::optional<ChangeEntry> TrunkChange(const SipTrunk* before, const SipTrunk* after, const ChangeAuthor& by);
std::optional<ChangeEntry> WebhookChange(const Webhook* before, const Webhook* after, const ChangeAuthor& by);

// The author of a change made outside any request: `verbatim <command>` on
// the server's host, or the server itself (seeding, the built-in console client).
ChangeAuthor OfflineAuthor(std::string_view command, TimePoint at);

// A recording transition that changed the state: "recording.started",
// "recording.paused", "recording.resumed", "recording.stopped" (also a stop
// by disconnect, whose field "action" says so).
ChangeEntry TransitionChange(const std::string& conversation_id, const Transition& t);
// A media file whose status became "complete": "media.ready", by the system.
ChangeEntry MediaReadyChange(const std::string& conversation_id, const MediaFile& f);
// A live media session whose node stopped renewing its lease:
// "media.interrupted", by the system, with the node, the transport and when
// the session opened.
ChangeEntry MediaInterruptedChange(const MediaSessionClaim& claim, TimePoint at);

// The fields as the API shows them and the fields column stores them:
// [{"field":..,"before":..,"after":..}] with absent values left out.
// DecodeFields is EncodeFields' inverse; a malformed column gives an empty
// list rather than failing a read of the log.
json::array FieldsJson(const std::vector<FieldChange>& fields);
std::string EncodeFields(const std::vector<FieldChange>& fields);
std::vector<FieldChange> DecodeFields(std::string_view text);

// The columns both stores select for an entry, in this order (`fields` last),
// and their reader
// (a SQLite statement or a PostgreSQL row: both have Int, Time and Text).
inline constexpr char kChangeColumns[] =
    "id, at, kind, subject_type, subject_id, subject_name, actor_type, actor_id, actor_name, actor_client_id, "
    "context_id, fields";
template <class Row>
ChangeEntry ReadChangeRow(const Row& r) {
  ChangeEntry e;
  e.id = r.Int(0);
  e.at = r.Time(1);
  e.kind = r.Text(2);
  e.subject_type = r.Text(3);
  e.subject_id = r.Text(4);
  e.subject_name = r.Text(5);
  e.actor = Actor{r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
  e.context_id = r.Text(10);
  e.fields = DecodeFields(r.Text(11));
  return e;
}

// ChangeFilter::kind as a range of the kind column: "client.updated" matches
// exactly; "client." (a prefix ending in '.') every kind in [low, high).
struct ChangeKindRange {
  bool exact = true;
  std::string low, high;
};
ChangeKindRange KindRange(const std::optional<std::string>& kind);

}  // namespace verbatim::store
