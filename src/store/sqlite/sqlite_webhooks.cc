// Webhooks and their outbox in the SQLite store (see store.h; docs/webhooks.md).
// One process writes a SQLite file, so a claim is a plain update inside the
// write transaction; the leases matter on PostgreSQL, where nodes share it.
#include "store/change_diff.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"
#include "store/webhook_rows.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

constexpr char kWebhookSelect[] =
    "SELECT id, url, description, kinds, secret_encrypted, enabled, disabled_reason, disabled_at, last_delivered_at, "
    "cursor, created_by_type, created_by_id, created_by_name, created_by_client, created_at FROM webhooks";

std::string DeliverySelect() { return std::string("SELECT ") + kDeliveryColumns + " FROM webhook_deliveries"; }

Result<std::vector<WebhookDelivery>> ReadDeliveries(Stmt& st) {
  std::vector<WebhookDelivery> out;
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(ReadDeliveryRow(st));
  }
}

Result<std::optional<Webhook>> LoadWebhook(Db& db, const std::string& id) {
  return sqlite::LoadOne<Webhook>(db, std::string(kWebhookSelect) + " WHERE id = ?", id, ReadWebhookRow<Stmt>);
}

}  // namespace

Status SqliteStore::CreateWebhook(const Webhook& w, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO webhooks (id, url, description, kinds, secret_encrypted, enabled, disabled_reason, disabled_at, "
        "last_delivered_at, cursor, created_by_type, created_by_id, created_by_name, created_by_client, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        w.id, w.url, w.description, sqlite::EncodeStrings(w.kinds), sqlite::Blob{w.secret_encrypted}, w.enabled,
        w.disabled_reason, w.disabled_at, w.last_delivered_at, w.cursor, w.created_by.principal_type, w.created_by.principal_id,
        w.created_by.principal_name, w.created_by.client_id, w.created_at));
    return by != nullptr ? sqlite::LogChange(db, WebhookChange(nullptr, &w, *by)) : Status::Ok();
  });
}

Result<std::vector<Webhook>> SqliteStore::ListWebhooks() {
  std::vector<Webhook> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kWebhookSelect) + " ORDER BY created_at, id");
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      STORE_ASSIGN_OR_RETURN(Webhook w, ReadWebhookRow(st));
      out.push_back(std::move(w));
    }
  }));
  return out;
}

Result<Webhook> SqliteStore::GetWebhook(const std::string& id) {
  Webhook out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Webhook> w, LoadWebhook(db, id));
    if (!w) return WebhookNotFound(id);
    out = std::move(*w);
    return Status::Ok();
  }));
  return out;
}

Status SqliteStore::DeleteWebhook(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Webhook> before, LoadWebhook(db, id));
    if (!before) return WebhookNotFound(id);
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM webhook_deliveries WHERE webhook_id = ?", id));
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM webhooks WHERE id = ?", id));
    return by != nullptr ? sqlite::LogChange(db, WebhookChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

Status SqliteStore::SetWebhookEnabled(const std::string& id, bool enabled, const std::string& reason, TimePoint at,
                                      const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Webhook> before, LoadWebhook(db, id));
    if (!before) return WebhookNotFound(id);
    Webhook after = *before;
    after.enabled = enabled;
    after.disabled_reason = enabled ? "" : reason;
    after.disabled_at = enabled ? std::nullopt : std::optional<TimePoint>(at);
    VERBATIM_RETURN_IF_ERROR(db.Exec("UPDATE webhooks SET enabled = ?, disabled_reason = ?, disabled_at = ? WHERE id = ?",
                                     after.enabled, after.disabled_reason, after.disabled_at, id));
    if (!enabled)
      VERBATIM_RETURN_IF_ERROR(db.Exec("UPDATE webhook_deliveries SET status = 'failed', last_error = ?, finished_at = ? "
                                       "WHERE webhook_id = ? AND status = 'pending'",
                                       "the webhook was disabled: " + reason, at, id));
    return by != nullptr ? sqlite::LogChange(db, WebhookChange(&*before, &after, *by)) : Status::Ok();
  });
}

Status SqliteStore::EnqueueDeliveries(const std::string& webhook_id, int64_t from, int64_t to,
                                      const std::vector<WebhookDelivery>& deliveries) {
  return Write([&](Db& db) -> Status {
    Stmt st = db.Query("SELECT cursor FROM webhooks WHERE id = ?", webhook_id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return WebhookNotFound(webhook_id);
    if (st.Int(0) != from) return WebhookCursorMoved(webhook_id);
    for (const WebhookDelivery& d : deliveries)
      VERBATIM_RETURN_IF_ERROR(db.Exec(
          "INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, change_id, kind, payload, status, attempts, "
          "created_at, next_attempt_at, last_attempt_at, last_status, last_error, finished_at) "
          "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, NULL, 0, '', NULL)",
          d.id, webhook_id, d.change_id, d.kind, d.payload, d.created_at, d.next_attempt_at));
    return db.Exec("UPDATE webhooks SET cursor = ? WHERE id = ?", to, webhook_id);
  });
}

Result<std::vector<WebhookDelivery>> SqliteStore::ClaimDueDeliveries(TimePoint now, TimePoint lease_until,
                                                                     int limit) {
  std::vector<WebhookDelivery> out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    {
      Stmt st = db.Query(
          std::string("SELECT ") + kDeliveryColumnsOfD +
              " FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
          "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1 "
          "ORDER BY d.next_attempt_at, d.change_id, d.seq LIMIT ?",
          now, limit);
      STORE_ASSIGN_OR_RETURN(out, ReadDeliveries(st));
    }
    for (WebhookDelivery& d : out) {
      VERBATIM_RETURN_IF_ERROR(db.Exec("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE seq = ?", lease_until, d.seq));
      d.next_attempt_at = lease_until;
    }
    return Status::Ok();
  }));
  return out;
}

Status SqliteStore::RecordDeliveryAttempt(const DeliveryAttempt& a) {
  return Write([&](Db& db) -> Status {
    const bool finished = a.next != DeliveryStatus::kPending;
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_attempt_at = ?, last_status = ?, "
        "last_error = ?, next_attempt_at = ?, finished_at = ? WHERE id = ? AND status = 'pending'",
        DeliveryStatusName(a.next), a.at, a.status, a.error, finished ? a.at : a.retry_at,
        finished ? std::optional<TimePoint>(a.at) : std::nullopt, a.delivery_id));
    if (db.Changes() == 0 || a.next != DeliveryStatus::kDelivered) return Status::Ok();
    return db.Exec(
        "UPDATE webhooks SET last_delivered_at = MAX(COALESCE(last_delivered_at, 0), ?) "
        "WHERE id = (SELECT webhook_id FROM webhook_deliveries WHERE id = ?)",
        a.at, a.delivery_id);
  });
}

Result<std::vector<WebhookDelivery>> SqliteStore::ListDeliveries(const DeliveryFilter& f) {
  std::vector<WebhookDelivery> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    // NULLs stand for "any": one statement for every combination of filters.
    Stmt st = db.Query(DeliverySelect() +
                           " WHERE webhook_id = ? AND (? IS NULL OR status = ?) AND (? IS NULL OR seq < ?) "
                           "ORDER BY seq DESC LIMIT ?",
                       f.webhook_id, f.status ? std::optional<std::string>(DeliveryStatusName(*f.status)) : std::nullopt,
                       f.status ? std::optional<std::string>(DeliveryStatusName(*f.status)) : std::nullopt,
                       f.before_seq, f.before_seq, f.limit);
    STORE_ASSIGN_OR_RETURN(out, ReadDeliveries(st));
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> SqliteStore::PurgeDeliveriesBefore(TimePoint cutoff, int limit) {
  int64_t deleted = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE finished_at IS "
                "NOT NULL AND finished_at < ? ORDER BY finished_at LIMIT ?)",
                cutoff, limit));
    deleted = db.Changes();
    return Status::Ok();
  }));
  return deleted;
}

}  // namespace verbatim::store
