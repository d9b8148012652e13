#include "cli/serve_net.h"

#include <sys/resource.h>

#include "transports/http/tls_context.h"
#include "core/log.h"

namespace verbatim::cli {

Status ApplyNetworkOptions(const ServeOptions& opts, api::HttpServerOptions& h) {
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    return Status::InvalidArgument("usage", "--tls-cert and --tls-key go together: give both (PEM files) or neither.");
  }
  if (!opts.tls_cert.empty()) {
    auto tls = api::TlsCredentials::Load(opts.tls_cert, opts.tls_key);
    if (!tls.ok()) return tls.status();
    h.tls = std::move(*tls);
  }
  auto proxies = api::TrustedProxies::Parse(opts.trusted_proxies);
  if (!proxies.ok()) return Status::InvalidArgument("usage", "--trusted-proxies: " + proxies.status().message());
  h.trusted_proxies = std::move(*proxies);
  auto header = api::ParseForwardedHeaderName(opts.forwarded_header);
  if (!header) {
    return Status::InvalidArgument("usage", "--forwarded-header must be x-forwarded-for or forwarded (got '" +
                                                opts.forwarded_header + "').");
  }
  h.forwarded_header = *header;
  h.max_connections = opts.max_connections;
  h.max_connections_per_address = opts.max_connections_per_ip;
  return Status::Ok();
}

void PrepareFileLimit(const api::HttpServerOptions& h) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  // Besides connections: the store, WAV files, SIP and RTP sockets.
  constexpr rlim_t kReserve = 1024;
  const rlim_t wanted = static_cast<rlim_t>(h.max_connections) + kReserve;
  if (h.max_connections == 0 || (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted)) {
    Log(LogLevel::kWarn, "the connection cap does not fit the file descriptor limit",
        {{"maxConnections", h.max_connections}, {"fileLimit", static_cast<uint64_t>(lim.rlim_cur)},
         {"fix", "lower --max-connections below the file limit minus 1024, or raise the limit (ulimit -n, "
                 "LimitNOFILE=); out of descriptors, accept backs off and new connections wait"}});
  }
}

void ReloadTls(const api::HttpServerOptions& h, service::Metrics& metrics) {
  if (!h.tls) {
    Log(LogLevel::kInfo, "SIGHUP: TLS is off, nothing to reload");
    return;
  }
  Status s = h.tls->Reload();
  metrics.Inc("verbatim_tls_reloads_total", {{"result", s.ok() ? "ok" : "error"}});
  if (s.ok()) {
    Log(LogLevel::kInfo, "TLS certificate reloaded", {{"certificate", h.tls->Describe()}});
  } else {
    Log(LogLevel::kError, "TLS certificate reload failed; the previous certificate stays in use",
        {{"error", s.message()}});
  }
}

}  // namespace verbatim::cli
