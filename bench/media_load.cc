// media_load: the SIPREC load generator and WAV checker of `make bench` (media figure).
//
//   media_load --sip HOST:PORT --calls N [--duration 5] [--http HOST:PORT] [--verify-dir DIR]
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proc_cpu.h"

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;
using std::chrono::milliseconds;

namespace {

constexpr int kRate = 8000;
constexpr int kPtimeMs = 20;
constexpr int kSamples = 160;          // per packet
constexpr int kCyclePackets = 5;       // 440 and 880 Hz repeat every 800 samples = 5 packets
constexpr int kCycleSamples = kCyclePackets * kSamples;
constexpr double kAmplitude = 8000;    // with this phase no sample of either tone is (or encodes to) zero,
constexpr double kPhase = 0.3;         // so a zero in the file is always silence (as tests/e2e/lib/rtp_sender.mjs)
constexpr int kFreqs[2] = {440, 880};  // channel 0 caller, channel 1 agent
constexpr int kGapSamples = 80;        // 10 ms of digital silence inside the audio = a gap
constexpr auto kT1 = milliseconds(500);
constexpr auto kT2 = milliseconds(4000);

struct Options {
  std::string sip_host = "127.0.0.1", http_host = "127.0.0.1", verify_dir, out_file;
  uint16_t sip_port = 0, http_port = 0;
  int calls = 0, watch_pid = 0, setup_window = 16, phases = 20, rtp_sockets = 16;
  double duration = 5, sip_timeout = 8, max_late_ms = 50, max_p99_late_ms = 20;
};

// ------------------------------------------------------------------ G.711 µ-law and the tones

uint8_t LinearToUlaw(int sample) {  // ITU-T G.711, as rtp_sender.mjs
  constexpr int kBias = 0x84, kClip = 32635;
  int s = std::clamp(sample, -32768, 32767);
  int sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > kClip) s = kClip;
  s += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (s & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  int mantissa = (s >> (exponent + 3)) & 0x0f;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa) & 0xff);
}

int16_t UlawToLinear(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  int sign = u & 0x80, exponent = (u >> 4) & 0x07, mantissa = u & 0x0f;
  int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>(sign ? -magnitude : magnitude);
}

struct Tones {
  // payload[tone][packet % 5]: what is sent; expected[tone][sample % 800]: what the file must hold.
  std::array<std::array<std::array<uint8_t, kSamples>, kCyclePackets>, 2> payload{};
  std::array<std::array<int16_t, kCycleSamples>, 2> expected{};
  Tones() {
    for (int t = 0; t < 2; ++t)
      for (int n = 0; n < kCycleSamples; ++n) {
        double v = kAmplitude * std::sin(2 * M_PI * kFreqs[t] * n / kRate + kPhase);
        uint8_t u = LinearToUlaw(static_cast<int>(std::lround(v)));
        payload[t][n / kSamples][n % kSamples] = u;
        expected[t][n] = UlawToLinear(u);
        if (expected[t][n] == 0) {
          std::cerr << "media_load: tone sample " << n << " decodes to zero\n";
          std::abort();
        }
      }
  }
};

// ------------------------------------------------------------------ small helpers

std::mt19937_64& Rng() {
  static std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string Hex(size_t bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(Rng()() & 0xff);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string Uuid4() {
  std::string h = Hex(16);
  h[12] = '4';
  h[16] = "89ab"[Rng()() & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string Base64Random(size_t bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> b(bytes);
  for (auto& x : b) x = static_cast<uint8_t>(Rng()() & 0xff);
  std::string out;
  for (size_t i = 0; i + 2 < b.size(); i += 3) {
    uint32_t v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  return out;  // callers use multiples of 3 bytes
}

bool ParseHostPort(const std::string& s, std::string& host, uint16_t& port) {
  auto c = s.rfind(':');
  if (c == std::string::npos) return false;
  host = s.substr(0, c);
  int p = std::atoi(s.c_str() + c + 1);
  if (p <= 0 || p > 65535) return false;
  port = static_cast<uint16_t>(p);
  return true;
}

sockaddr_in Addr(const std::string& host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  return a;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void SleepUntil(Clock::time_point t) {  // absolute: CLOCK_MONOTONIC is steady_clock's clock
  auto ns = t.time_since_epoch().count();
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// ------------------------------------------------------------------ SIP

struct SipResponse {
  int status = 0;
  std::string_view call_id, cseq_method, to, contact, body;
};

// A response's status, Call-ID, CSeq method, To, Contact and body; false if it is not a response.
bool ParseResponse(std::string_view raw, SipResponse& r) {
  if (raw.substr(0, 8) != "SIP/2.0 " || raw.size() < 12) return false;
  r.status = std::atoi(std::string(raw.substr(8, 3)).c_str());
  size_t head_end = raw.find("\r\n\r\n");
  std::string_view head = raw.substr(0, head_end == std::string_view::npos ? raw.size() : head_end);
  r.body = head_end == std::string_view::npos ? std::string_view() : raw.substr(head_end + 4);
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    size_t start = pos + 2, eol = head.find("\r\n", start);
    std::string_view line = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    pos = eol;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Call-ID") || IEquals(name, "i")) r.call_id = value;
    else if (IEquals(name, "To") || IEquals(name, "t")) r.to = value;
    else if (IEquals(name, "Contact") || IEquals(name, "m")) r.contact = value;
    else if (IEquals(name, "CSeq")) {
      size_t sp = value.find(' ');
      if (sp != std::string_view::npos) r.cseq_method = Trim(value.substr(sp + 1));
    }
  }
  return r.status >= 100 && r.status < 700;
}

std::string TagOf(std::string_view to) {
  size_t p = to.find(";tag=");
  if (p == std::string_view::npos) return {};
  std::string_view t = to.substr(p + 5);
  size_t end = t.find_first_of(";> \t");
  return std::string(t.substr(0, end));
}

std::vector<uint16_t> AnswerPorts(std::string_view sdp) {
  std::vector<uint16_t> ports;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t eol = sdp.find('\n', pos);
    std::string_view line = sdp.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.substr(0, 8) == "m=audio ") ports.push_back(static_cast<uint16_t>(std::atoi(std::string(line.substr(8)).c_str())));
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return ports;
}

enum class CallState { kNew, kInviting, kUp, kFailed, kByeing, kDone, kByeFailed };

struct Call {
  int index = 0;
  std::string call_id, from_tag, to_tag, conv_id, request_uri, remote_target, invite_branch, invite, ack;
  CallState state = CallState::kNew;
  int invite_status = 0, bye_status = 0;  // final statuses; -1 = no answer in time
  uint16_t rtp_port[2] = {0, 0};          // the server's, from its SDP answer
  uint16_t src_port[2] = {0, 0};          // ours, in the offer
  Clock::time_point t_invite, t_up, t_bye, t_done;
};

class SipClient {
 public:
  bool Open(const std::string& host, uint16_t port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    int buf = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    sockaddr_in local = Addr("127.0.0.1", 0);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return false;
    sockaddr_in server = Addr(host, port);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) return false;
    socklen_t len = sizeof local;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    local_port_ = ntohs(local.sin_port);
    server_ = host + ":" + std::to_string(port);
    return true;
  }
  ~SipClient() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }
  uint16_t local_port() const { return local_port_; }
  const std::string& server() const { return server_; }
  void Send(const std::string& bytes) {
    if (send(fd_, bytes.data(), bytes.size(), 0) < 0) ++send_errors;
  }
  // Every datagram waiting on the socket, to `f(std::string_view)`.
  template <class F>
  void Drain(F&& f) {
    for (;;) {
      ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
      if (n < 0) return;  // EAGAIN (or ECONNREFUSED from an earlier send: nothing to read)
      f(std::string_view(buf_.data(), static_cast<size_t>(n)));
    }
  }
  uint64_t send_errors = 0;

 private:
  int fd_ = -1;
  uint16_t local_port_ = 0;
  std::string server_;
  std::array<char, 65536> buf_;
};

std::string Request(const SipClient& sip, std::string_view method, const std::string& uri, const Call& c,
                    std::string_view branch, int cseq, bool with_to_tag, std::string_view extra_headers = {},
                    std::string_view body = {}) {
  std::string lp = std::to_string(sip.local_port());
  std::string m;
  m.reserve(600 + body.size());
  m.append(method).append(" ").append(uri).append(" SIP/2.0\r\n");
  m.append("Via: SIP/2.0/UDP 127.0.0.1:").append(lp).append(";branch=").append(branch).append(";rport\r\n");
  m.append("Max-Forwards: 70\r\n");
  m.append("From: \"SRC\" <sip:src@127.0.0.1:").append(lp).append(">;tag=").append(c.from_tag).append("\r\n");
  m.append("To: <sip:srs@").append(sip.server()).append(">");
  if (with_to_tag && !c.to_tag.empty()) m.append(";tag=").append(c.to_tag);
  m.append("\r\nCall-ID: ").append(c.call_id).append("\r\n");
  m.append("CSeq: ").append(std::to_string(cseq)).append(" ").append(method).append("\r\n");
  m.append("Contact: <sip:src@127.0.0.1:").append(lp).append(";transport=udp>;+sip.src\r\n");
  m.append(extra_headers);
  m.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  m.append(body);
  return m;
}

// The SIPREC INVITE: an SDP offer (two sendonly PCMU streams, labels 1 and 2)
// and RFC 7865 metadata (caller and agent, each sending one stream; the
// conversationId makes the recording's path known), as
// tests/e2e/lib/sip_client.mjs builds them.
std::string SiprecInvite(const SipClient& sip, Call& c) {
  const std::string boundary = "media-load-" + Hex(6);
  std::string sdp = "v=0\r\no=SRC 2890844526 1 IN IP4 127.0.0.1\r\ns=SIPREC\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
  for (int s = 0; s < 2; ++s) {
    sdp += "m=audio " + std::to_string(c.src_port[s]) + " RTP/AVP 0 101\r\n";
    sdp += "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n";
    sdp += "a=sendonly\r\na=label:" + std::to_string(s + 1) + "\r\n";
  }
  const std::string session = Base64Random(12), streams[2] = {Base64Random(12), Base64Random(12)},
                    parts[2] = {Base64Random(12), Base64Random(12)};
  const std::string names[2] = {"Caller " + std::to_string(c.index), "Agent " + std::to_string(c.index)};
  const std::string aors[2] = {"sip:caller-" + std::to_string(c.index) + "@example.com",
                               "sip:agent-" + std::to_string(c.index) + "@example.com"};
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\r\n";
  xml += "  <datamode>complete</datamode>\r\n  <conversationId>" + c.conv_id + "</conversationId>\r\n";
  xml += "  <session session_id=\"" + session + "\">\r\n    <sipSessionID>" + Hex(16) + "</sipSessionID>\r\n  </session>\r\n";
  for (int s = 0; s < 2; ++s)
    xml += "  <participant participant_id=\"" + parts[s] + "\">\r\n    <nameID aor=\"" + aors[s] +
           "\">\r\n      <name xml:lang=\"en\">" + names[s] + "</name>\r\n    </nameID>\r\n  </participant>\r\n";
  for (int s = 0; s < 2; ++s)
    xml += "  <stream stream_id=\"" + streams[s] + "\" session_id=\"" + session + "\">\r\n    <label>" +
           std::to_string(s + 1) + "</label>\r\n  </stream>\r\n";
  for (int s = 0; s < 2; ++s)
    xml += "  <participantstreamassoc participant_id=\"" + parts[s] + "\">\r\n    <send>" + streams[s] +
           "</send>\r\n    <recv>" + streams[1 - s] + "</recv>\r\n  </participantstreamassoc>\r\n";
  xml += "</recording>\r\n";
  std::string body = "--" + boundary + "\r\nContent-Type: application/sdp\r\n\r\n" + sdp;
  body += "--" + boundary +
          "\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n" + xml;
  body += "--" + boundary + "--\r\n";
  c.invite_branch = "z9hG4bK" + Hex(8);
  std::string headers = "Require: siprec\r\nAccept: application/sdp, application/rs-metadata\r\n"
                        "Content-Type: multipart/mixed;boundary=" + boundary + "\r\n";
  return Request(sip, "INVITE", c.request_uri, c, c.invite_branch, 1, false, headers, body);
}

// INVITE and BYE client transactions (RFC 3261 §17.1) for many calls at once,
// over one UDP socket; responses are matched by Call-ID and CSeq method.
class Signaling {
 public:
  Signaling(SipClient& sip, std::vector<Call>& calls, const Options& o) : sip_(sip), calls_(calls), o_(o) {}

  // Runs the INVITE (or BYE) transaction of every call in `todo`, at most
  // --setup-window at once; returns when each has a final response or timed out.
  void Run(const std::vector<int>& todo, bool invite) {
    std::deque<int> queue(todo.begin(), todo.end());
    const auto timeout = Nanos(static_cast<int64_t>(o_.sip_timeout * 1e9));
    while (!queue.empty() || !inflight_.empty()) {
      auto now = Clock::now();
      while (inflight_.size() < static_cast<size_t>(o_.setup_window) && !queue.empty()) {
        Call& c = calls_[queue.front()];
        queue.pop_front();
        Tx tx;
        tx.invite = invite;
        if (invite) {
          tx.wire = c.invite;
          c.state = CallState::kInviting;
          c.t_invite = now;
        } else {
          tx.wire = Request(sip_, "BYE", c.remote_target, c, "z9hG4bK" + Hex(8), 2, true);
          c.state = CallState::kByeing;
          c.t_bye = now;
        }
        tx.interval = kT1;
        tx.next = now + kT1;
        tx.deadline = now + timeout;
        sip_.Send(tx.wire);
        inflight_.emplace(c.index, std::move(tx));
      }
      auto wake = now + milliseconds(100);
      for (auto& [i, tx] : inflight_) wake = std::min({wake, tx.deadline, tx.proceeding ? tx.deadline : tx.next});
      pollfd p{sip_.fd(), POLLIN, 0};
      auto wait_ms = std::chrono::duration_cast<milliseconds>(wake - now).count();
      poll(&p, 1, static_cast<int>(std::clamp<int64_t>(wait_ms + 1, 0, 100)));
      sip_.Drain([this](std::string_view raw) { OnMessage(raw); });
      now = Clock::now();
      for (auto it = inflight_.begin(); it != inflight_.end();) {
        Tx& tx = it->second;
        Call& c = calls_[it->first];
        if (now >= tx.deadline) {  // timer B / F (shortened to --sip-timeout)
          if (tx.invite) {
            c.invite_status = -1;
            c.state = CallState::kFailed;
            ++invite_failures["timeout"];
          } else {
            c.bye_status = -1;
            c.state = CallState::kByeFailed;
            ++bye_failures["timeout"];
          }
          it = inflight_.erase(it);
          continue;
        }
        if (!tx.proceeding && now >= tx.next) {  // timer A (INVITE, doubling) / E (non-INVITE, capped at T2)
          sip_.Send(tx.wire);
          ++(tx.invite ? invite_retransmissions : bye_retransmissions);
          tx.interval = tx.invite ? tx.interval * 2 : std::min<Nanos>(tx.interval * 2, kT2);
          tx.next = now + tx.interval;
        }
        ++it;
      }
    }
  }

  // One datagram from the server.
  void OnMessage(std::string_view raw) {
    SipResponse r;
    if (!ParseResponse(raw, r)) {
      ++stray;  // a request (we expect none) or junk
      return;
    }
    int idx = std::atoi(std::string(r.call_id.substr(0, r.call_id.find('.'))).c_str());
    if (idx < 0 || static_cast<size_t>(idx) >= calls_.size() || calls_[idx].call_id != r.call_id) {
      ++stray;
      return;
    }
    Call& c = calls_[idx];
    auto it = inflight_.find(idx);
    const auto now = Clock::now();
    if (r.cseq_method == "INVITE") {
      if (it == inflight_.end() || !it->second.invite) {
        if (r.status >= 200 && r.status < 300 && !c.ack.empty()) {  // a 2xx retransmission: our ACK was lost
          sip_.Send(c.ack);
          ++acks_resent;
        }
        return;
      }
      if (r.status < 200) {
        it->second.proceeding = true;  // Proceeding: no more retransmissions, timer B still runs
        return;
      }
      inflight_.erase(it);
      c.invite_status = r.status;
      c.to_tag = TagOf(r.to);
      if (r.status >= 300) {  // the ACK of a non-2xx is part of the INVITE transaction: same branch
        sip_.Send(Request(sip_, "ACK", c.request_uri, c, c.invite_branch, 1, true));
        c.state = CallState::kFailed;
        ++invite_failures[std::to_string(r.status)];
        return;
      }
      std::string_view contact = r.contact;
      auto lt = contact.find('<'), gt = contact.find('>');
      c.remote_target = lt != std::string_view::npos && gt > lt ? std::string(contact.substr(lt + 1, gt - lt - 1)) : c.request_uri;
      c.ack = Request(sip_, "ACK", c.remote_target, c, "z9hG4bK" + Hex(8), 1, true);
      sip_.Send(c.ack);
      auto ports = AnswerPorts(r.body);
      if (ports.size() < 2 || ports[0] == 0 || ports[1] == 0) {
        c.state = CallState::kFailed;  // answered, but not both streams: counted, and hung up below
        ++invite_failures["200-without-2-streams"];
        return;
      }
      c.rtp_port[0] = ports[0];
      c.rtp_port[1] = ports[1];
      c.state = CallState::kUp;
      c.t_up = now;
    } else if (r.cseq_method == "BYE") {
      if (it == inflight_.end() || it->second.invite || r.status < 200) return;
      inflight_.erase(it);
      c.bye_status = r.status;
      c.t_done = now;
      if (r.status < 300) {
        c.state = CallState::kDone;
      } else {
        c.state = CallState::kByeFailed;
        ++bye_failures[std::to_string(r.status)];
      }
    } else {
      ++stray;
    }
  }

  std::map<std::string, uint64_t> invite_failures, bye_failures;
  uint64_t invite_retransmissions = 0, bye_retransmissions = 0, acks_resent = 0, stray = 0;

 private:
  struct Tx {
    bool invite = true;
    bool proceeding = false;
    std::string wire;
    Clock::time_point next, deadline;
    Nanos interval{0};
  };
  SipClient& sip_;
  std::vector<Call>& calls_;
  const Options& o_;
  std::unordered_map<int, Tx> inflight_;
};

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

// ------------------------------------------------------------------ /metrics and kernel counters

// GET /metrics (public): { name: sum over label sets }; nullopt if unreachable.
std::optional<std::map<std::string, double>> FetchMetrics(const std::string& host, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a = Addr(host, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return std::nullopt;
  }
  std::string req = "GET /metrics HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return std::nullopt;
  }
  std::string resp;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (resp.rfind("HTTP/1.1 200", 0) != 0) return std::nullopt;
  size_t body = resp.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  std::map<std::string, double> out;
  std::istringstream in(resp.substr(body + 4));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos) continue;
    std::string name = line.substr(0, name_end);
    size_t value_at = line.rfind(' ');
    if (line[name_end] == '{') {
      size_t close_brace = line.find('}', name_end);
      if (close_brace == std::string::npos) continue;
      value_at = line.find(' ', close_brace);
    }
    if (value_at == std::string::npos) continue;
    out[name] += std::strtod(line.c_str() + value_at + 1, nullptr);
  }
  return out;
}

struct KernelCounters {
  double udp_rcvbuf_errors = 0, udp_in_errors = 0, softnet_dropped = 0;
};

KernelCounters ReadKernelCounters() {  // machine-wide: other processes' UDP counts too
  KernelCounters k;
  std::ifstream snmp("/proc/net/snmp");
  std::string names, values;
  while (std::getline(snmp, names) && std::getline(snmp, values)) {
    if (names.rfind("Udp:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    while (n >> name && v >> value) {
      if (name == "RcvbufErrors") k.udp_rcvbuf_errors = std::stod(value);
      if (name == "InErrors") k.udp_in_errors = std::stod(value);
    }
    break;
  }
  std::ifstream softnet("/proc/net/softnet_stat");
  std::string line;
  while (std::getline(softnet, line)) {
    std::istringstream f(line);
    std::string processed, dropped;
    if (f >> processed >> dropped) k.softnet_dropped += static_cast<double>(std::stoul(dropped, nullptr, 16));
  }
  return k;
}

// ------------------------------------------------------------------ WAV checks

struct Wav {
  int channels = 0, rate = 0, bits = 0, format = 0;
  std::vector<int16_t> samples;  // interleaved
  uint64_t frames() const { return channels > 0 ? samples.size() / static_cast<size_t>(channels) : 0; }
};

std::optional<std::string> ReadWav(const fs::path& path, Wav& w) {  // error text, or nullopt when fine
  std::ifstream f(path, std::ios::binary);
  if (!f) return "cannot open";
  std::string b((std::istreambuf_iterator<char>(f)), {});
  auto u32 = [&](size_t o) { return static_cast<uint32_t>(static_cast<uint8_t>(b[o]) | static_cast<uint8_t>(b[o + 1]) << 8 |
                                                          static_cast<uint8_t>(b[o + 2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(b[o + 3])) << 24); };
  auto u16 = [&](size_t o) { return static_cast<uint16_t>(static_cast<uint8_t>(b[o]) | static_cast<uint8_t>(b[o + 1]) << 8); };
  if (b.size() < 44 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) return "not a RIFF/WAVE file";
  if (u32(4) != b.size() - 8) return "RIFF size " + std::to_string(u32(4)) + " vs file length " + std::to_string(b.size());
  size_t off = 12;
  bool have_fmt = false;
  while (off + 8 <= b.size()) {
    std::string id = b.substr(off, 4);
    uint32_t size = u32(off + 4);
    size_t body = off + 8;
    if (id == "fmt ") {
      if (size < 16 || body + size > b.size()) return "bad fmt chunk";
      w.format = u16(body);
      w.channels = u16(body + 2);
      w.rate = static_cast<int>(u32(body + 4));
      w.bits = u16(body + 14);
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return "data before fmt";
      if (w.format != 1 || w.bits != 16 || w.channels < 1) return "not 16-bit PCM";
      if (body + size != b.size()) return "data chunk does not end the file";
      if (size % (2 * static_cast<uint32_t>(w.channels)) != 0) return "partial frame";
      w.samples.resize(size / 2);
      std::memcpy(w.samples.data(), b.data() + body, size);  // little-endian host
      return std::nullopt;
    }
    off = body + size + (size & 1);
  }
  return "no data chunk";
}

double Goertzel(const Wav& w, int ch, int64_t from, int64_t to, int freq) {  // power of `freq` in [from, to)
  const double coeff = 2 * std::cos(2 * M_PI * freq / kRate);
  double s1 = 0, s2 = 0;
  for (int64_t i = from; i < to; ++i) {
    double s0 = w.samples[static_cast<size_t>(i * w.channels + ch)] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double n = static_cast<double>(to - from);
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

struct ChannelCheck {
  int64_t first = -1, last = -1;  // first and last non-zero sample
  uint64_t gaps = 0, gap_samples = 0, zero_samples = 0, mismatches = 0, tone_blocks = 0, tone_failures = 0;
};

// Between the first and last non-zero sample of channel `ch`: zero runs
// (>= 80 samples = a gap), samples that differ from the tone sent on this
// channel, and every 100 ms block's dominant tone (Goertzel, own vs the other).
ChannelCheck CheckChannel(const Wav& w, int ch, int tone, const Tones& tones) {
  ChannelCheck r;
  const int64_t frames = static_cast<int64_t>(w.frames());
  auto at = [&](int64_t i) { return w.samples[static_cast<size_t>(i * w.channels + ch)]; };
  for (int64_t i = 0; i < frames; ++i)
    if (at(i) != 0) {
      r.first = i;
      break;
    }
  if (r.first < 0) return r;
  for (int64_t i = frames - 1; i >= 0; --i)
    if (at(i) != 0) {
      r.last = i;
      break;
    }
  uint64_t run = 0;
  for (int64_t i = r.first; i <= r.last; ++i) {
    const int16_t v = at(i);
    if (v == 0) {
      ++r.zero_samples;
      ++run;
      continue;
    }
    if (run >= kGapSamples) {
      ++r.gaps;
      r.gap_samples += run;
    }
    run = 0;
    if (v != tones.expected[tone][static_cast<size_t>((i - r.first) % kCycleSamples)]) ++r.mismatches;
  }
  const int other = kFreqs[1 - tone];
  for (int64_t a = r.first; a + kCycleSamples <= r.last + 1; a += kCycleSamples) {
    ++r.tone_blocks;
    const double own = Goertzel(w, ch, a, a + kCycleSamples, kFreqs[tone]);
    const double rival = Goertzel(w, ch, a, a + kCycleSamples, other);
    if (!(own > 20 * rival) || own < 1e5) ++r.tone_failures;  // a 8000-amplitude sine gives ~1.6e7
  }
  return r;
}

struct VerifyTotals {
  uint64_t expected = 0, checked = 0, ok = 0, missing = 0, bad_format = 0, extra_files = 0, duration_bad = 0,
           silent_channels = 0, span_bad = 0, gaps = 0, gap_samples = 0, zero_samples = 0, mismatches = 0,
           tone_blocks = 0, tone_failures = 0;
  double min_duration_ms = 1e18, max_duration_ms = 0, max_lead_ms = 0;  // lead: file audio before the first packet
  std::vector<std::string> examples;
  void Note(std::string s) {
    if (examples.size() < 8) examples.push_back(std::move(s));
  }
  json::object ToJson() const {
    json::object o;
    o["files_expected"] = expected;
    o["files_checked"] = checked;
    o["files_ok"] = ok;
    o["missing"] = missing;
    o["bad_format"] = bad_format;
    o["extra_files"] = extra_files;
    o["duration_bad"] = duration_bad;
    o["silent_channels"] = silent_channels;
    o["span_bad"] = span_bad;
    o["gaps"] = gaps;
    o["gap_ms"] = static_cast<double>(gap_samples) / (kRate / 1000);
    o["zero_samples_inside"] = zero_samples;
    o["mismatched_samples"] = mismatches;
    o["tone_blocks"] = tone_blocks;
    o["tone_failures"] = tone_failures;
    o["duration_ms"] = {{"min", checked ? min_duration_ms : 0.0}, {"max", max_duration_ms}};
    o["max_silence_before_audio_ms"] = max_lead_ms;
    json::array ex;
    for (const auto& e : examples) ex.push_back(json::value(e));
    o["examples"] = std::move(ex);
    return o;
  }
};

// One recording: 2 channels at 8 kHz; per channel, the checks above. With
// `packets` > 0 also the audio span (= packets × 160 samples, ± one packet)
// and the duration (>= the media time − 20 ms, <= lifetime_ms + 20 ms).
void CheckFile(const fs::path& path, int packets, double lifetime_ms, const Tones& tones, VerifyTotals& t) {
  Wav w;
  if (auto err = ReadWav(path, w)) {
    ++t.bad_format;
    t.Note(path.string() + ": " + *err);
    return;
  }
  ++t.checked;
  bool good = true;
  if (w.channels != 2 || w.rate != kRate) {
    ++t.bad_format;
    t.Note(path.string() + ": " + std::to_string(w.channels) + " channels at " + std::to_string(w.rate) + " Hz");
    return;
  }
  const double duration_ms = static_cast<double>(w.frames()) * 1000.0 / kRate;
  t.min_duration_ms = std::min(t.min_duration_ms, duration_ms);
  t.max_duration_ms = std::max(t.max_duration_ms, duration_ms);
  if (packets > 0 && (duration_ms < packets * kPtimeMs - 20 || duration_ms > lifetime_ms + 20)) {
    ++t.duration_bad;
    good = false;
    t.Note(path.string() + ": " + std::to_string(duration_ms) + " ms long; media " + std::to_string(packets * kPtimeMs) +
           " ms, call " + std::to_string(lifetime_ms) + " ms");
  }
  for (int ch = 0; ch < 2; ++ch) {
    ChannelCheck c = CheckChannel(w, ch, ch, tones);
    if (c.first < 0) {
      ++t.silent_channels;
      good = false;
      t.Note(path.string() + ": channel " + std::to_string(ch) + " is silent");
      continue;
    }
    t.max_lead_ms = std::max(t.max_lead_ms, static_cast<double>(c.first) * 1000.0 / kRate);
    const int64_t span = c.last - c.first + 1;
    if (packets > 0 && std::llabs(span - static_cast<int64_t>(packets) * kSamples) > kSamples) {
      ++t.span_bad;
      good = false;
      t.Note(path.string() + ": channel " + std::to_string(ch) + " audio spans " + std::to_string(span) +
             " samples, sent " + std::to_string(packets * kSamples));
    }
    t.gaps += c.gaps;
    t.gap_samples += c.gap_samples;
    t.zero_samples += c.zero_samples;
    t.mismatches += c.mismatches;
    t.tone_blocks += c.tone_blocks;
    t.tone_failures += c.tone_failures;
    if (c.gaps || c.mismatches || c.tone_failures) {
      good = false;
      t.Note(path.string() + ": channel " + std::to_string(ch) + ": " + std::to_string(c.gaps) + " gaps (" +
             std::to_string(c.gap_samples) + " samples), " + std::to_string(c.mismatches) + " samples not as sent, " +
             std::to_string(c.tone_failures) + "/" + std::to_string(c.tone_blocks) + " blocks without the tone");
    }
  }
  if (good) ++t.ok;
}

// The recordings of this run: <dir>/<conversationId>/segment-1.wav, nothing else in that folder.
VerifyTotals VerifyRun(const fs::path& dir, const std::vector<Call>& calls, int packets, const Tones& tones) {
  VerifyTotals t;
  for (const Call& c : calls) {
    if (c.t_up == Clock::time_point{}) continue;  // never recorded
    ++t.expected;
    const fs::path folder = dir / c.conv_id, file = folder / "segment-1.wav";
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      ++t.missing;
      t.Note(file.string() + ": missing");
      continue;
    }
    for (const auto& e : fs::directory_iterator(folder, ec))
      if (e.path().filename() != "segment-1.wav") {
        ++t.extra_files;
        t.Note(e.path().string() + ": unexpected file");
      }
    const auto end = c.t_done != Clock::time_point{} ? c.t_done : Clock::now();
    CheckFile(file, packets, std::chrono::duration<double, std::milli>(end - c.t_invite).count(), tones, t);
  }
  return t;
}

// Every <dir>/*/segment-*.wav (format, gaps, tones; no expectations on length).
VerifyTotals VerifyAll(const fs::path& dir, const Tones& tones) {
  VerifyTotals t;
  std::error_code ec;
  for (const auto& conv : fs::directory_iterator(dir, ec)) {
    if (!conv.is_directory()) continue;
    for (const auto& e : fs::directory_iterator(conv.path(), ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("segment-", 0) != 0) continue;
      if (!name.ends_with(".wav")) {
        ++t.extra_files;
        t.Note(e.path().string() + ": not a finished WAV");
        continue;
      }
      ++t.expected;
      CheckFile(e.path(), 0, 0, tones, t);
    }
  }
  return t;
}

bool VerifyClean(const VerifyTotals& v) {
  return v.expected > 0 && v.ok == v.expected && v.missing == 0 && v.bad_format == 0 && v.extra_files == 0 &&
         v.gaps == 0 && v.mismatches == 0 && v.tone_failures == 0;
}

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

}  // namespace

int main(int argc, char** argv) {
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
  Signaling sig(sip, calls, o);
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
