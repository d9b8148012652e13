// The HTTP listener's TLS certificate and key: the shared hardened server
// context (core/tls_server.h) with ALPN "http/1.1" (a client that offers only
// other protocols gets the RFC 7301 no_application_protocol alert).
// Reload() re-reads both files (SIGHUP); see core/tls_server.h.
//
// Thread-safe: Current() and Reload() from any thread.
#pragma once

#include <memory>
#include <string>

#include "core/tls_server.h"

namespace verbatim::api {

class TlsCredentials final : public tls::ServerCredentials {
 public:
  static Result<std::shared_ptr<TlsCredentials>> Load(std::string cert_file, std::string key_file);

 private:
  TlsCredentials(std::string cert_file, std::string key_file);
};

// The server context for a certificate chain and key file (exposed for tests).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                         const std::string& key_file,
                                                                         std::string* description = nullptr);

}  // namespace verbatim::api
