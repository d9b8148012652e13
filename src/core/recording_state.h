// The recording state machine of docs/api.md §4, as a pure function. The store runs it
// inside its transaction; the media writer and tests read the same table.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace verbatim {

enum class RecordingState { kNone, kActive, kPaused, kStopped };
enum class RecordingAction { kStart, kStop, kPause, kResume };

const char* ToString(RecordingState s);    // "none" | "active" | "paused" | "stopped"
const char* ToString(RecordingAction a);   // "start" | "stop" | "pause" | "resume"
std::optional<RecordingState> ParseRecordingState(std::string_view s);
std::optional<RecordingAction> ParseRecordingAction(std::string_view s);

struct TransitionRule {
  bool valid = false;          // false → 409 recording.invalid.transition
  bool changed = false;        // false on an idempotent repeat
  RecordingState to = RecordingState::kNone;
  bool opens_segment = false;  // none|stopped → active
  bool closes_segment = false; // active|paused → stopped
};

TransitionRule NextState(RecordingState from, RecordingAction action);
// Actions that change the state from `from` (for "allowed actions" in a 409).
std::vector<RecordingAction> AllowedActions(RecordingState from);

}  // namespace verbatim
