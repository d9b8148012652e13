#include <gtest/gtest.h>

#include "core/recording_state.h"

namespace verbatim {
namespace {

using S = RecordingState;
using A = RecordingAction;

struct Row {
  S from;
  A action;
  bool valid;
  bool changed;
  S to;
  bool opens;
  bool closes;
};

// Every state × action pair of docs/api.md §4.
const Row kTable[] = {
    {S::kNone, A::kStart, true, true, S::kActive, true, false},
    {S::kNone, A::kStop, false, false, S::kNone, false, false},
    {S::kNone, A::kPause, false, false, S::kNone, false, false},
    {S::kNone, A::kResume, false, false, S::kNone, false, false},
    {S::kActive, A::kStart, true, false, S::kActive, false, false},
    {S::kActive, A::kStop, true, true, S::kStopped, false, true},
    {S::kActive, A::kPause, true, true, S::kPaused, false, false},
    {S::kActive, A::kResume, true, false, S::kActive, false, false},
    {S::kPaused, A::kStart, false, false, S::kPaused, false, false},
    {S::kPaused, A::kStop, true, true, S::kStopped, false, true},
    {S::kPaused, A::kPause, true, false, S::kPaused, false, false},
    {S::kPaused, A::kResume, true, true, S::kActive, false, false},
    {S::kStopped, A::kStart, true, true, S::kActive, true, false},
    {S::kStopped, A::kStop, true, false, S::kStopped, false, false},
    {S::kStopped, A::kPause, false, false, S::kStopped, false, false},
    {S::kStopped, A::kResume, false, false, S::kStopped, false, false},
};

TEST(RecordingStateMachine, EveryStateActionPairFollowsTheSpec) {
  for (const auto& row : kTable) {
    auto r = NextState(row.from, row.action);
    SCOPED_TRACE(std::string(ToString(row.from)) + " + " + ToString(row.action));
    EXPECT_EQ(r.valid, row.valid);
    EXPECT_EQ(r.changed, row.changed);
    EXPECT_EQ(r.to, row.to);
    EXPECT_EQ(r.opens_segment, row.opens);
    EXPECT_EQ(r.closes_segment, row.closes);
  }
}

TEST(RecordingStateMachine, AllowedActionsAreExactlyTheChangingOnes) {
  EXPECT_EQ(AllowedActions(S::kNone), std::vector<A>({A::kStart}));
  EXPECT_EQ(AllowedActions(S::kActive), std::vector<A>({A::kStop, A::kPause}));
  EXPECT_EQ(AllowedActions(S::kPaused), std::vector<A>({A::kStop, A::kResume}));
  EXPECT_EQ(AllowedActions(S::kStopped), std::vector<A>({A::kStart}));
}

TEST(RecordingStateMachine, NamesRoundTrip) {
  for (auto s : {S::kNone, S::kActive, S::kPaused, S::kStopped}) EXPECT_EQ(ParseRecordingState(ToString(s)), s);
  for (auto a : {A::kStart, A::kStop, A::kPause, A::kResume}) EXPECT_EQ(ParseRecordingAction(ToString(a)), a);
  EXPECT_FALSE(ParseRecordingAction("explode").has_value());
}

}  // namespace
}  // namespace verbatim
