// GET /api/v2/media/audiohook without a WebSocket upgrade. Upgrades never get
// here: the HTTP server hands them to AudioHookEndpoint (transports/audiohook/audiohook_endpoint.h),
// which authorizes them (media:stream:ingest) before answering 101. The route
// exists so the router, the OpenAPI document and `verbatim explain` know the
// endpoint and its permission, and so a plain GET learns what to do.
#include "transports/http/app.h"

namespace verbatim::api {

void RegisterAudioHookRoutes(App& app, Router& r) {
  (void)app;  // the upgrade path (AudioHookEndpoint) holds the App
  r.Add({"GET", "/api/v2/media/audiohook", Access::kPermission, "media:stream:ingest", [](RequestContext& ctx) {
           HttpResponse res = ErrorResponse(
               426, "upgrade.required",
               "GET /api/v2/media/audiohook is a WebSocket endpoint (AudioHook protocol v2): send the request with "
               "'Connection: Upgrade', 'Upgrade: websocket' and 'Sec-WebSocket-Version: 13'.",
               ctx.context_id,
               InputProblem("Upgrade", "websocket",
                            "Connect with a WebSocket client (an AudioHook client), authenticated by "
                            "'Authorization: Bearer <token>' with scope media:ingest, or by an integration's "
                            "X-API-KEY and HTTP message signature."));
           res.set(http::field::upgrade, "websocket");
           return res;
         }});
}

}  // namespace verbatim::api
