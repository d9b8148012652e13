// A recording's internal consistency, as every concurrency test checks it.
#pragma once

#include <string>

#include "store/model.h"

namespace verbatim::store::conformance {

// Returns "" when the recording is internally consistent, else what is wrong.
inline std::string CheckRecording(const Recording& r) {
  using S = RecordingState;
  S state = S::kNone;
  int segments = 0;
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    const Transition& t = r.timeline[i];
    if (t.seq != static_cast<int64_t>(i + 1)) return "gap at seq " + std::to_string(t.seq);
    if (t.from != state) return "seq " + std::to_string(t.seq) + " does not start where the previous ended";
    const bool opens = t.to == S::kActive && (t.from == S::kNone || t.from == S::kStopped);
    if (opens) ++segments;
    if (t.segment != segments) return "seq " + std::to_string(t.seq) + " names the wrong segment";
    if (segments > static_cast<int>(r.segments.size())) return "missing segment";
    const Segment& seg = r.segments[segments - 1];
    if (opens && seg.started_at != t.at) return "segment start differs from its opening transition";
    if (t.to == S::kStopped && seg.ended_at != t.at) return "segment end differs from its closing transition";
    state = t.to;
  }
  if (r.state != state) return "state differs from the last transition";
  if (static_cast<int>(r.segments.size()) != segments) return "segment count differs from the timeline";
  for (int i = 0; i < segments; ++i) {
    if (r.segments[i].index != i + 1) return "segment indices are not 1..n";
    const bool last = i == segments - 1;
    const bool should_be_open = last && (state == S::kActive || state == S::kPaused);
    if (r.segments[i].ended_at.has_value() == should_be_open) return "segment open/closed is wrong";
  }
  if (r.version != static_cast<int64_t>(r.timeline.size())) return "version differs from the number of changes";
  return "";
}

}  // namespace verbatim::store::conformance
