// Webhooks on the network side (docs/webhooks.md): what a delivery's body is,
// how one attempt is signed and sent, and the dispatcher that `verbatim serve`
// runs over them (service/webhook_dispatcher.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/secret_box.h"
#include "service/webhook_dispatcher.h"
#include "store/store.h"
#include "transports/webhook/webhook_sender.h"

namespace verbatim::webhook {

struct WebhookConfig {
  SendOptions send;                                     // allow_private, the attempt's timeout
  std::chrono::milliseconds retry_base{5000};           // --webhook-retry-base-ms
  std::chrono::seconds retry_window{std::chrono::hours(24)};  // --webhook-retry-window-seconds
  int senders = 4;
};

// The request body: {"type": kind, "timestamp": RFC 3339, "data": the entry
// as GET /api/v2/changes shows it}.
std::string RenderWebhookPayload(const store::ChangeEntry& e);

// One attempt: opens the webhook's secret, signs (webhook-id,
// webhook-timestamp, webhook-signature) and POSTs.
service::WebhookSend MakeWebhookSender(std::shared_ptr<const SecretBox> secrets, const Clock& clock, SendOptions opts);

std::unique_ptr<service::WebhookDispatcher> StartWebhookDispatcher(store::Store& store, const Clock& clock,
                                                                   std::shared_ptr<const SecretBox> secrets,
                                                                   const WebhookConfig& cfg, service::Metrics* metrics);

}  // namespace verbatim::webhook
