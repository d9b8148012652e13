#include "transports/webhook/webhook_wiring.h"

#include <sodium.h>

#include "core/json.h"
#include "transports/http/views.h"
#include "transports/webhook/webhook_signature.h"

namespace verbatim::webhook {

std::string RenderWebhookPayload(const store::ChangeEntry& e) {
  json::object o;
  o["type"] = e.kind;
  o["timestamp"] = FormatRfc3339(e.at);
  o["data"] = api::ChangeEntryJson(e);
  return ToValidUtf8(json::serialize(o));
}

service::WebhookSend MakeWebhookSender(std::shared_ptr<const SecretBox> secrets, const Clock& clock, SendOptions opts) {
  return [secrets = std::move(secrets), &clock, opts](const store::Webhook& w, const store::WebhookDelivery& d) {
    auto secret = secrets->Open(w.secret_encrypted, store::SealedContext(store::SealedKind::kWebhookSecret, w.id));
    if (!secret.ok())
      return service::WebhookAttemptResult{0, "the signing secret cannot be opened: " + secret.status().message()};
    // Signed for this attempt: a retry carries the same id and body, and a fresh timestamp.
    const int64_t timestamp = ToUnixSeconds(clock.Now());
    auto signature = SignWebhook(*secret, d.id, timestamp, d.payload);
    sodium_memzero(secret->data(), secret->size());
    if (!signature.ok()) return service::WebhookAttemptResult{0, signature.status().message()};
    SendResult r = PostWebhook(w.url,
                               {{"webhook-id", d.id},
                                {"webhook-timestamp", std::to_string(timestamp)},
                                {"webhook-signature", *signature}},
                               d.payload, opts);
    if (r.ok()) return service::WebhookAttemptResult{r.status, ""};
    std::string error = r.error;  // never empty unless ok() (PostWebhook says "HTTP <status>")
    if (!r.response_excerpt.empty()) error += " (response: " + r.response_excerpt + ")";
    return service::WebhookAttemptResult{r.status, std::move(error)};
  };
}

std::unique_ptr<service::WebhookDispatcher> StartWebhookDispatcher(store::Store& store, const Clock& clock,
                                                                   std::shared_ptr<const SecretBox> secrets,
                                                                   const WebhookConfig& cfg, service::Metrics* metrics) {
  service::WebhookDispatcher::Options o;
  o.retry_base = cfg.retry_base;
  o.retry_window = cfg.retry_window;
  // A claim outlives the attempt it covers, so another node never sends it meanwhile.
  o.lease = cfg.send.timeout + std::chrono::seconds(5);
  o.senders = cfg.senders;
  return std::make_unique<service::WebhookDispatcher>(store, clock, RenderWebhookPayload,
                                                      MakeWebhookSender(std::move(secrets), clock, cfg.send), o, metrics);
}

}  // namespace verbatim::webhook
