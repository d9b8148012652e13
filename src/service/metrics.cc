#include "service/metrics.h"

#include <cstdio>

namespace verbatim::service {

Metrics::Metrics() {
  help_ = {
      {"verbatim_http_requests_total", "HTTP requests by route, method and status."},
      {"verbatim_http_request_duration_seconds", "HTTP request latency by route."},
      {"verbatim_authz_decisions_total", "Authorization decisions by result, failing layer and code."},
      {"verbatim_tokens_issued_total", "Access tokens issued by grant type."},
      {"verbatim_token_errors_total", "Token endpoint errors by OAuth error code."},
      {"verbatim_rate_limited_total", "Requests refused by the rate limiter, by bucket."},
      {"verbatim_recording_transitions_total", "Recording state transitions by action."},
      {"verbatim_http_connections_refused_total", "HTTP connections refused by the connection caps, by cap."},
      {"verbatim_http_accept_errors_total", "Failed accept() calls on the HTTP listener, by error."},
      {"verbatim_http_timeouts_total", "HTTP connections dropped by a deadline, by phase (header, body, write)."},
      {"verbatim_tls_handshake_failures_total", "TLS connections that never completed a handshake, by reason."},
      {"verbatim_tls_reloads_total", "TLS certificate reloads (SIGHUP), by result."},
      {"verbatim_sip_refusals_total", "SIP requests refused or dropped, by reason (docs/sip-trunks.md)."},
      {"verbatim_siprec_sessions_ended_total", "SIPREC sessions ended, by reason (bye, rtp_timeout, ...)."},
      {"verbatim_siprec_streams_declined_total", "Offered SIPREC streams not recorded, by reason."},
      {"verbatim_webhook_attempts_total",
       "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), failed (for good) (docs/webhooks.md)."},
      {"verbatim_webhooks_disabled_total", "Webhooks the server disabled because every delivery failed for the retry window."},
      {"verbatim_media_sessions_interrupted_total",
       "Live media sessions interrupted because their node stopped renewing its lease, by transport (docs/deployment.md)."},
      {"verbatim_store_change_reloads_total",
       "Reloads after a change committed by any node (PostgreSQL LISTEN/NOTIFY), by topic (docs/deployment.md)."},
  };
}

std::string Metrics::Key(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k + "=\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out;
}

void Metrics::Inc(const std::string& name, const Labels& labels, uint64_t n) {
  std::string key = Key(labels);
  MutexLock lock(mu_);
  counters_[name][key] += n;
}

void Metrics::Observe(const std::string& name, const Labels& labels, double seconds) {
  std::string key = Key(labels);
  MutexLock lock(mu_);
  auto& h = histograms_[name][key];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddGauge(const std::string& name, const std::string& help, std::function<double()> read) {
  MutexLock lock(mu_);
  gauges_.emplace_back(name, help, std::move(read));
}

void Metrics::AddGaugeFamily(const std::string& name, const std::string& help, const std::string& label,
                             std::function<std::vector<std::pair<std::string, double>>()> read) {
  MutexLock lock(mu_);
  gauge_families_.push_back({name, help, label, std::move(read)});
}

void Metrics::AddCounterFunc(const std::string& name, const std::string& help, std::function<uint64_t()> read) {
  MutexLock lock(mu_);
  counter_funcs_.emplace_back(name, help, std::move(read));
}

uint64_t Metrics::CounterValue(const std::string& name, const Labels& labels) const {
  MutexLock lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  auto jt = it->second.find(Key(labels));
  return jt == it->second.end() ? 0 : jt->second;
}

std::string Metrics::Render() const {
  std::string out;
  auto help = [&](const std::string& name, const char* type) {
    auto it = help_.find(name);
    out += "# HELP " + name + " " + (it == help_.end() ? name : it->second) + "\n";
    out += "# TYPE " + name + " " + type + "\n";
  };
  MutexLock lock(mu_);
  for (const auto& [name, series] : counters_) {
    help(name, "counter");
    for (const auto& [labels, v] : series)
      out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
  }
  char num[64];
  for (const auto& [name, series] : histograms_) {
    help(name, "histogram");
    for (const auto& [labels, h] : series) {
      std::string sep = labels.empty() ? "" : labels + ",";
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        std::snprintf(num, sizeof num, "%g", kBuckets[i]);
        out += name + "_bucket{" + sep + "le=\"" + num + "\"} " + std::to_string(h.buckets[i]) + "\n";
      }
      out += name + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
      std::snprintf(num, sizeof num, "%.6f", h.sum);
      out += name + "_sum" + (labels.empty() ? "" : "{" + labels + "}") + " " + num + "\n";
      out += name + "_count" + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(h.count) + "\n";
    }
  }
  for (const auto& [name, h, read] : gauges_) {
    out += "# HELP " + name + " " + h + "\n# TYPE " + name + " gauge\n";
    // %.17g: exact for any integer a double holds (%g rounded counts above 10^6).
    std::snprintf(num, sizeof num, "%.17g", read());
    out += name + " " + num + "\n";
  }
  for (const auto& f : gauge_families_) {
    out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n";
    for (const auto& [value, gauge] : f.read()) {
      std::snprintf(num, sizeof num, "%.17g", gauge);
      out += f.name + "{" + Key({{f.label, value}}) + "} " + num + "\n";
    }
  }
  for (const auto& [name, h, read] : counter_funcs_) {
    out += "# HELP " + name + " " + h + "\n# TYPE " + name + " counter\n";
    out += name + " " + std::to_string(read()) + "\n";
  }
  return out;
}

}  // namespace verbatim::service
