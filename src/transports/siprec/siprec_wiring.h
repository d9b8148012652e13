// What serve.cc plugs between the App and the SIPREC server: the counters of
// refusals and session ends, the gauges of trunks, ports and TCP connections
// (names in docs/sip-trunks.md "Metrics"), and the --dev banner line.
#pragma once

#include <functional>
#include <string>

#include "service/metrics.h"
#include "media/siprec/sip_server.h"

namespace verbatim::api {

// UasEventSink → verbatim_sip_refusals_total / verbatim_siprec_sessions_ended_total /
// verbatim_siprec_streams_declined_total, labelled by reason.
media::siprec::UasEventSink SiprecEventCounter(service::Metrics& metrics);
// Gauges and counters read from the server at scrape time; `sip` may return null (not started).
void AddSiprecMetrics(service::Metrics& metrics, std::function<const media::siprec::SipServer*()> sip);
// One line for the dev banner: the implicit trunk and what it admits.
std::string DevTrunkBanner();

}  // namespace verbatim::api
