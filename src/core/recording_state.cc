#include "core/recording_state.h"

namespace verbatim {

const char* ToString(RecordingState s) {
  switch (s) {
    case RecordingState::kNone: return "none";
    case RecordingState::kActive: return "active";
    case RecordingState::kPaused: return "paused";
    case RecordingState::kStopped: return "stopped";
  }
  return "none";
}

const char* ToString(RecordingAction a) {
  switch (a) {
    case RecordingAction::kStart: return "start";
    case RecordingAction::kStop: return "stop";
    case RecordingAction::kPause: return "pause";
    case RecordingAction::kResume: return "resume";
  }
  return "start";
}

std::optional<RecordingState> ParseRecordingState(std::string_view s) {
  for (auto st : {RecordingState::kNone, RecordingState::kActive, RecordingState::kPaused, RecordingState::kStopped})
    if (s == ToString(st)) return st;
  return std::nullopt;
}

std::optional<RecordingAction> ParseRecordingAction(std::string_view s) {
  for (auto a : {RecordingAction::kStart, RecordingAction::kStop, RecordingAction::kPause, RecordingAction::kResume})
    if (s == ToString(a)) return a;
  return std::nullopt;
}

TransitionRule NextState(RecordingState from, RecordingAction action) {
  using S = RecordingState;
  using A = RecordingAction;
  auto change = [](S to, bool opens = false, bool closes = false) { return TransitionRule{true, true, to, opens, closes}; };
  auto repeat = [](S at) { return TransitionRule{true, false, at, false, false}; };
  const TransitionRule invalid{false, false, from, false, false};

  switch (from) {
    case S::kNone:
      switch (action) {
        case A::kStart: return change(S::kActive, /*opens=*/true);
        case A::kStop:
        case A::kPause:
        case A::kResume: return invalid;
      }
      break;
    case S::kActive:
      switch (action) {
        case A::kStart:
        case A::kResume: return repeat(S::kActive);  // already recording
        case A::kPause: return change(S::kPaused);
        case A::kStop: return change(S::kStopped, false, /*closes=*/true);
      }
      break;
    case S::kPaused:
      switch (action) {
        case A::kPause: return repeat(S::kPaused);
        case A::kResume: return change(S::kActive);
        case A::kStop: return change(S::kStopped, false, /*closes=*/true);
        case A::kStart: return invalid;  // ambiguous: resume, or stop and start anew
      }
      break;
    case S::kStopped:
      switch (action) {
        case A::kStart: return change(S::kActive, /*opens=*/true);
        case A::kStop: return repeat(S::kStopped);
        case A::kPause:
        case A::kResume: return invalid;
      }
      break;
  }
  return invalid;
}

std::vector<RecordingAction> AllowedActions(RecordingState from) {
  std::vector<RecordingAction> out;
  for (auto a : {RecordingAction::kStart, RecordingAction::kStop, RecordingAction::kPause, RecordingAction::kResume}) {
    auto r = NextState(from, a);
    if (r.valid && r.changed) out.push_back(a);
  }
  return out;
}

}  // namespace verbatim
