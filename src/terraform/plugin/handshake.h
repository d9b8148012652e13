// The go-plugin handshake Terraform expects from a provider binary:
//   - Terraform starts us with TF_PLUGIN_MAGIC_COOKIE (anything else is a
//     person running the binary by hand), PLUGIN_PROTOCOL_VERSIONS (we speak
//     6) and PLUGIN_CLIENT_CERT (its certificate, PEM: mTLS is how Terraform
//     knows the process on the socket is the one it started, and vice versa);
//   - we answer with one line on stdout, before anything else:
//       1|6|unix|<socket path>|grpc|<our certificate, DER, base64 unpadded>
// The certificate is made fresh for every run (P-256, self-signed, CA:TRUE,
// SAN localhost, serverAuth+clientAuth: what go-plugin's own plugins present).
#pragma once

#include <functional>
#include <string>

#include "core/status.h"

namespace verbatim::terraform::plugin {

inline constexpr const char* kMagicCookieKey = "TF_PLUGIN_MAGIC_COOKIE";
inline constexpr const char* kMagicCookieValue = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
inline constexpr int kCoreProtocolVersion = 1;
inline constexpr int kAppProtocolVersion = 6;

struct HandshakeEnv {
  std::string client_cert_pem;  // PLUGIN_CLIENT_CERT
  std::string socket_dir;       // PLUGIN_UNIX_SOCKET_DIR, else TMPDIR, else /tmp
};

// Errors say what is wrong in terms of the person reading them: not started
// by Terraform, a Terraform that does not speak protocol 6, no client cert.
Result<HandshakeEnv> ReadHandshakeEnv(const std::function<const char*(const char*)>& getenv);

struct ServerCert {
  std::string cert_pem;
  std::string key_pem;
  std::string cert_der;
};
Result<ServerCert> MakeServerCert();

// The line without its newline.
std::string HandshakeLine(const std::string& socket_path, const std::string& cert_der);

}  // namespace verbatim::terraform::plugin
