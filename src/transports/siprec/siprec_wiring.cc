#include "transports/siprec/siprec_wiring.h"

#include "transports/siprec/trunk_config.h"

namespace verbatim::api {

media::siprec::UasEventSink SiprecEventCounter(service::Metrics& metrics) {
  return [&metrics](std::string_view kind, std::string_view reason) {
    const char* name = kind == "refused" ? "verbatim_sip_refusals_total"
                       : kind == "ended" ? "verbatim_siprec_sessions_ended_total"
                                         : "verbatim_siprec_streams_declined_total";
    metrics.Inc(name, {{"reason", std::string(reason)}});
  };
}

void AddSiprecMetrics(service::Metrics& metrics, std::function<const media::siprec::SipServer*()> sip) {
  auto stat = [sip](auto field) {
    return [sip, field] {
      const auto* s = sip();
      return s ? static_cast<uint64_t>(s->Stats().*field) : uint64_t{0};
    };
  };
  metrics.AddGaugeFamily("verbatim_siprec_trunk_sessions", "Live SIPREC sessions per trunk.", "trunk", [sip] {
    std::vector<std::pair<std::string, double>> out;
    if (const auto* s = sip())
      for (const auto& [name, n] : s->SessionsPerTrunk()) out.emplace_back(name, static_cast<double>(n));
    return out;
  });
  metrics.AddGauge("verbatim_rtp_ports_in_use", "RTP ports bound to live SIPREC streams.", [sip] {
    const auto* s = sip();
    return s ? static_cast<double>(s->RtpPortsInUse()) : 0.0;
  });
  metrics.AddGauge("verbatim_rtp_ports_free", "RTP ports of --rtp-ports not in use.", [sip] {
    const auto* s = sip();
    return s ? static_cast<double>(s->RtpPortsFree()) : 0.0;
  });
  metrics.AddGauge("verbatim_sip_tcp_connections", "Open SIP/TCP connections.", [sip] {
    const auto* s = sip();
    return s ? static_cast<double>(s->Stats().tcp_connections) : 0.0;
  });
  metrics.AddCounterFunc("verbatim_rtp_packets_from_strangers_total",
                         "RTP datagrams dropped because they came from an address the signalling did not name.", [sip] {
                           const auto* s = sip();
                           return s ? static_cast<uint64_t>(s->RtpStats().wrong_source.load()) : uint64_t{0};
                         });
  metrics.AddCounterFunc("verbatim_sip_tcp_write_overflows_total",
                         "SIP/TCP connections closed because the peer left more unread answers than allowed.",
                         stat(&media::siprec::SipServerStats::tcp_write_overflows));
  metrics.AddCounterFunc("verbatim_sip_tcp_refused_total", "SIP/TCP connections closed at accept: too many open.",
                         stat(&media::siprec::SipServerStats::tcp_refused));
  metrics.AddCounterFunc("verbatim_sip_tcp_accept_backoffs_total",
                         "Pauses of the SIP/TCP accept loop after accept() failed for lack of file descriptors.",
                         stat(&media::siprec::SipServerStats::accept_backoffs));
  // SIP over TLS and SRTP (docs/sip-trunks.md "SIP over TLS", "SRTP").
  metrics.AddGauge("verbatim_sip_tls_connections", "Open SIP/TLS connections (handshakes in progress included).", [sip] {
    const auto* s = sip();
    return s ? static_cast<double>(s->Stats().tls_connections) : 0.0;
  });
  metrics.AddCounterFunc("verbatim_sip_tls_handshakes_total", "TLS handshakes completed on the SIP/TLS port.",
                         stat(&media::siprec::SipServerStats::tls_handshakes));
  metrics.AddCounterFunc("verbatim_sip_tls_handshake_failures_total",
                         "TLS handshakes on the SIP/TLS port that failed or timed out (plain SIP there, bad clients).",
                         stat(&media::siprec::SipServerStats::tls_handshake_failures));
  metrics.AddCounterFunc("verbatim_sip_tls_refused_total", "SIP/TLS connections closed at accept: too many open.",
                         stat(&media::siprec::SipServerStats::tls_refused));
  auto rtp = [sip](std::atomic<uint64_t> media::siprec::RtpCounters::*field) {
    return [sip, field] {
      const auto* s = sip();
      return s ? static_cast<uint64_t>((s->RtpStats().*field).load()) : uint64_t{0};
    };
  };
  metrics.AddCounterFunc("verbatim_srtp_auth_failures_total",
                         "SRTP/SRTCP packets dropped: the authentication tag did not verify (forged, corrupted, other key).",
                         rtp(&media::siprec::RtpCounters::srtp_auth_failed));
  metrics.AddCounterFunc("verbatim_srtp_replays_total",
                         "SRTP/SRTCP packets dropped: seen before, or older than the replay window.",
                         rtp(&media::siprec::RtpCounters::srtp_replayed));
  metrics.AddCounterFunc("verbatim_srtp_key_expired_total", "SRTP packets dropped: past their key's lifetime.",
                         rtp(&media::siprec::RtpCounters::srtp_key_expired));
}

std::string DevTrunkBanner() {
  const store::SipTrunk t = DevTrunk(TimePoint{});
  std::string nets;
  for (const auto& n : t.networks) nets += (nets.empty() ? "" : ", ") + n;
  return "SIPREC trunk '" + t.name + "' (dev only): INVITEs from " + nets +
         " over UDP, TCP and TLS, no digest. Everything else gets 403.";
}

}  // namespace verbatim::api
