// Prometheus metrics (text exposition format 0.0.4): labelled counters,
// latency histograms and gauges read from callbacks. Small and lock-based:
// one short critical section per observation.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"

namespace verbatim::service {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();
  void Inc(const std::string& name, const Labels& labels, uint64_t n = 1);
  void Observe(const std::string& name, const Labels& labels, double seconds);
  // A gauge whose value is read at scrape time.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> read);
  // Gauges with one label, all read by one callback at scrape time: {label value, gauge}.
  void AddGaugeFamily(const std::string& name, const std::string& help, const std::string& label,
                      std::function<std::vector<std::pair<std::string, double>>()> read);
  // A counter kept elsewhere (monotonic, name ends in _total), read at scrape time.
  void AddCounterFunc(const std::string& name, const std::string& help, std::function<uint64_t()> read);
  std::string Render() const;
  uint64_t CounterValue(const std::string& name, const Labels& labels) const;  // for tests

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  static std::string Key(const Labels& labels);

  std::map<std::string, std::string> help_;  // constant after construction
  struct GaugeFamily {
    std::string name, help, label;
    std::function<std::vector<std::pair<std::string, double>>()> read;
  };
  mutable Mutex mu_;
  std::map<std::string, std::map<std::string, uint64_t>> counters_ GUARDED_BY(mu_);     // name → labels → value
  std::map<std::string, std::map<std::string, Histogram>> histograms_ GUARDED_BY(mu_);  // name → labels → histogram
  std::vector<std::tuple<std::string, std::string, std::function<double()>>> gauges_ GUARDED_BY(mu_);
  std::vector<std::tuple<std::string, std::string, std::function<uint64_t()>>> counter_funcs_ GUARDED_BY(mu_);
  std::vector<GaugeFamily> gauge_families_ GUARDED_BY(mu_);
};

}  // namespace verbatim::service
