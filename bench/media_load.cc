// media_load: the SIPREC load generator and WAV checker of `make bench` (media figure).
//
//   media_load --sip HOST:PORT --calls N [--duration 5] [--http HOST:PORT] [--verify-dir DIR]
// (--http: where GET /metrics answers without a token, the server's --metrics-listen)
//              [--watch-pid PID] [--out FILE] [--setup-window 16] [--phases 20] [--rtp-sockets 16]
//              [--sip-timeout 8] [--max-late-ms 50] [--max-p99-late-ms 20]
//   media_load --verify-dir DIR [--out FILE]        (only check every segment WAV under DIR)
//
// Acts as N SIPREC clients (SRCs) against `verbatim serve` over UDP:
//   1. setup: at most --setup-window INVITE transactions in flight. Each INVITE
//      carries a real SIPREC body (multipart/mixed: an SDP offer with two
//      sendonly PCMU streams labelled 1 and 2, and RFC 7865 rs-metadata naming
//      the caller and the agent, plus a fresh conversationId so that the file is
//      <media>/<conversationId>/segment-1.wav), `Require: siprec`. Retransmitted
//      per RFC 3261 timer A (T1 = 500 ms, doubling) until a response; given up
//      after --sip-timeout (timer B, shortened). 2xx: the answer's m= ports, ACK.
//      Other finals: ACK, counted by status.
//   2. media: every established call streams both legs for --duration seconds:
//      RTP PCMU, 20 ms packets of 160 samples, caller 440 Hz and agent 880 Hz,
//      from one thread on an absolute schedule (slot k of a call at
//      t0 + phase + k × 20 ms, never relative to the previous send, so no drift).
//      Calls are spread over --phases sub-slots of the 20 ms (1 ms apart by
//      default) like independent sources; each sub-slot's packets go out with
//      sendmmsg(2) per socket. Lateness = send time − scheduled time, per batch.
//   3. teardown: BYE every call (same window, timer E retransmissions), wait for 200.
//   4. checks: GET /metrics before and after (RTP packets received, lost,
//      dropped), /proc/net/snmp and softnet drops, and with --verify-dir every
//      WAV this run produced: 2 channels, 8 kHz, duration between D − 20 ms and
//      the call's lifetime + 20 ms, and per channel, between its first and last
//      non-zero sample: no gap (a run of >= 80 zero samples, 10 ms), exactly the
//      samples that were sent (the µ-law round trip of the tone), the span of
//      the packets sent, and the right tone in every 100 ms block (Goertzel).
//
// --watch-pid: the server's CPU seconds (/proc/PID/stat) over the media window;
// server_cores = CPU seconds / wall seconds. The sender's own lateness decides
// whether a run is valid: if the schedule slipped (p99 > --max-p99-late-ms,
// one packet time by default, or max > --max-late-ms, a sixth of the
// recorder's 300 ms tolerance for late audio) the result says
// `sender_ok: false` and is not a capacity figure.
//
// Output: one JSON object on stdout or --out. Exit code 0 when the run is
// clean (every call up, sender on time, no loss, no gap), 3 when it is not, 1
// on usage errors, 2 when the server cannot be reached.
//
// The pieces: media_sip.h (the SRC: INVITE bodies, INVITE and BYE
// transactions), media_tones.h (the audio sent and expected back),
// media_wav_check.h (step 4's WAV checks), media_counters.h (/metrics and
// kernel counters), proc_cpu.h (CPU time), media_util.h (ids, addresses).
// This file holds the options, the RTP sender and its schedule, the run and
// its JSON.
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media_counters.h"
#include "media_sip.h"
#include "media_tones.h"
#include "media_util.h"
#include "media_wav_check.h"
#include "proc_cpu.h"

namespace bench {

namespace {

namespace json = boost::json;
using Nanos = std::chrono::nanoseconds;
using std::chrono::milliseconds;

struct Options {
  std::string sip_host = "127.0.0.1", http_host = "127.0.0.1", verify_dir, out_file;
  uint16_t sip_port = 0, http_port = 0;
  int calls = 0, watch_pid = 0, setup_window = 16, phases = 20, rtp_sockets = 16;
  double duration = 5, sip_timeout = 8, max_late_ms = 50, max_p99_late_ms = 20;
};

bool ParseHostPort(const std::string& s, std::string& host, uint16_t& port) {
  auto c = s.rfind(':');
  if (c == std::string::npos) return false;
  host = s.substr(0, c);
  int p = std::atoi(s.c_str() + c + 1);
  if (p <= 0 || p > 65535) return false;
  port = static_cast<uint16_t>(p);
  return true;
}

void SleepUntil(Clock::time_point t) {  // absolute: CLOCK_MONOTONIC is steady_clock's clock
  auto ns = t.time_since_epoch().count();
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// ------------------------------------------------------------------ RTP

struct RtpStream {
  sockaddr_in dst{};
  std::array<uint8_t, 12> header{};
  uint32_t ssrc = 0, ts0 = 0;
  uint16_t seq0 = 0;
  int tone = 0;
};

// The packets of one phase group that leave through one socket: reused every 20 ms.
struct Batch {
  int fd = -1;
  std::vector<RtpStream*> streams;
  std::vector<iovec> iov;      // 2 per message: header, payload
  std::vector<mmsghdr> msgs;
};

struct MediaResult {
  uint64_t packets_sent = 0, send_errors = 0, batches = 0, late_over_20ms = 0;
  std::vector<int64_t> lateness_ns;  // per sendmmsg batch
  double window_s = 0, server_cpu_s = 0, self_cpu_s = 0, busy_cpu_s = 0, server_wait_s = 0, self_wait_s = 0;
};

class RtpSender {
 public:
  ~RtpSender() {
    for (int fd : fds_) close(fd);
  }
  bool Open(int n) {
    for (int i = 0; i < n; ++i) {
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return false;
      int buf = 1 << 20;
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
      sockaddr_in local = Addr("127.0.0.1", 0);
      if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return false;
      socklen_t len = sizeof local;
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
      fds_.push_back(fd);
      ports_.push_back(ntohs(local.sin_port));
    }
    return true;
  }
  size_t size() const { return fds_.size(); }
  uint16_t port(size_t i) const { return ports_[i]; }

  // Streams both legs of every call in `up` for `packets` packet times on an
  // absolute schedule; reads the watched process's CPU time around the window.
  // `between` runs once per 20 ms (SIP housekeeping), off the send path.
  template <class F>
  MediaResult Run(const std::vector<Call*>& up, const std::string& host, int packets, int phases, int watch_pid,
                  const Tones& tones, F&& between) {
    MediaResult res;
    streams_.assign(up.size() * 2, RtpStream{});
    std::vector<std::vector<Batch>> groups(phases, std::vector<Batch>(fds_.size()));
    for (size_t j = 0; j < up.size(); ++j) {
      const Call& c = *up[j];
      for (int s = 0; s < 2; ++s) {
        RtpStream& st = streams_[2 * j + s];
        st.dst = Addr(host, c.rtp_port[s]);
        st.ssrc = static_cast<uint32_t>(Rng()());
        st.seq0 = static_cast<uint16_t>(Rng()());
        st.ts0 = static_cast<uint32_t>(Rng()());
        st.tone = s;
        st.header[0] = 0x80;  // V=2
        for (int b = 0; b < 4; ++b) st.header[8 + b] = static_cast<uint8_t>(st.ssrc >> (24 - 8 * b));
        const size_t sock = static_cast<size_t>(2 * c.index + s) % fds_.size();  // the port named in the offer
        groups[j % phases][sock].streams.push_back(&st);
      }
    }
    for (auto& g : groups)
      for (size_t s = 0; s < g.size(); ++s) {
        Batch& b = g[s];
        b.fd = fds_[s];
        b.iov.resize(b.streams.size() * 2);
        b.msgs.resize(b.streams.size());
        for (size_t m = 0; m < b.streams.size(); ++m) {
          b.iov[2 * m] = {b.streams[m]->header.data(), 12};
          b.iov[2 * m + 1] = {nullptr, kSamples};
          b.msgs[m] = {};
          b.msgs[m].msg_hdr.msg_name = &b.streams[m]->dst;
          b.msgs[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          b.msgs[m].msg_hdr.msg_iov = &b.iov[2 * m];
          b.msgs[m].msg_hdr.msg_iovlen = 2;
        }
      }
    res.lateness_ns.reserve(static_cast<size_t>(packets) * phases * fds_.size());
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake on time (default slack is 50 µs)

    const Nanos ptime = milliseconds(kPtimeMs), sub = ptime / phases;
    const double cpu0 = watch_pid ? bench::CpuSecondsOf(watch_pid) : 0, self0 = bench::SelfCpuSeconds(),
                 busy0 = bench::BusyCpuSeconds(), wait0 = watch_pid ? bench::RunDelaySeconds(watch_pid) : 0,
                 self_wait0 = bench::RunDelaySeconds(0);
    const auto w0 = Clock::now();
    const auto t0 = w0 + milliseconds(2);
    for (int k = 0; k < packets; ++k) {
      const uint16_t seq_off = static_cast<uint16_t>(k);
      const uint32_t ts_off = static_cast<uint32_t>(k) * kSamples;
      for (int g = 0; g < phases; ++g) {
        const auto at = t0 + ptime * k + sub * g;
        SleepUntil(at);
        for (Batch& b : groups[g]) {
          if (b.msgs.empty()) continue;
          for (size_t m = 0; m < b.streams.size(); ++m) {
            RtpStream& st = *b.streams[m];
            const uint16_t seq = static_cast<uint16_t>(st.seq0 + seq_off);
            const uint32_t ts = st.ts0 + ts_off;
            st.header[1] = k == 0 ? 0x80 : 0x00;  // marker on the first packet, payload type 0 (PCMU)
            st.header[2] = static_cast<uint8_t>(seq >> 8);
            st.header[3] = static_cast<uint8_t>(seq);
            st.header[4] = static_cast<uint8_t>(ts >> 24);
            st.header[5] = static_cast<uint8_t>(ts >> 16);
            st.header[6] = static_cast<uint8_t>(ts >> 8);
            st.header[7] = static_cast<uint8_t>(ts);
            b.iov[2 * m + 1].iov_base = const_cast<uint8_t*>(tones.payload[st.tone][k % kCyclePackets].data());
          }
          for (size_t off = 0; off < b.msgs.size();) {
            const int64_t late = (Clock::now() - at).count();
            res.lateness_ns.push_back(late);
            if (late > 20'000'000) ++res.late_over_20ms;
            ++res.batches;
            const unsigned n = static_cast<unsigned>(std::min<size_t>(1024, b.msgs.size() - off));
            int sent = sendmmsg(b.fd, b.msgs.data() + off, n, 0);
            if (sent <= 0) {  // count the message as lost and go on with the next one
              ++res.send_errors;
              ++off;
              continue;
            }
            res.packets_sent += static_cast<uint64_t>(sent);
            off += static_cast<size_t>(sent);
          }
        }
        if (g == 0) between();
      }
    }
    // One more packet time, so the server has received what was sent last.
    SleepUntil(t0 + ptime * packets + ptime);
    const auto w1 = Clock::now();
    res.window_s = std::chrono::duration<double>(w1 - w0).count();
    res.server_cpu_s = watch_pid ? bench::CpuSecondsOf(watch_pid) - cpu0 : 0;
    res.self_cpu_s = bench::SelfCpuSeconds() - self0;
    res.busy_cpu_s = bench::BusyCpuSeconds() - busy0;
    res.server_wait_s = watch_pid ? bench::RunDelaySeconds(watch_pid) - wait0 : 0;
    res.self_wait_s = bench::RunDelaySeconds(0) - self_wait0;
    return res;
  }

 private:
  std::vector<int> fds_;
  std::vector<uint16_t> ports_;
  std::vector<RtpStream> streams_;
};

// ------------------------------------------------------------------ main

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--sip") {
      if (!ParseHostPort(next(), o.sip_host, o.sip_port)) return false;
    } else if (a == "--http") {
      if (!ParseHostPort(next(), o.http_host, o.http_port)) return false;
    } else if (a == "--calls") o.calls = std::stoi(next());
    else if (a == "--duration") o.duration = std::stod(next());
    else if (a == "--verify-dir") o.verify_dir = next();
    else if (a == "--watch-pid") o.watch_pid = std::stoi(next());
    else if (a == "--out") o.out_file = next();
    else if (a == "--setup-window") o.setup_window = std::stoi(next());
    else if (a == "--phases") o.phases = std::stoi(next());
    else if (a == "--rtp-sockets") o.rtp_sockets = std::stoi(next());
    else if (a == "--sip-timeout") o.sip_timeout = std::stod(next());
    else if (a == "--max-late-ms") o.max_late_ms = std::stod(next());
    else if (a == "--max-p99-late-ms") o.max_p99_late_ms = std::stod(next());
    else return false;
  }
  if (o.sip_port == 0) return !o.verify_dir.empty();  // verify-only mode
  return o.calls > 0 && o.duration > 0 && o.setup_window > 0 && o.phases > 0 && o.phases <= 20 && o.rtp_sockets > 0;
}

void Emit(const Options& o, const json::object& out) {
  const std::string text = json::serialize(out);
  if (o.out_file.empty()) std::cout << text << "\n";
  else std::ofstream(o.out_file) << text << "\n";
}

json::object Counts(const std::map<std::string, uint64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::cerr << "usage: media_load --sip HOST:PORT --calls N [--duration S] [--http HOST:PORT] [--verify-dir DIR]\n"
                 "                  [--watch-pid PID] [--out FILE] [--setup-window 16] [--phases 20 (<= 20)]\n"
                 "                  [--rtp-sockets 16] [--sip-timeout 8] [--max-late-ms 50] [--max-p99-late-ms 20]\n"
                 "       media_load --verify-dir DIR [--out FILE]\n";
    return 1;
  }
  const Tones tones;

  if (o.sip_port == 0) {  // only check the WAVs under DIR
    VerifyTotals v = VerifyAll(o.verify_dir, tones);
    json::object out;
    out["mode"] = "verify";
    out["verify"] = v.ToJson();
    out["ok"] = VerifyClean(v);
    Emit(o, out);
    return VerifyClean(v) ? 0 : 3;
  }

  SipClient sip;
  if (!sip.Open(o.sip_host, o.sip_port)) {
    std::cerr << "media_load: cannot open a SIP socket to " << o.sip_host << ":" << o.sip_port << "\n";
    return 2;
  }
  RtpSender rtp;
  if (!rtp.Open(std::min(o.rtp_sockets, 2 * o.calls))) {
    std::cerr << "media_load: cannot open RTP sockets\n";
    return 2;
  }
  const int packets = std::max(1, static_cast<int>(std::lround(o.duration * 1000 / kPtimeMs)));

  std::optional<std::map<std::string, double>> m0;
  if (o.http_port) {
    m0 = FetchMetrics(o.http_host, o.http_port);
    if (!m0) std::cerr << "media_load: GET /metrics failed on " << o.http_host << ":" << o.http_port << "\n";
  }
  const KernelCounters k0 = ReadKernelCounters();

  const std::string run = Hex(4);
  std::vector<Call> calls(static_cast<size_t>(o.calls));
  std::vector<int> all;
  for (int i = 0; i < o.calls; ++i) {
    Call& c = calls[i];
    c.index = i;
    c.call_id = std::to_string(i) + "." + run + "@media-load";
    c.from_tag = Hex(4);
    c.conv_id = Uuid4();
    c.request_uri = "sip:srs@" + sip.server();
    for (int s = 0; s < 2; ++s) c.src_port[s] = rtp.port(static_cast<size_t>(2 * i + s) % rtp.size());
    c.invite = SiprecInvite(sip, c);
    all.push_back(i);
  }

  // 1. setup
  Signaling sig(sip, calls, o.setup_window, o.sip_timeout);
  const double setup_cpu0 = o.watch_pid ? bench::CpuSecondsOf(o.watch_pid) : 0;
  const auto s0 = Clock::now();
  sig.Run(all, true);
  const double setup_s = std::chrono::duration<double>(Clock::now() - s0).count();
  const double setup_cpu = o.watch_pid ? bench::CpuSecondsOf(o.watch_pid) - setup_cpu0 : 0;
  std::vector<Call*> up;
  for (Call& c : calls)
    if (c.state == CallState::kUp) up.push_back(&c);

  // 2. media
  MediaResult media;
  if (!up.empty())
    media = rtp.Run(up, o.sip_host, packets, o.phases, o.watch_pid, tones,
                    [&] { sip.Drain([&](std::string_view raw) { sig.OnMessage(raw); }); });

  // 3. teardown: every dialog the server created (also answered-but-unusable ones)
  std::vector<int> byes;
  for (Call& c : calls)
    if (c.state == CallState::kUp || (c.state == CallState::kFailed && c.invite_status >= 200 && c.invite_status < 300))
      byes.push_back(c.index);
  const double bye_cpu0 = o.watch_pid ? bench::CpuSecondsOf(o.watch_pid) : 0;
  const auto b0 = Clock::now();
  sig.Run(byes, false);
  const double teardown_s = std::chrono::duration<double>(Clock::now() - b0).count();
  const double bye_cpu = o.watch_pid ? bench::CpuSecondsOf(o.watch_pid) - bye_cpu0 : 0;

  // 4. counters and files
  std::optional<std::map<std::string, double>> m1;
  if (o.http_port) m1 = FetchMetrics(o.http_host, o.http_port);
  const KernelCounters k1 = ReadKernelCounters();
  std::optional<VerifyTotals> verify;
  if (!o.verify_dir.empty()) verify = VerifyRun(o.verify_dir, calls, packets, tones);

  // ---- results
  std::vector<std::string> problems;
  json::object out;
  out["calls_requested"] = o.calls;
  out["calls_established"] = up.size();
  out["streams"] = 2 * up.size();
  out["setup_failures"] = Counts(sig.invite_failures);
  out["setup_s"] = setup_s;
  out["setup_calls_per_s"] = setup_s > 0 ? static_cast<double>(o.calls) / setup_s : 0.0;
  if (o.watch_pid) out["setup_server_cpu_ms_per_call"] = setup_cpu * 1000 / o.calls;
  out["invite_retransmissions"] = sig.invite_retransmissions;
  if (up.size() != static_cast<size_t>(o.calls))
    problems.push_back(std::to_string(o.calls - up.size()) + " calls not established");

  out["duration_s"] = o.duration;
  out["packets_per_stream"] = packets;
  out["packets_sent"] = media.packets_sent;
  out["packets_expected"] = static_cast<uint64_t>(up.size()) * 2 * packets;
  out["send_errors"] = media.send_errors;
  if (media.send_errors) problems.push_back(std::to_string(media.send_errors) + " RTP send errors");
  out["media_window_s"] = media.window_s;
  out["phases"] = o.phases;
  out["rtp_sockets"] = rtp.size();
  std::vector<int64_t> late = media.lateness_ns;
  std::sort(late.begin(), late.end());
  auto pct = [&](double p) {
    if (late.empty()) return 0.0;
    return static_cast<double>(late[std::min(late.size() - 1, static_cast<size_t>(p * static_cast<double>(late.size())))]) / 1e6;
  };
  const double p99 = pct(0.99), late_max = late.empty() ? 0.0 : static_cast<double>(late.back()) / 1e6;
  out["lateness_ms"] = {{"p50", pct(0.50)}, {"p99", p99}, {"max", late_max}, {"batches", media.batches},
                        {"over_20ms", media.late_over_20ms}};
  const bool sender_ok = late_max <= o.max_late_ms && p99 <= o.max_p99_late_ms;  // (vacuously true without calls)
  out["sender_ok"] = sender_ok;
  if (!sender_ok) {
    std::string why = "INVALID: the sender fell behind its schedule (lateness p99 " + std::to_string(p99) + " ms, max " +
                      std::to_string(late_max) + " ms; limits " + std::to_string(o.max_p99_late_ms) + " / " +
                      std::to_string(o.max_late_ms) + " ms): not a server figure";
    out["sender_note"] = why;
    problems.push_back(why);
  }
  if (o.watch_pid && media.window_s > 0) {
    out["server_cores"] = media.server_cpu_s / media.window_s;
    out["other_cores"] = std::max(0.0, (media.busy_cpu_s - media.server_cpu_s - media.self_cpu_s) / media.window_s);
    // Runnable but not running (summed over its threads): CPU the server wanted and someone
    // else had: other processes, or (pinned to one CPU) its own other threads.
    out["server_wait_cores"] = media.server_wait_s / media.window_s;
    if (media.packets_sent) out["server_cpu_us_per_packet"] = media.server_cpu_s * 1e6 / static_cast<double>(media.packets_sent);
  }
  if (media.window_s > 0) out["loadgen_wait_cores"] = media.self_wait_s / media.window_s;
  if (media.window_s > 0) {
    out["loadgen_cores"] = media.self_cpu_s / media.window_s;
    out["machine_busy_cores"] = media.busy_cpu_s / media.window_s;
  }

  out["teardown_s"] = teardown_s;
  if (o.watch_pid && !byes.empty()) out["teardown_server_cpu_ms_per_call"] = bye_cpu * 1000 / static_cast<double>(byes.size());
  out["bye_failures"] = Counts(sig.bye_failures);
  out["bye_retransmissions"] = sig.bye_retransmissions;
  out["stray_sip_messages"] = sig.stray;
  uint64_t bye_bad = 0;
  for (const auto& [k, v] : sig.bye_failures) bye_bad += v;
  if (bye_bad) problems.push_back(std::to_string(bye_bad) + " BYEs failed");

  json::object metrics;
  metrics["available"] = m0.has_value() && m1.has_value();
  if (m0 && m1) {
    auto delta = [&](const char* name) { return (*m1)[name] - (*m0)[name]; };
    const double received = delta("verbatim_rtp_packets_received_total"), lost = delta("verbatim_rtp_packets_lost_total"),
                 dropped = delta("verbatim_rtp_packets_dropped_total");
    // The server prints gauges with %g: 6 significant digits, so a counter
    // past 10^6 is rounded (to 10 below 10^7). The difference is exact only
    // within that resolution; the WAV checks are exact per packet.
    auto resolution = [](double v) { return v < 1e6 ? 0.0 : 0.5 * std::pow(10.0, std::floor(std::log10(v)) - 5); };
    const char* kReceived = "verbatim_rtp_packets_received_total";
    const double tolerance = resolution((*m0)[kReceived]) + resolution((*m1)[kReceived]);
    const bool equal = std::fabs(received - static_cast<double>(media.packets_sent)) <= tolerance;
    metrics["rtp_received"] = received;
    metrics["rtp_lost"] = lost;
    metrics["rtp_dropped"] = dropped;
    metrics["received_equals_sent"] = equal;
    metrics["resolution"] = tolerance;
    if (lost != 0) problems.push_back("server counted " + std::to_string(static_cast<int64_t>(lost)) + " RTP packets lost");
    if (!equal)
      problems.push_back("server received " + std::to_string(static_cast<int64_t>(received)) + " RTP packets, " +
                         std::to_string(media.packets_sent) + " sent");
  } else if (o.http_port) {
    problems.push_back("GET /metrics failed");
  }
  out["metrics"] = std::move(metrics);
  out["kernel"] = {{"udp_rcvbuf_errors", k1.udp_rcvbuf_errors - k0.udp_rcvbuf_errors},
                   {"udp_in_errors", k1.udp_in_errors - k0.udp_in_errors},
                   {"softnet_dropped", k1.softnet_dropped - k0.softnet_dropped},
                   {"note", "machine-wide deltas over the whole run"}};
  uint64_t gaps = 0;
  if (verify) {
    out["verify"] = verify->ToJson();
    gaps = verify->gaps;
    if (!VerifyClean(*verify))
      problems.push_back("recordings: " + std::to_string(verify->expected - verify->ok) + " of " +
                         std::to_string(verify->expected) + " not clean (" + std::to_string(verify->gaps) + " gaps)");
  }
  out["gaps"] = gaps;
  json::array pr;
  for (const auto& p : problems) pr.push_back(json::value(p));
  out["problems"] = std::move(pr);
  out["ok"] = problems.empty();
  Emit(o, out);
  return problems.empty() ? 0 : 3;
}

}  // namespace

}  // namespace bench

int main(int argc, char** argv) { return bench::Main(argc, argv); }
