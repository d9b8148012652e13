#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json.h"
#include "media/audiohook/protocol.h"
#include "media/audiohook/server_session.h"
#include "media/codec/g711.h"

namespace verbatim::media::audiohook {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSession = "30b0e395-84d3-4570-ac13-9a62d8f514c0";
constexpr const char* kOrg = "d7934305-0972-4844-938e-9060eef73d05";
constexpr const char* kConversation = "6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90";

// A client message as the reference client builds it.
std::string Msg(const std::string& type, uint64_t seq, json::object params = {}, uint64_t serverseq = 0,
                const std::string& position = "PT0S", const std::string& id = kSession) {
  json::object o{{"version", "2"}, {"id", id},         {"type", type},
                 {"seq", seq},     {"serverseq", serverseq}, {"position", position}};
  o["parameters"] = std::move(params);
  return json::serialize(o);
}

// `media` unset: what the reference tone client offers (stereo, then mono).
json::object OpenParams(const std::string& conversation = kConversation, std::optional<json::array> offer = {}) {
  json::array media = offer.value_or(json::array{});
  if (!offer) {
    media.emplace_back(json::object{{"type", "audio"}, {"format", "PCMU"}, {"channels", {"external", "internal"}},
                                    {"rate", 8000}});
    media.emplace_back(json::object{{"type", "audio"}, {"format", "PCMU"}, {"channels", {"external"}}, {"rate", 8000}});
  }
  return json::object{{"organizationId", kOrg},
                      {"conversationId", conversation},
                      {"participant", json::object{{"id", "11111111-2222-4333-8444-555555555555"},
                                                   {"ani", "+15551234567"},
                                                   {"aniName", "Alice Customer"},
                                                   {"dnis", "+15557654321"}}},
                      {"media", std::move(media)},
                      {"language", "en-US"}};
}

json::object Parsed(const std::string& text) {
  auto v = ParseJsonObject(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : json::object{};
}

std::string TypeOf(const std::string& text) { return std::string(Parsed(text).at("type").as_string()); }

std::vector<std::byte> StereoPcmu(size_t samples, uint8_t ext = 0x10, uint8_t in = 0x90) {
  std::vector<std::byte> out;
  for (size_t i = 0; i < samples; ++i) {
    out.push_back(std::byte{ext});
    out.push_back(std::byte{in});
  }
  return out;
}

Nanos At(int64_t ms) { return milliseconds(ms); }

// An open session: `open` accepted and `opened` sent.
ServerSession Opened(SessionOptions opts = {}) {
  ServerSession s(std::move(opts));
  Output o = s.OnText(Msg("open", 1, OpenParams()), At(0));
  EXPECT_TRUE(o.open_requested);
  Output opened = s.CompleteOpen(false);
  EXPECT_EQ(opened.send.size(), 1u);
  return s;
}

// ------------------------------------------------------------------ parser

TEST(AudioHookParse, ReadsAnOpenMessageAsTheReferenceClientSendsIt) {
  auto m = ParseClientMessage(Msg("open", 1, OpenParams(), 0, "PT0S"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, ClientType::kOpen);
  EXPECT_EQ(m->id, kSession);
  EXPECT_EQ(m->seq, 1u);
  EXPECT_EQ(m->open.organization_id, kOrg);
  EXPECT_EQ(m->open.conversation_id, kConversation);
  EXPECT_EQ(m->open.participant.ani_name, "Alice Customer");
  ASSERT_EQ(m->open.media.size(), 2u);
  EXPECT_EQ(m->open.media[0].format, Format::kPcmu);
  EXPECT_EQ(m->open.media[0].channels, (std::vector<Channel>{Channel::kExternal, Channel::kInternal}));
  EXPECT_EQ(m->open.language, "en-US");
}

TEST(AudioHookParse, NamesEveryRejection) {
  struct Case {
    std::string text;
    ParseError error;
  };
  json::object bad_media = OpenParams("x");
  std::vector<Case> cases = {
      {std::string(kMaxTextMessageBytes + 1, ' '), ParseError::kTooLarge},
      {"{not json", ParseError::kBadJson},
      {"[1,2]", ParseError::kBadJson},
      {R"({"version":"2","version":"2"})", ParseError::kBadJson},  // duplicate key
      {Msg("ping", 1).replace(Msg("ping", 1).find("\"2\""), 3, "2"), ParseError::kBadVersion},
      {Msg("ping", 1, {}, 0, "PT0S", "not-a-uuid"), ParseError::kBadId},
      {Msg("opened", 1), ParseError::kUnknownType},
      {Msg("dance", 1), ParseError::kUnknownType},
      {R"({"version":"2","id":")" + std::string(kSession) +
           R"(","seq":1,"serverseq":0,"position":"PT0S","parameters":{}})",
       ParseError::kBadType},
      {R"({"version":"2","id":")" + std::string(kSession) +
           R"(","type":"ping","seq":-1,"serverseq":0,"position":"PT0S","parameters":{}})",
       ParseError::kBadSeq},
      {R"({"version":"2","id":")" + std::string(kSession) +
           R"(","type":"ping","seq":1.5,"serverseq":0,"position":"PT0S","parameters":{}})",
       ParseError::kBadSeq},
      {Msg("ping", 1, {}, 0, "1.5"), ParseError::kBadPosition},
      {Msg("ping", 1, {}, 0, "PT-1S"), ParseError::kBadPosition},
      {Msg("open", 1, bad_media), ParseError::kBadParameters},
      {Msg("close", 1, {{"reason", "bored"}}), ParseError::kBadParameters},
      {Msg("resumed", 1, {{"start", "PT1S"}}), ParseError::kBadParameters},
      {Msg("update", 1, {{"language", "english"}}), ParseError::kBadParameters},
      {Msg("error", 1, {{"code", 200}, {"message", "x"}}), ParseError::kBadParameters},
  };
  for (const auto& c : cases) {
    auto m = ParseClientMessage(c.text);
    ASSERT_FALSE(m.ok()) << c.text.substr(0, 200);
    EXPECT_EQ(ParseErrorOf(m.status()), c.error) << c.text.substr(0, 200) << " → " << m.status().ToString();
    EXPECT_EQ(m.status().code(), std::string("audiohook.") + ToString(c.error));
  }
}

TEST(AudioHookParse, ErrorNamesArePinned) {
  EXPECT_STREQ(ToString(ParseError::kTooLarge), "too.large");
  EXPECT_STREQ(ToString(ParseError::kBadJson), "bad.json");
  EXPECT_STREQ(ToString(ParseError::kBadVersion), "bad.version");
  EXPECT_STREQ(ToString(ParseError::kBadId), "bad.id");
  EXPECT_STREQ(ToString(ParseError::kBadType), "bad.type");
  EXPECT_STREQ(ToString(ParseError::kUnknownType), "unknown.type");
  EXPECT_STREQ(ToString(ParseError::kBadSeq), "bad.seq");
  EXPECT_STREQ(ToString(ParseError::kBadPosition), "bad.position");
  EXPECT_STREQ(ToString(ParseError::kBadParameters), "bad.parameters");
  EXPECT_STREQ(ToString(SessionError::kSeqOutOfOrder), "seq.out.of.order");
  EXPECT_STREQ(ToString(SessionError::kAudioBeforeOpened), "audio.before.opened");
  EXPECT_STREQ(ToString(SessionError::kPositionAhead), "position.ahead");
}

TEST(AudioHookDuration, ParsesAndFormatsIso8601Seconds) {
  EXPECT_EQ(ParseDuration("PT0S"), 0);
  EXPECT_EQ(ParseDuration("PT1.5S"), 1'500'000'000);
  EXPECT_EQ(ParseDuration("PT.25S"), 250'000'000);
  EXPECT_EQ(ParseDuration("PT0.000125S"), 125'000);
  // JavaScript's number formatting can add float noise: rounded to the ns.
  EXPECT_EQ(ParseDuration("PT0.30000000000000004S"), 300'000'000);
  EXPECT_EQ(ParseDuration("PT2.9999999996S"), 3'000'000'000);
  for (auto bad : {"", "PT", "PTS", "PT1", "P1S", "PT1.S", "PT-1S", "PT1e-7S", "PT1,5S", "pt1s", "PT 1S",
                   "PT1234567890123S"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  EXPECT_EQ(FormatDuration(0), "PT0S");
  EXPECT_EQ(FormatDuration(1'500'000'000), "PT1.5S");
  EXPECT_EQ(FormatDuration(125'000), "PT0.000125S");
  EXPECT_EQ(FormatDuration(3'000'000'000), "PT3S");
  for (int64_t ns : {int64_t{0}, int64_t{1}, int64_t{20'000'000}, int64_t{123'456'789'012}})
    EXPECT_EQ(ParseDuration(FormatDuration(ns)), ns);
}

TEST(AudioHookDuration, ConvertsBetweenSamplesAndTime) {
  EXPECT_EQ(SamplesToNanos(8000, 8000), 1'000'000'000);
  EXPECT_EQ(SamplesToNanos(160, 8000), 20'000'000);
  EXPECT_EQ(NanosToSamples(20'000'000, 8000), 160);
  EXPECT_EQ(NanosToSamples(*ParseDuration("PT1.2345S"), 8000), 9876);  // 9876.0
  EXPECT_EQ(NanosToSamples(62'400, 8000), 0);                           // 0.4992 of a sample
  EXPECT_EQ(NanosToSamples(62'500, 8000), 1);
}

TEST(AudioHookSerialize, ServerMessagesCarryTheHeaderTheClientValidates) {
  ServerHeader h{kSession, 3, 7};
  MediaParams m{Format::kPcmu, {Channel::kExternal, Channel::kInternal}, 8000};
  json::object o = Parsed(SerializeOpened(h, m, true));
  EXPECT_EQ(o.at("version"), "2");
  EXPECT_EQ(o.at("id"), kSession);
  EXPECT_EQ(o.at("type"), "opened");
  EXPECT_EQ(o.at("seq"), 3);
  EXPECT_EQ(o.at("clientseq"), 7);
  const auto& p = o.at("parameters").as_object();
  EXPECT_EQ(p.at("startPaused"), true);
  EXPECT_EQ(json::serialize(p.at("media")),
            R"([{"type":"audio","format":"PCMU","channels":["external","internal"],"rate":8000}])");
  EXPECT_EQ(Parsed(SerializeOpened(h, std::nullopt, false)).at("parameters").at("media").as_array().size(), 0u);
  EXPECT_FALSE(p.contains("supportedLanguages"));
  EXPECT_TRUE(Parsed(SerializeOpened(h, m, false, true)).at("parameters").at("supportedLanguages").as_array().empty());
  json::object d = Parsed(SerializeDisconnect(h, DisconnectReason::kUnauthorized, "no"));
  EXPECT_EQ(d.at("parameters").at("reason"), "unauthorized");
  EXPECT_EQ(d.at("parameters").at("info"), "no");
  for (auto f : {SerializePong, SerializePause, SerializeResume, SerializeClosed, SerializeUpdated})
    EXPECT_TRUE(Parsed(f(h)).at("parameters").as_object().empty());
}

// ------------------------------------------------------------------ state machine

TEST(AudioHookSession, OpenThenOpenedWithTheFirstSupportedMedia) {
  ServerSession s;
  Output o = s.OnText(Msg("open", 1, OpenParams()), At(0));
  EXPECT_TRUE(o.open_requested);
  EXPECT_TRUE(o.send.empty());  // `opened` waits for the media session
  EXPECT_EQ(s.state(), State::kOpening);
  EXPECT_EQ(s.session_id(), kSession);
  Output opened = s.CompleteOpen(false);
  ASSERT_EQ(opened.send.size(), 1u);
  json::object m = Parsed(opened.send[0]);
  EXPECT_EQ(m.at("type"), "opened");
  EXPECT_EQ(m.at("seq"), 1);
  EXPECT_EQ(m.at("clientseq"), 1);
  EXPECT_EQ(m.at("parameters").at("media").at(0).at("channels").as_array().size(), 2u);
  EXPECT_EQ(s.state(), State::kActive);
}

TEST(AudioHookSession, PingGetsPongEchoingItsSeq) {
  ServerSession s = Opened();
  Output o = s.OnText(Msg("ping", 2, {{"rtt", "PT0.012S"}}, 1, "PT0.2S"), At(200));
  ASSERT_EQ(o.send.size(), 1u);
  json::object pong = Parsed(o.send[0]);
  EXPECT_EQ(pong.at("type"), "pong");
  EXPECT_EQ(pong.at("seq"), 2);
  EXPECT_EQ(pong.at("clientseq"), 2);  // the reference client matches it to its ping
}

TEST(AudioHookSession, DecodesInterleavedStereoPcmuAndTracksThePosition) {
  ServerSession s = Opened();
  Output a = s.OnBinary(StereoPcmu(160, 0x10, 0x90), At(20));
  ASSERT_EQ(a.audio.size(), 2u);
  EXPECT_EQ(a.audio[0].channel, 0u);
  EXPECT_EQ(a.audio[0].position, 0);
  EXPECT_EQ(a.audio[0].samples.size(), 160u);
  EXPECT_EQ(a.audio[0].samples[0], codec::MulawToLinear(0x10));
  EXPECT_EQ(a.audio[1].samples[159], codec::MulawToLinear(0x90));
  Output b = s.OnBinary(StereoPcmu(80), At(40));
  EXPECT_EQ(b.audio[0].position, 160);
  EXPECT_EQ(b.audio[0].frame, 1u);
  EXPECT_EQ(s.position(), 240);
}

TEST(AudioHookSession, DecodesL16LittleEndianMono) {
  ServerSession s;
  json::array media{json::object{{"type", "audio"}, {"format", "L16"}, {"channels", {"internal"}}, {"rate", 8000}}};
  ASSERT_TRUE(s.OnText(Msg("open", 1, OpenParams(kConversation, media)), At(0)).open_requested);
  s.CompleteOpen(false);
  std::vector<std::byte> pcm = {std::byte{0x34}, std::byte{0x12}, std::byte{0xff}, std::byte{0xff}};
  Output o = s.OnBinary(pcm, At(1));
  ASSERT_EQ(o.audio.size(), 1u);
  EXPECT_EQ(o.audio[0].samples, (std::vector<int16_t>{0x1234, -1}));
  Output odd = s.OnBinary(std::vector<std::byte>(3), At(2));
  EXPECT_TRUE(odd.disconnect);
  EXPECT_EQ(odd.error.code(), "audiohook.bad.audio.frame");
}

TEST(AudioHookSession, ClientPauseBecomesAGapAtResume) {
  ServerSession s = Opened();
  s.OnBinary(StereoPcmu(800), At(100));  // 100 ms
  EXPECT_TRUE(s.OnText(Msg("paused", 2, {}, 1, "PT0.1S"), At(100)).send.empty());
  EXPECT_EQ(s.state(), State::kPaused);
  Output during = s.OnBinary(StereoPcmu(160), At(200));
  EXPECT_EQ(during.error.code(), "audiohook.audio.while.paused");

  ServerSession t = Opened();
  t.OnBinary(StereoPcmu(800), At(100));
  t.OnText(Msg("paused", 2, {}, 1, "PT0.1S"), At(100));
  t.OnText(Msg("resumed", 3, {{"start", "PT0.1S"}, {"discarded", "PT1.5S"}}, 1, "PT1.6S"), At(1600));
  EXPECT_EQ(t.state(), State::kActive);
  EXPECT_EQ(t.position(), 12800);  // 1.6 s: the 1.5 s paused is a gap
  EXPECT_EQ(t.stats().gap_samples, 12000u);
  Output after = t.OnBinary(StereoPcmu(160), At(1620));
  EXPECT_EQ(after.audio[0].position, 12800);
}

TEST(AudioHookSession, DiscardedAdvancesThePosition) {
  ServerSession s = Opened();
  s.OnBinary(StereoPcmu(160), At(20));
  s.OnText(Msg("discarded", 2, {{"start", "PT0.02S"}, {"discarded", "PT0.5S"}}, 1, "PT0.52S"), At(520));
  EXPECT_EQ(s.position(), 4160);
}

TEST(AudioHookSession, CloseGetsClosedAndEndsTheMedia) {
  ServerSession s = Opened();
  Output o = s.OnText(Msg("close", 2, {{"reason", "end"}}, 1, "PT0S"), At(5));
  EXPECT_TRUE(o.closed);
  EXPECT_FALSE(o.disconnect);
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(TypeOf(o.send[0]), "closed");
  EXPECT_EQ(s.state(), State::kClosed);
  EXPECT_TRUE(s.OnBinary(StereoPcmu(160), At(6)).audio.empty());  // stragglers dropped quietly
  EXPECT_TRUE(s.OnText(Msg("ping", 3, {}, 2), At(7)).send.empty());
}

TEST(AudioHookSession, UpdateGetsUpdated) {
  ServerSession s = Opened();
  Output o = s.OnText(Msg("update", 2, {{"language", "fr-CA"}}, 1), At(5));
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(TypeOf(o.send[0]), "updated");
  EXPECT_EQ(s.language(), "fr-CA");
}

// Every violation answers `disconnect` {reason: error, info: <code>...} and fails.
void ExpectFailure(const Output& o, const std::string& code, const std::string& reason = "error") {
  EXPECT_TRUE(o.disconnect);
  EXPECT_EQ(o.error.code(), code);
  ASSERT_EQ(o.send.size(), 1u);
  json::object m = Parsed(o.send[0]);
  EXPECT_EQ(m.at("type"), "disconnect");
  EXPECT_EQ(m.at("parameters").at("reason").as_string(), reason);
  EXPECT_EQ(std::string(m.at("parameters").at("info").as_string()).rfind(code, 0), 0u) << m.at("parameters");
}

TEST(AudioHookSession, FirstMessageMustBeOpen) {
  ServerSession s;
  ExpectFailure(s.OnText(Msg("paused", 1), At(0)), "audiohook.open.expected");
  EXPECT_EQ(s.state(), State::kFailed);
  ServerSession t;
  ExpectFailure(t.OnBinary(StereoPcmu(160), At(0)), "audiohook.audio.before.opened");
  ServerSession u;
  Output o = u.OnText("garbage", At(0));
  ExpectFailure(o, "audiohook.bad.json");
  // No id yet: the disconnect still carries a UUID the client accepts.
  EXPECT_EQ(Parsed(o.send[0]).at("id").as_string(), kNullUuid);
}

TEST(AudioHookSession, SeqMustIncrementByOne) {
  ServerSession s = Opened();
  ExpectFailure(s.OnText(Msg("ping", 3, {}, 1), At(10)), "audiohook.seq.out.of.order");
  ServerSession t = Opened();
  ExpectFailure(t.OnText(Msg("ping", 1, {}, 1), At(10)), "audiohook.seq.out.of.order");  // a repeat
}

TEST(AudioHookSession, ServerSeqMayNotRunAheadOrBack) {
  ServerSession s = Opened();
  ExpectFailure(s.OnText(Msg("ping", 2, {}, 5), At(10)), "audiohook.bad.serverseq");  // we sent only 1
  ServerSession t = Opened();
  t.OnText(Msg("ping", 2, {}, 1), At(10));  // pong is seq 2
  t.OnText(Msg("ping", 3, {}, 2), At(20));
  ExpectFailure(t.OnText(Msg("ping", 4, {}, 1), At(30)), "audiohook.bad.serverseq");
}

TEST(AudioHookSession, IdMustStayTheSession) {
  ServerSession s = Opened();
  ExpectFailure(s.OnText(Msg("ping", 2, {}, 1, "PT0S", "00000000-0000-4000-8000-000000000001"), At(1)),
                "audiohook.session.id.mismatch");
  SessionOptions from_header;
  from_header.session_id = "00000000-0000-4000-8000-000000000002";
  ServerSession t(from_header);
  ExpectFailure(t.OnText(Msg("open", 1, OpenParams()), At(0)), "audiohook.session.id.mismatch");
}

TEST(AudioHookSession, OrganizationMustMatchTheHeader) {
  SessionOptions opts;
  opts.organization_id = "00000000-0000-4000-8000-000000000003";
  ServerSession s(opts);
  ExpectFailure(s.OnText(Msg("open", 1, OpenParams()), At(0)), "audiohook.organization.mismatch", "unauthorized");
}

TEST(AudioHookSession, OnlyOneOpenPerConnection) {
  ServerSession s = Opened();
  ExpectFailure(s.OnText(Msg("open", 2, OpenParams(), 1), At(1)), "audiohook.open.repeated");
}

TEST(AudioHookSession, RefusesMediaItCannotRecord) {
  ServerSession s;
  json::array media{json::object{{"type", "audio"}, {"format", "PCMU"}, {"channels", {"external"}}, {"rate", 8000}}};
  media[0].as_object()["rate"] = 16000;
  auto o = s.OnText(Msg("open", 1, OpenParams(kConversation, media)), At(0));
  EXPECT_EQ(o.error.code(), "audiohook.bad.parameters");  // not a valid AudioHook offer at all
  ServerSession t;
  ExpectFailure(t.OnText(Msg("open", 1, OpenParams(kConversation, json::array{})), At(0)),
                "audiohook.media.unsupported");
}

TEST(AudioHookSession, AProbeOpensWithoutMedia) {
  ServerSession s;
  Output o = s.OnText(Msg("open", 1, OpenParams(std::string(kNullUuid), json::array{})), At(0));
  EXPECT_TRUE(o.open_requested);
  EXPECT_TRUE(s.is_probe());
  Output opened = s.CompleteOpen(false);
  EXPECT_TRUE(Parsed(opened.send[0]).at("parameters").at("media").as_array().empty());
}

TEST(AudioHookSession, BoundsFramesMessageRateAndPace) {
  SessionOptions small;
  small.max_binary_bytes = 320;
  ServerSession s = Opened(small);
  ExpectFailure(s.OnBinary(StereoPcmu(161), At(100)), "audiohook.frame.too.large");

  ServerSession t = Opened();
  Output last;
  for (uint64_t seq = 2; seq < 60 && !last.disconnect; ++seq) last = t.OnText(Msg("ping", seq, {}, seq - 2), At(1));
  ExpectFailure(last, "audiohook.too.many.messages");

  ServerSession u = Opened();
  Output fast;
  for (int i = 0; i < 400 && !fast.disconnect; ++i) fast = u.OnBinary(StereoPcmu(160), At(100));  // 8 s at once
  ExpectFailure(fast, "audiohook.position.ahead");

  ServerSession v = Opened();
  ExpectFailure(v.OnText(Msg("discarded", 2, {{"start", "PT0S"}, {"discarded", "PT3600S"}}, 1), At(10)),
                "audiohook.position.ahead");
}

TEST(AudioHookSession, ServerPauseAndResumeAreSentOnceEach) {
  ServerSession s = Opened();
  Output p = s.RequestPause();
  ASSERT_EQ(p.send.size(), 1u);
  EXPECT_EQ(TypeOf(p.send[0]), "pause");
  EXPECT_TRUE(s.RequestPause().send.empty());
  // Audio in flight before the client's `paused` is still fine.
  EXPECT_EQ(s.OnBinary(StereoPcmu(160), At(20)).audio.size(), 2u);
  s.OnText(Msg("paused", 2, {}, 2, "PT0.02S"), At(21));
  Output r = s.RequestResume();
  ASSERT_EQ(r.send.size(), 1u);
  EXPECT_EQ(TypeOf(r.send[0]), "resume");
  EXPECT_TRUE(s.RequestResume().send.empty());

  ServerSession t;
  t.OnText(Msg("open", 1, OpenParams()), At(0));
  Output opened = t.CompleteOpen(true);  // recording already paused at open
  EXPECT_EQ(Parsed(opened.send[0]).at("parameters").at("startPaused"), true);
  EXPECT_TRUE(t.RequestPause().send.empty());
  EXPECT_EQ(t.RequestResume().send.size(), 1u);
}

TEST(AudioHookSession, AfterAnErrorTheCloseTransactionStillGetsClosed) {
  ServerSession s = Opened();
  ExpectFailure(s.OnText(Msg("ping", 9, {}, 1), At(1)), "audiohook.seq.out.of.order");
  EXPECT_TRUE(s.OnText(Msg("ping", 10, {}, 1), At(2)).send.empty());
  EXPECT_TRUE(s.OnBinary(StereoPcmu(160), At(3)).audio.empty());
  Output o = s.OnText(Msg("close", 11, {{"reason", "disconnect"}}, 2), At(4));
  EXPECT_TRUE(o.closed);
  ASSERT_EQ(o.send.size(), 1u);
  json::object closed = Parsed(o.send[0]);
  EXPECT_EQ(closed.at("type"), "closed");
  EXPECT_EQ(closed.at("clientseq"), 11);
}

TEST(AudioHookSession, FailedOpenSendsDisconnect) {
  ServerSession s;
  s.OnText(Msg("open", 1, OpenParams()), At(0));
  Output o = s.FailOpen(DisconnectReason::kError, "media.capacity", "The recorder is at capacity.");
  ExpectFailure(o, "media.capacity");
  EXPECT_EQ(s.state(), State::kFailed);
}

}  // namespace
}  // namespace verbatim::media::audiohook
