// The AudioHook WebSocket endpoint (docs/api.md §7) at /api/v2/media/audiohook on the
// HTTP port. The HTTP server hands over upgrade requests for this path; the
// endpoint authorizes them (transports/audiohook/audiohook_auth.h) before answering 101, audits
// every attempt, and then runs the AudioHook protocol
// (media/audiohook/server_session.h) over Boost.Beast: `open` creates or joins
// the conversation through the MediaHub, audio goes to the RecordingSession,
// `close` (or a lost connection) finishes it. When the control API pauses or
// resumes the recording, the client is asked to `pause`/`resume` (so paused
// audio never leaves the client); the file gets silence either way.
//
// Bounds: the HTTP server's connection caps (an upgraded connection keeps its
// place), max_connections live connections (beyond: HTTP 503 before the
// upgrade), hub capacity at `open` (AudioHook disconnect "media.capacity"),
// one session per connection, 64 KiB per frame, text message rate and audio
// pace (server_session.h), idle timeout with WebSocket keep-alive pings.
//
// Threading: each connection runs on its own strand (the one the HTTP server
// accepted it on); every handler of a connection, and every call into its
// ServerSession, is serialized there. The registry below is shared by the
// connections and the recording listener, guarded by its mutex.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "transports/http/app.h"
#include "transports/audiohook/audiohook_auth.h"
#include "transports/http/http_server.h"
#include "media/capture/hub.h"

namespace verbatim::api {

struct AudioHookOptions {
  std::string path = "/api/v2/media/audiohook";
  size_t max_connections = 1000;
  size_t max_frame_bytes = 64 * 1024;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{30};  // no frame (nor pong to our keep-alive ping) for this long: drop
  bool pause_client_with_recording = true;
};

class AudioHookEndpoint {
 public:
  AudioHookEndpoint(App& app, media::capture::MediaHub& hub, AudioHookOptions opts = {});
  ~AudioHookEndpoint();

  bool WantsUpgrade(std::string_view path) const { return path == opts_.path; }
  // Takes over the connection (HttpServer's UpgradeHandler::accept), plain
  // (ws://) or TLS (wss://) alike.
  void Accept(UpgradedConnection conn);
  // Tells every live connection that the server stops (AudioHook `disconnect`)
  // and waits up to `grace` for them to go. Media sessions are left to
  // MediaHub::Stop: a server stop is not the end of the call.
  void Shutdown(std::chrono::milliseconds grace);
  size_t live_connections() const;

  struct Shared;  // state the connections share (defined in the .cc)

 private:
  const AudioHookOptions opts_;
  std::shared_ptr<Shared> shared_;  // outlives the endpoint while connections hold it
};

}  // namespace verbatim::api
