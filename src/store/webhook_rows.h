// Webhook and delivery rows, read the same way by both stores: each store
// selects the columns in this order (PostgreSQL casts enabled to int and
// kinds to text) and passes its statement or row (both have Int, Text, Bytes,
// Time and OptTime).
#pragma once

#include "store/model.h"
#include "store/row_codec.h"
#include "store/status_macros.h"

namespace verbatim::store {

template <class Row>
Result<Webhook> ReadWebhookRow(const Row& r) {
  Webhook w;
  w.id = r.Text(0);
  w.url = r.Text(1);
  w.description = r.Text(2);
  STORE_ASSIGN_OR_RETURN(w.kinds, DecodeStrings(r.Text(3)));
  w.secret_encrypted = r.Bytes(4);
  w.enabled = r.Int(5) != 0;
  w.disabled_reason = r.Text(6);
  w.disabled_at = r.OptTime(7);
  w.last_delivered_at = r.OptTime(8);
  w.cursor = r.Int(9);
  w.created_by = Actor{r.Text(10), r.Text(11), r.Text(12), r.Text(13)};
  w.created_at = r.Time(14);
  return w;
}

// The delivery columns, unqualified or as `d.` of a join.
inline constexpr char kDeliveryColumns[] =
    "seq, id, webhook_id, change_id, kind, payload, status, attempts, created_at, next_attempt_at, last_attempt_at, "
    "last_status, last_error, finished_at";
inline constexpr char kDeliveryColumnsOfD[] =
    "d.seq, d.id, d.webhook_id, d.change_id, d.kind, d.payload, d.status, d.attempts, d.created_at, "
    "d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.finished_at";

template <class Row>
WebhookDelivery ReadDeliveryRow(const Row& r) {
  WebhookDelivery d;
  d.seq = r.Int(0);
  d.id = r.Text(1);
  d.webhook_id = r.Text(2);
  d.change_id = r.Int(3);
  d.kind = r.Text(4);
  d.payload = r.Text(5);
  d.status = ParseDeliveryStatus(r.Text(6)).value_or(DeliveryStatus::kPending);
  d.attempts = static_cast<int>(r.Int(7));
  d.created_at = r.Time(8);
  d.next_attempt_at = r.Time(9);
  d.last_attempt_at = r.OptTime(10);
  d.last_status = static_cast<int>(r.Int(11));
  d.last_error = r.Text(12);
  d.finished_at = r.OptTime(13);
  return d;
}

}  // namespace verbatim::store
