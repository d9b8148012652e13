// The server side of TLS, shared by every listener that speaks it (HTTPS/WSS,
// SIP over TLS): one hardened OpenSSL context per certificate and key, and a
// holder that SIGHUP reloads.
//
// Hardening: TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites, no
// compression or renegotiation. ALPN is per listener: HTTP speaks "http/1.1" (a client
// offering only other protocols gets the RFC 7301 no_application_protocol
// alert); SIP registers no ALPN identifier, so its listener negotiates none.
//
// The files are PEM: the certificate file may hold the chain (leaf first); the
// key must match the leaf. Reload() re-reads both: connections accepted
// afterwards use the new pair, open ones keep theirs; a pair that does not
// load leaves the current one in place.
//
// Thread-safe: ServerCredentials::Current() and Reload() from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"

namespace verbatim::tls {

struct ServerOptions {
  // Protocols this listener speaks, for ALPN (RFC 7301), preferred first.
  // Empty: ALPN is not negotiated (a client's offer is ignored).
  std::vector<std::string> alpn;
};

// A server context for a certificate chain and key file. Errors:
// InvalidArgument "tls.certificate" / "tls.key" naming the file and OpenSSL's reason.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const std::string& cert_file,
                                                                     const std::string& key_file,
                                                                     const ServerOptions& options,
                                                                     std::string* description = nullptr);

class ServerCredentials {
 public:
  static Result<std::shared_ptr<ServerCredentials>> Load(std::string cert_file, std::string key_file,
                                                         ServerOptions options);
  virtual ~ServerCredentials() = default;

  std::shared_ptr<boost::asio::ssl::context> Current() const;
  Status Reload();
  // "CN=verbatim.example.com, expires 2026-01-31 12:00:00 UTC" of the loaded certificate.
  std::string Describe() const;
  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 protected:
  ServerCredentials(std::string cert_file, std::string key_file, ServerOptions options)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), options_(std::move(options)) {}

 private:
  // Constant after construction.
  const std::string cert_file_;
  const std::string key_file_;
  const ServerOptions options_;

  mutable Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_ GUARDED_BY(mu_);
  std::string description_ GUARDED_BY(mu_);
};

}  // namespace verbatim::tls
