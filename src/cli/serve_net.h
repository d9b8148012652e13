// The network side of `verbatim serve`: TLS, trusted proxies and connection
// caps, from ServeOptions to HttpServerOptions, so that
// serve.cc only wires them in.
#pragma once

#include <memory>
#include <string>

#include "transports/http/http_server.h"
#include "service/metrics.h"
#include "cli/commands.h"
#include "core/status.h"
#include "media/siprec/sip_server.h"

namespace verbatim::cli {

// Fills the TLS, proxy and cap fields of `h` from `opts`. A usage problem
// (bad CIDR, a cert without a key, unreadable PEM) is InvalidArgument with a
// message for the command line.
Status ApplyNetworkOptions(const ServeOptions& opts, api::HttpServerOptions& h);

// Raises the soft RLIMIT_NOFILE to the hard limit and warns when the caps
// could still run the process out of file descriptors (the accept loop backs
// off then, but the caps should refuse first).
void PrepareFileLimit(const api::HttpServerOptions& h);

// SIGHUP: re-reads --tls-cert and --tls-key. New connections use the new
// pair; if it does not load, the current one stays (and the error is logged
// and counted in verbatim_tls_reloads_total{result="error"}).
void ReloadTls(const api::HttpServerOptions& h, service::Metrics& metrics);

// SIP over TLS: --sip-tls-listen with --sip-tls-cert/--sip-tls-key (default
// --tls-cert/--tls-key) into `sip`. Off without --sip-tls-listen. A usage
// problem is InvalidArgument (serve_sip_tls.cc).
Status ApplySipTlsOptions(const ServeOptions& opts, media::siprec::SipServerOptions& sip);

}  // namespace verbatim::cli
