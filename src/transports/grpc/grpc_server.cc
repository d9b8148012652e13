#include "transports/grpc/grpc_server.h"

#include <fstream>
#include <sstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include "transports/grpc/malformed_request.h"
#include "transports/grpc/services.h"

namespace verbatim::transports::grpc {
namespace {

Result<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("grpc.tls", "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

struct GrpcServer::Impl {
  explicit Impl(service::Services core) : deps{core, {}} {}
  Deps deps;
  std::unique_ptr<RecordingsService> recordings;
  std::unique_ptr<ConversationsService> conversations;
  std::unique_ptr<AuthorizationService> authorization;
  std::unique_ptr<::grpc::Server> server;
};

GrpcServer::GrpcServer(service::Services core) : impl_(std::make_unique<Impl>(core)) {}

GrpcServer::~GrpcServer() { Shutdown(); }

Status GrpcServer::Start(const GrpcServerOptions& o) {
  impl_->deps.issuer = o.issuer;
  impl_->recordings = std::make_unique<RecordingsService>(impl_->deps, o.max_watches);
  impl_->conversations = std::make_unique<ConversationsService>(impl_->deps);
  impl_->authorization = std::make_unique<AuthorizationService>(impl_->deps);

  ::grpc::EnableDefaultHealthCheckService(true);
  ::grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::shared_ptr<::grpc::ServerCredentials> creds = ::grpc::InsecureServerCredentials();
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    auto cert = ReadPem(o.tls_cert);
    if (!cert.ok()) return cert.status();
    auto key = ReadPem(o.tls_key);
    if (!key.ok()) return key.status();
    ::grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = ::grpc::SslServerCredentials(ssl);
  }
  ::grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(o.listen, creds, &port);
  builder.SetMaxReceiveMessageSize(o.max_message_bytes);
  ::grpc::ResourceQuota quota("verbatim-grpc");
  quota.SetMaxThreads(o.max_threads);
  builder.SetResourceQuota(quota);
  // Dead peers are noticed (a Watch client that vanished without a FIN).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100);
  std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<MalformedRequestInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(impl_->recordings.get());
  builder.RegisterService(impl_->conversations.get());
  builder.RegisterService(impl_->authorization.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port == 0)
    return Status::Unavailable("grpc.listen", "cannot listen for gRPC on " + o.listen + " (in use, or not an address)");
  const std::string host = o.listen.substr(0, o.listen.rfind(':'));
  address_ = host + ":" + std::to_string(port);
  if (auto* health = impl_->server->GetHealthCheckService()) health->SetServingStatus(true);
  return Status::Ok();
}

void GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  if (!impl_->server) return;
  impl_->recordings->StopWatches();
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace verbatim::transports::grpc
