// --sip-tls-listen, --sip-tls-cert, --sip-tls-key (docs/sip-trunks.md "SIP over TLS").
#include "cli/serve_net.h"
#include "core/tls_server.h"

namespace verbatim::cli {

Status ApplySipTlsOptions(const ServeOptions& opts, media::siprec::SipServerOptions& sip) {
  const bool own_pair = !opts.sip_tls_cert.empty() || !opts.sip_tls_key.empty();
  if (opts.sip_tls_listen.empty()) {
    if (own_pair)
      return Status::InvalidArgument("usage", "--sip-tls-cert and --sip-tls-key need --sip-tls-listen HOST:PORT.");
    return Status::Ok();
  }
  if (!ParseHostPort(opts.sip_tls_listen, sip.tls_host, sip.tls_port))
    return Status::InvalidArgument("usage", "--sip-tls-listen must be HOST:PORT (got '" + opts.sip_tls_listen + "').");
  if (opts.sip_tls_cert.empty() != opts.sip_tls_key.empty())
    return Status::InvalidArgument("usage", "--sip-tls-cert and --sip-tls-key go together: give both or neither.");
  const std::string& cert = own_pair ? opts.sip_tls_cert : opts.tls_cert;
  const std::string& key = own_pair ? opts.sip_tls_key : opts.tls_key;
  if (cert.empty() || key.empty())
    return Status::InvalidArgument("usage",
                                   "--sip-tls-listen needs a certificate: --sip-tls-cert and --sip-tls-key, or "
                                   "--tls-cert and --tls-key.");
  // SIP registers no ALPN identifier: none is negotiated (core/tls_server.h).
  auto creds = tls::ServerCredentials::Load(cert, key, {});
  if (!creds.ok()) return Status::InvalidArgument("usage", "SIP over TLS: " + creds.status().message());
  sip.tls = std::move(*creds);
  return Status::Ok();
}

}  // namespace verbatim::cli
