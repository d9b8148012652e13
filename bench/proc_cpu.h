// CPU accounting from /proc for the bench load generators (loadgen, grpc_load, media_load):
// a watched process's CPU seconds, the whole machine's busy CPU seconds and our
// own, so that "cores used" = CPU seconds / wall seconds of a window.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace bench {

inline double CpuSecondsOf(int pid) {  // utime + stime of a process, from /proc/PID/stat
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  size_t p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::string cur;
  for (size_t i = p + 2; i < s.size(); ++i) {
    if (s[i] == ' ') {
      fields.push_back(cur);
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  if (fields.size() < 13) return 0;  // fields[11], [12] = utime, stime (fields 14, 15 of stat)
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

inline double BusyCpuSeconds() {  // whole machine: non-idle time of all cores, from /proc/stat
  std::ifstream f("/proc/stat");
  std::string cpu;
  double v[8] = {}, busy = 0;
  f >> cpu;
  for (double& x : v) f >> x;
  for (int i = 0; i < 8; ++i)
    if (i != 3 && i != 4) busy += v[i];  // all but idle and iowait
  return busy / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Seconds the process's threads spent runnable but waiting for a CPU (sum of
// /proc/PID/task/*/schedstat run delays; needs schedstats, else 0): how much a
// process was held back by others on its CPUs. pid 0 = this process.
inline double RunDelaySeconds(int pid) {
  const std::string dir = pid ? "/proc/" + std::to_string(pid) + "/task" : "/proc/self/task";
  double ns = 0;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream f(t.path() / "schedstat");
    double run = 0, delay = 0;
    if (f >> run >> delay) ns += delay;
  }
  return ns / 1e9;
}

inline double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds at one instant: the watched server's (0 when none is watched),
// this process's, and the whole machine's busy time.
struct CpuSample {
  double server = 0, self = 0, busy = 0;
};

inline CpuSample SampleCpu(int watch_pid) {
  return {watch_pid ? CpuSecondsOf(watch_pid) : 0, SelfCpuSeconds(), BusyCpuSeconds()};
}

// The cores a load window of `seconds` used, from its first and last sample:
// loadgen_cores and machine_busy_cores; with a watched server also
// server_cores and other_cores (CPU neither the server nor the loadgen used:
// other work on the box, noise).
inline void PutCores(boost::json::object& out, const CpuSample& from, const CpuSample& to, double seconds,
                     bool server_watched) {
  const double self = to.self - from.self, server = to.server - from.server;
  const double busy = (to.busy - from.busy) / seconds;
  out["loadgen_cores"] = self / seconds;
  out["machine_busy_cores"] = busy;
  if (!server_watched) return;
  out["server_cores"] = server / seconds;
  out["other_cores"] = std::max(0.0, busy - (server + self) / seconds);
}

}  // namespace bench
