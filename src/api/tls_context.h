// The server's TLS certificate and key, as an OpenSSL context for the HTTP
// listener: TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites, no
// compression or renegotiation, ALPN "http/1.1" (a client that offers only
// other protocols gets the RFC 7301 no_application_protocol alert).
//
// The files are PEM: the certificate file may hold the chain (leaf first);
// the key must match the leaf. Reload() re-reads both (SIGHUP): connections
// accepted afterwards use the new pair, open ones keep theirs; a pair that
// does not load leaves the current one in place.
//
// Thread-safe: Current() and Reload() from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "core/mutex.h"
#include "core/status.h"

namespace verbatim::api {

class TlsCredentials {
 public:
  static Result<std::shared_ptr<TlsCredentials>> Load(std::string cert_file, std::string key_file);

  std::shared_ptr<boost::asio::ssl::context> Current() const;
  Status Reload();
  // "CN=verbatim.example.com, expires 2026-01-31 12:00:00 UTC" of the loaded certificate.
  std::string Describe() const;

 private:
  TlsCredentials(std::string cert_file, std::string key_file) : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

  // Constant after construction.
  const std::string cert_file_;
  const std::string key_file_;

  mutable Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_ GUARDED_BY(mu_);
  std::string description_ GUARDED_BY(mu_);
};

// The server context for a certificate chain and key file (exposed for tests).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                         const std::string& key_file,
                                                                         std::string* description = nullptr);

}  // namespace verbatim::api
