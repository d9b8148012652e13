#include "media_sip.h"

#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <deque>

#include "media_util.h"

namespace bench {

namespace {

using Nanos = std::chrono::nanoseconds;
using std::chrono::milliseconds;

constexpr auto kT1 = milliseconds(500);
constexpr auto kT2 = milliseconds(4000);

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

}  // namespace

bool SipClient::Open(const std::string& host, uint16_t port) {
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

SipClient::~SipClient() {
  if (fd_ >= 0) close(fd_);
}

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

Signaling::Signaling(SipClient& sip, std::vector<Call>& calls, int window, double timeout_s)
    : sip_(sip), calls_(calls), window_(window), timeout_s_(timeout_s) {}

void Signaling::Run(const std::vector<int>& todo, bool invite) {
  std::deque<int> queue(todo.begin(), todo.end());
  const auto timeout = Nanos(static_cast<int64_t>(timeout_s_ * 1e9));
  while (!queue.empty() || !inflight_.empty()) {
    auto now = Clock::now();
    while (inflight_.size() < static_cast<size_t>(window_) && !queue.empty()) {
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

void Signaling::OnMessage(std::string_view raw) {
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

}  // namespace bench
