// The gRPC transport over loopback with a real grpc++ client: the same
// decisions as REST, the rich error details (google.rpc.Status in
// grpc-status-details-bin), audit of every call and fail-closed audit,
// health and reflection, and bad input that gets a clear status and leaves
// the server serving (docs/grpc.md).
#include "transports/grpc/grpc_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "transports/grpc/call.h"
#include "transports/grpc/status_details.h"
#include "unit/transports/http/faulty_store.h"
#include "unit/transports/http/test_app.h"
#include "verbatim/v1/verbatim.grpc.pb.h"

namespace verbatim::transports::grpc {
namespace {

using api::testing_util::FaultyStore;
using api::testing_util::TestApp;

// A TestApp (real App, real SQLite) with a GrpcServer on a free loopback port.
struct GrpcFixture {
  explicit GrpcFixture(bool faulty_store = false, const Clock& clock = SystemClock::Instance())
      : t(clock, nullptr,
          [this, faulty_store](std::unique_ptr<store::Store> inner) -> std::unique_ptr<store::Store> {
            if (!faulty_store) return inner;
            auto wrapped = std::make_unique<FaultyStore>(std::move(inner));
            faulty = wrapped.get();
            return wrapped;
          }) {
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    server = std::make_unique<GrpcServer>(t.app().services());
    GrpcServerOptions o;
    o.listen = "127.0.0.1:0";
    o.issuer = "http://127.0.0.1:8080";
    Status s = server->Start(o);
    EXPECT_TRUE(s.ok()) << s.ToString();
    channel = ::grpc::CreateChannel(server->address(), ::grpc::InsecureChannelCredentials());
    recordings = v1::Recordings::NewStub(channel);
    conversations = v1::Conversations::NewStub(channel);
    authorization = v1::Authorization::NewStub(channel);
  }
  ~GrpcFixture() { server->Shutdown(); }

  std::unique_ptr<::grpc::ClientContext> Ctx(const std::string& token = {}) {
    auto c = std::make_unique<::grpc::ClientContext>();
    if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return c;
  }
  std::string NewConversation(const std::string& admin_token) {
    v1::CreateConversationRequest q;
    auto* p = q.add_participants();
    p->set_name("Ada");
    p->set_purpose("agent");
    v1::Conversation c;
    auto ctx = Ctx(admin_token);
    auto st = conversations->Create(ctx.get(), q, &c);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return c.id();
  }

  FaultyStore* faulty = nullptr;
  TestApp t;
  std::unique_ptr<GrpcServer> server;
  std::shared_ptr<::grpc::Channel> channel;
  std::unique_ptr<v1::Recordings::Stub> recordings;
  std::unique_ptr<v1::Conversations::Stub> conversations;
  std::unique_ptr<v1::Authorization::Stub> authorization;
};

struct Details {
  google::rpc::ErrorInfo info;
  google::rpc::RequestInfo request;
  std::optional<google::rpc::RetryInfo> retry;
  std::optional<google::rpc::PreconditionFailure> precondition;
  std::optional<google::rpc::BadRequest> bad_request;
  std::optional<v1::Explanation> explanation;
  bool has_info = false, has_request = false;
};

Details Decode(const ::grpc::Status& st) {
  Details d;
  google::rpc::Status rich;
  EXPECT_TRUE(rich.ParseFromString(st.error_details())) << "grpc-status-details-bin is not a google.rpc.Status";
  EXPECT_EQ(rich.code(), static_cast<int>(st.error_code()));
  EXPECT_EQ(rich.message(), st.error_message());
  for (const auto& any : rich.details()) {
    if (any.UnpackTo(&d.info)) d.has_info = true;
    if (any.UnpackTo(&d.request)) d.has_request = true;
    if (google::rpc::RetryInfo r; any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&r)) d.retry = r;
    if (google::rpc::PreconditionFailure p; any.Is<google::rpc::PreconditionFailure>() && any.UnpackTo(&p)) d.precondition = p;
    if (google::rpc::BadRequest b; any.Is<google::rpc::BadRequest>() && any.UnpackTo(&b)) d.bad_request = b;
    if (v1::Explanation e; any.Is<v1::Explanation>() && any.UnpackTo(&e)) d.explanation = e;
  }
  return d;
}

TEST(GrpcMapping, StatusCodesFollowTheRestStatus) {
  EXPECT_EQ(CodeForHttpStatus(401), ::grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CodeForHttpStatus(403), ::grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CodeForHttpStatus(404), ::grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(CodeForHttpStatus(409), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(CodeForHttpStatus(400), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CodeForHttpStatus(429), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(CodeForHttpStatus(503), ::grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CodeForHttpStatus(500), ::grpc::StatusCode::INTERNAL);
  EXPECT_EQ(UpperSnake("recording.invalid.transition"), "RECORDING_INVALID_TRANSITION");
}

TEST(GrpcMapping, PeerAddressDropsSchemeAndPort) {
  EXPECT_EQ(PeerAddress("ipv4:127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:5000"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:%5B2001:db8::1%5D:443"), "2001:db8::1");
  EXPECT_EQ(PeerAddress("unix:/tmp/s"), "unix:/tmp/s");
}

TEST(GrpcServer, WrongScopeIsPermissionDeniedNamingTheScopeAndEveryCallIsAudited) {
  GrpcFixture f;
  auto admin = f.t.CreateAdmin();
  const std::string admin_token = f.t.Token(admin.id, {"admin", "conversation:write", "audit:read"});
  const std::string id = f.NewConversation(admin_token);
  auto crm = f.t.CreateClient("crm", {"recording:write", "recording:control"}, {"Recording Controller"});

  v1::RecordingActionRequest q;
  q.set_conversation_id(id);
  v1::RecordingActionResponse r;
  // One token for both doors: its expiry is part of the explanation compared below.
  const std::string write_token = f.t.Token(crm.id, {"recording:write"});
  auto ctx = f.Ctx(write_token);
  auto st = f.recordings->Start(ctx.get(), q, &r);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::PERMISSION_DENIED);
  Details d = Decode(st);
  ASSERT_TRUE(d.has_info && d.has_request);
  EXPECT_EQ(d.info.reason(), "MISSING_SCOPE");
  EXPECT_EQ(d.info.domain(), "verbatim");
  EXPECT_EQ(d.info.metadata().at("requiredScopes"), "recording:control");
  EXPECT_EQ(d.info.metadata().at("grantedScopes"), "recording:write");
  EXPECT_EQ(d.info.metadata().at("layer"), "scope");
  ASSERT_TRUE(d.explanation.has_value());
  EXPECT_EQ(d.explanation->layers(1).layer(), "scope");
  EXPECT_EQ(d.explanation->layers(1).result(), "fail");
  EXPECT_EQ(d.explanation->http_status(), 403);
  EXPECT_FALSE(d.explanation->fix().empty());
  // The server's context id is the request id, in the initial metadata too.
  const auto& server_md = ctx->GetServerInitialMetadata();
  auto it = server_md.find("x-context-id");
  ASSERT_NE(it, server_md.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), d.request.request_id());

  // The same call over REST: the same code, status and explanation.
  auto rest = f.t.Call("POST", "/api/v2/recordings/conversations/" + id + "/actions/start", write_token);
  ASSERT_EQ(rest.result_int(), 403);
  auto body = json::parse(rest.body()).as_object();
  EXPECT_EQ(json::parse(d.explanation->json()), body.at("explanation"));

  // Allowed with the right scope; the audit log has both calls, by context id, as gRPC.
  auto ok_ctx = f.Ctx(f.t.Token(crm.id, {"recording:control"}));
  ASSERT_TRUE(f.recordings->Start(ok_ctx.get(), q, &r).ok());
  EXPECT_EQ(r.state(), "active");
  EXPECT_TRUE(r.changed());
  ASSERT_TRUE(f.t.app().audit().Flush());
  auto denied = f.t.store().GetAudit(d.request.request_id());
  ASSERT_TRUE(denied.ok()) << denied.status().ToString();
  EXPECT_EQ(denied->path, "/verbatim.v1.Recordings/Start");
  EXPECT_EQ(denied->decision, "deny");
  EXPECT_EQ(denied->code, "missing.scope");
  EXPECT_NE(denied->explanation_json.find("\"transport\":\"grpc\""), std::string::npos) << denied->explanation_json;
  auto allowed = f.t.store().GetAudit(r.transition().context_id());
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->decision, "allow");
  EXPECT_EQ(allowed->status, 200);
}

TEST(GrpcServer, TokenProblemsAreUnauthenticatedAndStateProblemsFailedPrecondition) {
  GrpcFixture f;
  auto admin = f.t.CreateAdmin();
  const std::string token = f.t.Token(admin.id, {"admin", "conversation:write", "recording:control", "recording:read"});
  const std::string id = f.NewConversation(token);

  v1::GetRecordingRequest get;
  get.set_conversation_id(id);
  v1::Recording rec;
  for (const std::string& bad : {std::string(), std::string("forged.token.here"), token + "x"}) {
    auto ctx = f.Ctx(bad);
    auto st = f.recordings->Get(ctx.get(), get, &rec);
    EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNAUTHENTICATED) << "token '" << bad.substr(0, 20) << "'";
    EXPECT_EQ(Decode(st).info.metadata().at("layer"), "token");
  }
  // Pause before start: an invalid transition.
  v1::RecordingActionRequest q;
  q.set_conversation_id(id);
  v1::RecordingActionResponse r;
  auto c1 = f.Ctx(token);
  auto st = f.recordings->Pause(c1.get(), q, &r);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  Details d = Decode(st);
  EXPECT_EQ(d.info.reason(), "RECORDING_INVALID_TRANSITION");
  ASSERT_TRUE(d.precondition.has_value());
  EXPECT_EQ(d.precondition->violations(0).subject(), "conversation/" + id);
  // A refusal by the store (its transaction, success event included, rolled back) is audited as a denial.
  ASSERT_TRUE(f.t.app().audit().Flush());
  auto refused = f.t.store().GetAudit(d.request.request_id());
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->decision, "deny");
  EXPECT_EQ(refused->code, "recording.invalid.transition");
  EXPECT_EQ(refused->status, 409);
  // Disconnected: every action is FAILED_PRECONDITION conversation.ended.
  v1::DisconnectConversationRequest dq;
  dq.set_conversation_id(id);
  v1::Conversation conv;
  auto c2 = f.Ctx(token);
  ASSERT_TRUE(f.conversations->Disconnect(c2.get(), dq, &conv).ok());
  EXPECT_EQ(conv.state(), "disconnected");
  auto c3 = f.Ctx(token);
  st = f.recordings->Start(c3.get(), q, &r);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Decode(st).info.reason(), "CONVERSATION_ENDED");
  // Unknown (but well-formed) conversation: NOT_FOUND, after authorization.
  get.set_conversation_id("6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90");
  auto c4 = f.Ctx(token);
  EXPECT_EQ(f.recordings->Get(c4.get(), get, &rec).error_code(), ::grpc::StatusCode::NOT_FOUND);
  // Not a UUID: INVALID_ARGUMENT with the field.
  get.set_conversation_id("../etc/passwd");
  auto c5 = f.Ctx(token);
  st = f.recordings->Get(c5.get(), get, &rec);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  d = Decode(st);
  ASSERT_TRUE(d.bad_request.has_value());
  EXPECT_EQ(d.bad_request->field_violations(0).field(), "conversationId");
}

TEST(GrpcServer, MalformedAndOversizedMessagesGetAStatusAndTheServerKeepsServing) {
  GrpcFixture f;
  ::grpc::GenericStub generic(f.channel);
  auto call_raw = [&](const std::string& method, const std::string& bytes) {
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ::grpc::Slice slice(bytes);
    ::grpc::ByteBuffer req(&slice, 1), resp;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    ::grpc::Status out;
    generic.UnaryCall(&ctx, method, ::grpc::StubOptions(), &req, &resp, [&](::grpc::Status s) {
      std::lock_guard lock(mu);
      out = std::move(s);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return std::make_pair(out, resp);
  };
  // Not a protobuf at all: a truncated length-delimited field.
  auto [malformed, unused] = call_raw("/verbatim.v1.Recordings/Get", std::string("\x0a\xff\xff\xff\x0f", 5));
  EXPECT_EQ(malformed.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT) << "[" << malformed.error_message() << "]";
  EXPECT_NE(malformed.error_message().find("/verbatim.v1.Recordings/Get"), std::string::npos)
      << malformed.error_message();
  // Over the 64 KiB limit.
  v1::RecordingActionRequest huge;
  huge.set_conversation_id("x");
  huge.set_reason(std::string(100 * 1024, 'a'));
  v1::RecordingActionResponse r;
  auto ctx = f.Ctx();
  EXPECT_EQ(f.recordings->Start(ctx.get(), huge, &r).error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Still serving: health says SERVING (grpc.health.v1: an empty request; status field 1 = SERVING).
  auto [health, reply] = call_raw("/grpc.health.v1.Health/Check", std::string());
  ASSERT_TRUE(health.ok()) << health.error_message();
  std::vector<::grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

TEST(GrpcServer, ReflectionListsTheServices) {
  GrpcFixture f;
  ::grpc::GenericStub generic(f.channel);
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ::grpc::CompletionQueue cq;
  auto stream = generic.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  stream->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  // ServerReflectionRequest{list_services: ""} = field 7, length 0.
  ::grpc::Slice slice(std::string("\x3a\x00", 2));
  ::grpc::ByteBuffer req(&slice, 1), resp;
  stream->Write(req, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  stream->Read(&resp, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  std::vector<::grpc::Slice> slices;
  ASSERT_TRUE(resp.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  for (const char* service : {"verbatim.v1.Recordings", "verbatim.v1.Conversations", "verbatim.v1.Authorization",
                              "grpc.health.v1.Health"})
    EXPECT_NE(bytes.find(service), std::string::npos) << service;
  ctx.TryCancel();
  ::grpc::Status finished;
  stream->Finish(&finished, reinterpret_cast<void*>(4));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST(GrpcServer, WatchSeesTransitionsMadeOverRestAndEndsWithTheConversation) {
  GrpcFixture f;
  auto admin = f.t.CreateAdmin();
  const std::string token = f.t.Token(admin.id, {"admin", "conversation:write", "recording:control", "recording:read"});
  const std::string id = f.NewConversation(token);
  v1::WatchRequest q;
  q.set_conversation_id(id);
  auto ctx = f.Ctx(token);
  auto reader = f.recordings->Watch(ctx.get(), q);
  v1::RecordingEvent e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.kind(), v1::RecordingEvent::SNAPSHOT);
  EXPECT_EQ(e.state(), "none");
  ASSERT_EQ(f.t.Call("POST", "/api/v2/recordings/conversations/" + id + "/actions/start", token).result_int(), 200);
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.kind(), v1::RecordingEvent::TRANSITION);
  EXPECT_EQ(e.state(), "active");
  EXPECT_EQ(e.transition().action(), "start");
  ASSERT_EQ(f.t.Call("POST", "/api/v2/conversations/" + id + "/disconnect", token).result_int(), 200);
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.kind(), v1::RecordingEvent::ENDED);
  EXPECT_EQ(e.state(), "stopped");
  EXPECT_FALSE(reader->Read(&e)) << "the stream ends after ENDED";
  EXPECT_TRUE(reader->Finish().ok());
}

TEST(GrpcServer, AnExpiredTokenIsUnauthenticatedOverGrpcAsOverRest) {
  FakeClock clock(SystemClock::Instance().Now());
  GrpcFixture f(/*faulty_store=*/false, clock);
  auto admin = f.t.CreateAdmin();
  const std::string token = f.t.Token(admin.id, {"admin", "conversation:write", "recording:read"});
  const std::string id = f.NewConversation(token);
  clock.Advance(std::chrono::hours(25));  // past any token lifetime and the leeway
  v1::GetRecordingRequest q;
  q.set_conversation_id(id);
  v1::Recording rec;
  auto ctx = f.Ctx(token);
  auto st = f.recordings->Get(ctx.get(), q, &rec);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::UNAUTHENTICATED);
  Details d = Decode(st);
  EXPECT_EQ(d.info.reason(), "TOKEN_EXPIRED");
  ASSERT_TRUE(d.explanation.has_value());
  EXPECT_EQ(d.explanation->layers(0).result(), "fail");
  auto rest = f.t.Call("GET", "/api/v2/recordings/conversations/" + id, token);
  EXPECT_EQ(rest.result_int(), 401);
  EXPECT_EQ(json::parse(rest.body()).as_object().at("code").as_string(), "token.expired");
}

TEST(GrpcServer, RefusesEveryCallWhileTheAuditLogCannotRecord) {
  GrpcFixture f(/*faulty_store=*/true);
  ASSERT_NE(f.faulty, nullptr);
  auto admin = f.t.CreateAdmin();
  const std::string token = f.t.Token(admin.id, {"admin"});
  f.faulty->FailAudit(true);
  ::grpc::Status st;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  // Reads are answered until the writer's next batch fails; from then on, refusals.
  do {
    v1::TokensMeRequest q;
    v1::TokensMeResponse r;
    auto ctx = f.Ctx(token);
    st = f.authorization->TokensMe(ctx.get(), q, &r);
  } while (st.ok() && std::chrono::steady_clock::now() < until);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::UNAVAILABLE) << st.error_message();
  Details d = Decode(st);
  EXPECT_EQ(d.info.reason(), "AUDIT_UNAVAILABLE");
  ASSERT_TRUE(d.retry.has_value());
  EXPECT_GE(d.retry->retry_delay().seconds(), 1);
  f.faulty->FailAudit(false);
}

}  // namespace
}  // namespace verbatim::transports::grpc
