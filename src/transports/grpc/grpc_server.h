// GrpcServer: verbatim's gRPC API (docs/grpc.md) on its own port, next to
// the HTTP one, over the same core (service::Services). Also serves the
// standard grpc.health.v1.Health and server reflection, so grpcurl-style
// tools work.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "service/services.h"

namespace grpc {
class Server;
}

namespace verbatim::transports::grpc {

struct GrpcServerOptions {
  std::string listen;    // "127.0.0.1:50051"; port 0 picks a free one
  std::string issuer;    // the REST base URL (Help links in error details)
  std::string tls_cert;  // PEM files; both empty = plaintext
  std::string tls_key;
  int max_message_bytes = 64 * 1024;  // larger requests get RESOURCE_EXHAUSTED from gRPC itself
  int max_threads = 64;               // sync server threads: calls in flight, Watch streams included
  size_t max_watches = 32;            // concurrent Watch streams
};

class GrpcServer {
 public:
  explicit GrpcServer(service::Services core);
  ~GrpcServer();

  Status Start(const GrpcServerOptions& options);
  // "127.0.0.1:50051" once started (the bound port).
  const std::string& address() const { return address_; }
  // Ends Watch streams and waits for calls in flight (at most `grace`).
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(2));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
};

}  // namespace verbatim::transports::grpc
