// CPU accounting from /proc for the bench load generators (loadgen, media_load):
// a watched process's CPU seconds, the whole machine's busy CPU seconds and our
// own, so that "cores used" = CPU seconds / wall seconds of a window.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

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

}  // namespace bench
