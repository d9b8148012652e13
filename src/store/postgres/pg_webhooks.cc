// Webhooks and their outbox in the PostgreSQL store (see store.h;
// docs/webhooks.md). Several nodes dispatch from one outbox: queuing is a
// compare-and-set on the webhook's cursor (row-locked), and a claim skips
// rows another node holds locked and leases the rest for the attempt.
#include <algorithm>

#include "store/change_diff.h"
#include "store/postgres/pg_changes.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"
#include "store/webhook_rows.h"

namespace verbatim::store {

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kWebhookSelect[] =
    "SELECT id, url, description, kinds::text, secret_encrypted, enabled::int, disabled_reason, disabled_at, "
    "last_delivered_at, cursor, created_by_type, created_by_id, created_by_name, created_by_client, created_at "
    "FROM webhooks";

std::vector<WebhookDelivery> ReadDeliveries(const Rows& rows) {
  std::vector<WebhookDelivery> out;
  out.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i) out.push_back(ReadDeliveryRow(rows[i]));
  return out;
}

// The webhook as the write's transaction sees it, locked.
Result<std::optional<Webhook>> LoadWebhook(Conn& conn, const std::string& id) {
  return pg::LoadForChange<Webhook>(conn, std::string(kWebhookSelect) + " WHERE id = $1 FOR UPDATE", id,
                                    ReadWebhookRow<Row>);
}

}  // namespace

Status PostgresStore::CreateWebhook(const Webhook& w, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO webhooks (id, url, description, kinds, secret_encrypted, enabled, disabled_reason, disabled_at, "
        "last_delivered_at, cursor, created_by_type, created_by_id, created_by_name, created_by_client, created_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        w.id, w.url, w.description, EncodeStrings(w.kinds), pg::Bytea{w.secret_encrypted}, w.enabled,
        w.disabled_reason, w.disabled_at, w.last_delivered_at, w.cursor, w.created_by.principal_type, w.created_by.principal_id,
        w.created_by.principal_name, w.created_by.client_id, w.created_at));
    return by != nullptr ? pg::LogChange(conn, WebhookChange(nullptr, &w, *by)) : Status::Ok();
  });
}

Result<std::vector<Webhook>> PostgresStore::ListWebhooks() {
  std::vector<Webhook> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kWebhookSelect) + " ORDER BY created_at, id"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      STORE_ASSIGN_OR_RETURN(Webhook w, ReadWebhookRow(rows[i]));
      out.push_back(std::move(w));
    }
    return Status::Ok();
  }));
  return out;
}

Result<Webhook> PostgresStore::GetWebhook(const std::string& id) {
  Webhook out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kWebhookSelect) + " WHERE id = $1", id));
    if (rows.empty()) return WebhookNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadWebhookRow(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Status PostgresStore::DeleteWebhook(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Webhook> before, LoadWebhook(conn, id));
    if (!before) return WebhookNotFound(id);
    VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM webhooks WHERE id = $1", id));  // deliveries cascade
    return by != nullptr ? pg::LogChange(conn, WebhookChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

Status PostgresStore::SetWebhookEnabled(const std::string& id, bool enabled, const std::string& reason, TimePoint at,
                                        const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Webhook> before, LoadWebhook(conn, id));
    if (!before) return WebhookNotFound(id);
    Webhook after = *before;
    after.enabled = enabled;
    after.disabled_reason = enabled ? "" : reason;
    after.disabled_at = enabled ? std::nullopt : std::optional<TimePoint>(at);
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("UPDATE webhooks SET enabled = $1, disabled_reason = $2, disabled_at = $3 WHERE id = $4",
                  after.enabled, after.disabled_reason, after.disabled_at, id));
    if (!enabled)
      VERBATIM_RETURN_IF_ERROR(
          conn.Exec("UPDATE webhook_deliveries SET status = 'failed', last_error = $1, finished_at = $2 "
                    "WHERE webhook_id = $3 AND status = 'pending'",
                    "the webhook was disabled: " + reason, at, id));
    return by != nullptr ? pg::LogChange(conn, WebhookChange(&*before, &after, *by)) : Status::Ok();
  });
}

Status PostgresStore::EnqueueDeliveries(const std::string& webhook_id, int64_t from, int64_t to,
                                        const std::vector<WebhookDelivery>& deliveries) {
  return Write([&](Conn& conn) -> Status {
    // The row lock orders two nodes queuing the same entries: the second sees the moved cursor.
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT cursor FROM webhooks WHERE id = $1 FOR UPDATE", webhook_id));
    if (rows.empty()) return WebhookNotFound(webhook_id);
    if (rows[0].Int(0) != from) return WebhookCursorMoved(webhook_id);
    for (const WebhookDelivery& d : deliveries)
      VERBATIM_RETURN_IF_ERROR(conn.Exec(
          "INSERT INTO webhook_deliveries (id, webhook_id, change_id, kind, payload, status, attempts, created_at, "
          "next_attempt_at, last_attempt_at, last_status, last_error, finished_at) "
          "VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, NULL, 0, '', NULL) ON CONFLICT DO NOTHING",
          d.id, webhook_id, d.change_id, d.kind, d.payload, d.created_at, d.next_attempt_at));
    return conn.Exec("UPDATE webhooks SET cursor = $1 WHERE id = $2", to, webhook_id);
  });
}

Result<std::vector<WebhookDelivery>> PostgresStore::ClaimDueDeliveries(TimePoint now, TimePoint lease_until,
                                                                       int limit) {
  std::vector<WebhookDelivery> out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Query(std::string("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE seq IN ("
                               "SELECT d.seq FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                               "WHERE d.status = 'pending' AND d.next_attempt_at <= $2 AND w.enabled "
                               "ORDER BY d.next_attempt_at, d.change_id, d.seq LIMIT $3 FOR UPDATE OF d SKIP LOCKED) RETURNING ") +
                       kDeliveryColumns,
                   lease_until, now, limit));
    out = ReadDeliveries(rows);
    return Status::Ok();
  }));
  // RETURNING does not keep the subquery's order.
  std::sort(out.begin(), out.end(), [](const WebhookDelivery& a, const WebhookDelivery& b) {
    return a.change_id != b.change_id ? a.change_id < b.change_id : a.seq < b.seq;
  });
  return out;
}

Status PostgresStore::RecordDeliveryAttempt(const DeliveryAttempt& a) {
  return Write([&](Conn& conn) -> Status {
    const bool finished = a.next != DeliveryStatus::kPending;
    STORE_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Query("UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_attempt_at = $2, "
                   "last_status = $3, last_error = $4, next_attempt_at = $5, finished_at = $6 "
                   "WHERE id = $7 AND status = 'pending' RETURNING webhook_id",
                   DeliveryStatusName(a.next), a.at, a.status, a.error, finished ? a.at : a.retry_at,
                   finished ? std::optional<TimePoint>(a.at) : std::nullopt, a.delivery_id));
    if (rows.empty() || a.next != DeliveryStatus::kDelivered) return Status::Ok();
    return conn.Exec("UPDATE webhooks SET last_delivered_at = GREATEST(COALESCE(last_delivered_at, 0), $1) WHERE id = $2",
                     a.at, rows[0].Text(0));
  });
}

Result<std::vector<WebhookDelivery>> PostgresStore::ListDeliveries(const DeliveryFilter& f) {
  std::vector<WebhookDelivery> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    const std::optional<std::string> status =
        f.status ? std::optional<std::string>(DeliveryStatusName(*f.status)) : std::nullopt;
    STORE_ASSIGN_OR_RETURN(
        Rows rows, conn.Query(std::string("SELECT ") + kDeliveryColumns +
                                  " FROM webhook_deliveries WHERE webhook_id = $1 AND ($2::text IS NULL OR status = "
                                  "$2::text) AND ($3::bigint IS NULL OR seq < $3::bigint) ORDER BY seq DESC LIMIT $4",
                              f.webhook_id, status, f.before_seq, f.limit));
    out = ReadDeliveries(rows);
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PostgresStore::PurgeDeliveriesBefore(TimePoint cutoff, int limit) {
  int64_t deleted = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        deleted, conn.Affected("DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE "
                               "finished_at IS NOT NULL AND finished_at < $1 ORDER BY finished_at LIMIT $2)",
                               cutoff, limit));
    return Status::Ok();
  }));
  return deleted;
}

}  // namespace verbatim::store
