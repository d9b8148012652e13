// libFuzzer target: AudioHook text messages and the server state machine. The
// first input byte picks how the rest is fed: as one text message to the
// parser, or as a sequence of frames split on 0xFF 0xFE (a frame starting with
// 0x01 is binary audio, the rest text) to a ServerSession opened with a valid
// `open`. Nothing may crash, and every
// message the session sends must itself be valid JSON with a server type.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/json.h"
#include "media/audiohook/protocol.h"
#include "media/audiohook/server_session.h"

using namespace verbatim;                   // NOLINT: fuzz harness
using namespace verbatim::media::audiohook;  // NOLINT: fuzz harness

namespace {

constexpr std::string_view kOpen =
    R"({"version":"2","id":"30b0e395-84d3-4570-ac13-9a62d8f514c0","type":"open","seq":1,"serverseq":0,)"
    R"("position":"PT0S","parameters":{"organizationId":"d7934305-0972-4844-938e-9060eef73d05",)"
    R"("conversationId":"6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90","participant":{"id":)"
    R"("11111111-2222-4333-8444-555555555555","ani":"","aniName":"","dnis":""},"media":[{"type":"audio",)"
    R"("format":"PCMU","channels":["external","internal"],"rate":8000}]}})";

void CheckSent(const Output& o) {
  for (const auto& m : o.send) {
    auto v = ParseJsonObject(m);
    if (!v.ok() || !v->contains("type") || !v->at("type").is_string()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto m = ParseClientMessage(in);
    if (m.ok()) (void)FormatDuration(m->position);
    return 0;
  }
  ServerSession s;
  Nanos t{0};
  Output o = s.OnText(kOpen, t);
  if (o.open_requested) CheckSent(s.CompleteOpen(data[0] & 2));
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find("\xff\xfe", start);
    if (end == std::string_view::npos) end = in.size();
    std::string_view frame = in.substr(start, end - start);
    t += std::chrono::milliseconds(20);
    if (!frame.empty() && frame[0] == '\x01') {  // binary frames are tagged 0x01
      CheckSent(s.OnBinary(std::as_bytes(std::span(frame.data() + 1, frame.size() - 1)), t));
    } else {
      CheckSent(s.OnText(frame, t));
    }
    if (frame.size() % 7 == 3) CheckSent(s.RequestPause());
    if (frame.size() % 7 == 5) CheckSent(s.RequestResume());
    start = end + 2;
  }
  return 0;
}
