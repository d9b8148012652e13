// Shared fixture of the SiprecUas tests: parsed SIP requests, a fake
// StreamOpener (no sockets), a real MediaHub over a fake ConversationControl
// (no store), a trunk table, a settable clock and the counted events.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "media/siprec/uas.h"
#include "unit/media/audio_test_util.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::siprec::testing_uas {

using testing::Crlf;
using testing::TempDir;

// What the UAS asks of the rest of verbatim, through the hub.
class FakeControl final : public capture::ConversationControl {
 public:
  RecordingState initial_state = RecordingState::kActive;
  std::vector<capture::SessionSpec> attached;
  std::vector<std::string> detached;
  std::vector<std::pair<RecordingAction, std::string>> actions;  // (action, reason)
  Status attach_error;
  int next_id = 1;

  Result<capture::Attachment> Attach(const capture::SessionSpec& spec) override {
    if (!attach_error.ok()) return attach_error;
    attached.push_back(spec);
    capture::Attachment a;
    char id[64];
    std::snprintf(id, sizeof id, "c0ffee00-0000-4000-8000-%012d", next_id++);
    a.conversation_id = spec.conversation_id.value_or(id);
    a.created = !spec.conversation_id.has_value();
    a.state = initial_state;
    a.current_segment = initial_state == RecordingState::kActive ? 1 : 0;
    a.next_segment = a.current_segment + 1;
    return a;
  }
  void Detach(const std::string& id, bool, const std::string&) override { detached.push_back(id); }
  Status RequestAction(const std::string&, RecordingAction action, const std::string& reason) override {
    actions.emplace_back(action, reason);
    return Status::Ok();
  }
  void MediaFileUpdated(const std::string&, const capture::MediaFileInfo&) override {}
};

// Hands out even ports from 40000 and remembers which are open.
class FakeStreams final : public StreamOpener {
 public:
  class Handle final : public StreamHandle {
   public:
    Handle(FakeStreams& owner, uint16_t port) : owner_(owner), port_(port) { owner_.open.insert(port); }
    ~Handle() override { owner_.open.erase(port_); }
    uint16_t port() const override { return port_; }
    capture::Nanos LastPacket() const override { return owner_.last_packet; }
    void SetSource(RtpSourcePolicy p) override { owner_.sources[port_] = std::move(p); }

   private:
    FakeStreams& owner_;
    uint16_t port_;
  };

  std::vector<StreamSpec> specs;
  std::set<uint16_t> open;
  capture::Nanos last_packet{0};                // what every stream reports as its last packet
  std::map<uint16_t, RtpSourcePolicy> sources;  // SetSource() calls, by port
  uint16_t next = 40000;
  bool exhausted = false;      // Open() fails (e.g. every port taken by another process)
  size_t capacity = SIZE_MAX;  // what Available() reports beyond the open streams

  size_t Available() const override { return capacity > open.size() ? capacity - open.size() : 0; }

  Result<std::unique_ptr<StreamHandle>> Open(StreamSpec spec) override {
    if (exhausted) return Status::ResourceExhausted("rtp.ports.exhausted", "No free RTP port.");
    specs.push_back(spec);
    uint16_t port = next;
    next += 2;
    return std::unique_ptr<StreamHandle>(new Handle(*this, port));
  }
};

// The trunk every test request comes from unless it says otherwise.
inline Trunk SrcTrunk() {
  Trunk t;
  t.id = "7a7a7a7a-0000-4000-8000-000000000001";
  t.name = "src";
  t.origin = "api";
  t.networks = {*ParseCidr("198.51.100.0/24")};
  t.limits.max_sessions = 0;
  return t;
}

struct Fixture {
  explicit Fixture(size_t max_sessions = 16, std::vector<Trunk> trunks = {SrcTrunk()}) {
    capture::HubOptions opts;
    opts.media_root = dir.path();
    opts.max_sessions = max_sessions;
    opts.free_bytes = [this] { return free_bytes; };
    hub = std::make_unique<capture::MediaHub>(opts, control);
    UasOptions uo;
    uo.media_address = "192.0.2.50";
    uo.contact = "sip:verbatim@192.0.2.50:5060";
    uo.retry_after_seconds = 7;
    uo.now = [this] { return now; };
    uo.rtp_timeout = std::chrono::seconds(10);
    uo.min_se = 90;
    uas = std::make_unique<SiprecUas>(uo, *hub, streams, [this](std::string_view kind, std::string_view reason) {
      events.push_back(std::string(kind) + ":" + std::string(reason));
    });
    uas->SetTrunks(std::make_shared<TrunkTable>(std::move(trunks)));
  }
  ~Fixture() {
    uas.reset();
    hub->Stop();
  }

  Peer TrunkPeer(std::string_view source = "198.51.100.1", SipTransport transport = SipTransport::kUdp) {
    Peer p;
    p.transport = transport;
    p.address = ParseIpAddress(source);
    p.port = 5060;
    p.send = [this](std::string bytes) { sent.push_back(std::move(bytes)); };
    return p;
  }
  UasOutput Handle(const sip::Message& m, std::string_view source = "198.51.100.1") {
    return uas->Handle(m, TrunkPeer(source));
  }
  size_t Count(std::string_view event) const {
    return static_cast<size_t>(std::count(events.begin(), events.end(), event));
  }

  capture::Nanos now{std::chrono::seconds(1000)};
  std::optional<uint64_t> free_bytes = uint64_t{1} << 40;
  std::vector<std::string> events;  // "refused:untrusted_source", ...
  std::vector<std::string> sent;    // requests the UAS originated (BYEs)

  TempDir dir;
  FakeControl control;
  FakeStreams streams;
  std::unique_ptr<capture::MediaHub> hub;
  std::unique_ptr<SiprecUas> uas;
};

inline sip::Message Parse(const std::string& wire) {
  auto m = sip::ParseMessage(wire);
  EXPECT_TRUE(m.ok()) << m.status().ToString() << "\n" << wire;
  return m.ok() ? *m : sip::Message{};
}

struct Req {
  std::string method = "INVITE";
  std::string call_id = "call-1@src.example.com";
  std::string branch = "z9hG4bK-1";
  std::string to_tag;
  std::string from_tag = "src-tag";
  int cseq = 1;
  std::string content_type;
  std::string body;
  std::vector<std::string> extra;  // "Name: value"
};

inline sip::Message Request(const Req& r) {
  std::string s = r.method +
                  " sip:srs@192.0.2.50 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" +
                  r.branch +
                  "\n"
                  "From: <sip:src@example.com>;tag=" +
                  r.from_tag +
                  "\n"
                  "To: <sip:srs@example.com>" +
                  (r.to_tag.empty() ? "" : ";tag=" + r.to_tag) +
                  "\n"
                  "Call-ID: " +
                  r.call_id +
                  "\n"
                  "CSeq: " +
                  std::to_string(r.cseq) + " " + r.method +
                  "\n"
                  "Max-Forwards: 70\n";
  for (const auto& h : r.extra) s += h + "\n";
  if (!r.content_type.empty()) s += "Content-Type: " + r.content_type + "\n";
  std::string wire = Crlf(s) + "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
  return Parse(wire);
}

// The fixture INVITE (RFC 7866 style: multipart SDP + metadata, labels 1 and 2).
inline Req SiprecInvite(std::string call_id = "call-1@src.example.com", std::string branch = "z9hG4bK-1") {
  Req r;
  r.call_id = std::move(call_id);
  r.branch = std::move(branch);
  r.content_type = "multipart/mixed;boundary=foobar";
  r.body = testing::SiprecBody();
  r.extra = {"Require: siprec", "Contact: <sip:src@198.51.100.1>;+sip.src"};
  return r;
}

inline std::string Sdp(std::string_view direction, std::string_view codecs_line, std::string_view rtpmaps) {
  return Crlf(
      "v=0\n"
      "o=SRC 1 2 IN IP4 198.51.100.1\n"
      "s=-\n"
      "c=IN IP4 198.51.100.1\n"
      "t=0 0\n"
      "m=audio 12240 RTP/AVP " +
      std::string(codecs_line) + "\n" + std::string(rtpmaps) + "a=" + std::string(direction) +
      "\n"
      "a=label:1\n"
      "m=audio 12242 RTP/AVP " +
      std::string(codecs_line) + "\n" + std::string(rtpmaps) + "a=" + std::string(direction) +
      "\n"
      "a=label:2\n");
}

inline std::string PcmuSdp(std::string_view direction) { return Sdp(direction, "0", "a=rtpmap:0 PCMU/8000\n"); }

// A re-INVITE inside the dialog the 200 OK `ok` created.
inline Req InDialog(const sip::Message& ok, std::string method, int cseq, std::string branch) {
  Req r;
  r.method = std::move(method);
  r.call_id = std::string(ok.call_id());
  r.to_tag = ok.to_tag().value_or("");
  r.cseq = cseq;
  r.branch = std::move(branch);
  return r;
}

inline int Code(const UasOutput& out) { return out.responses.empty() ? 0 : out.responses.back().status_code; }

inline std::string Header(const UasOutput& out, std::string_view name) {
  if (out.responses.empty()) return "<no response>";
  return std::string(out.responses.back().header(name).value_or("<absent>"));
}

}  // namespace verbatim::media::siprec::testing_uas
