// The gRPC baseline of `make bench` (figure grpc_get, docs/performance.md): a
// bare grpc++ sync server implementing verbatim.v1.Recordings/Get only, built
// with the server options of src/transports/grpc/grpc_server.cc (ResourceQuota
// of 64 threads, 64 KiB max message, the same keepalive and concurrent-stream
// channel args, the default health service and reflection), plaintext. Every
// Get is answered with one canned Recording, read once at start from
// --response (the serialized bytes of verbatim's own answer for the benchmark's
// conversation, saved by `grpc_load --save-response`), so both servers send
// the same bytes and "verbatim vs bare" measures the application, not gRPC.
// No authorization, no store, no audit, no log: that is the difference measured.
//
//   grpc_bare_server --response FILE [--listen 127.0.0.1:0] [--port-file FILE]
// prints the bound port on stdout (and writes it to FILE) once serving; stops
// on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "verbatim/v1/verbatim.grpc.pb.h"

namespace {

namespace v1 = verbatim::v1;

// As GrpcServerOptions' defaults (src/transports/grpc/grpc_server.h).
constexpr int kMaxMessageBytes = 64 * 1024;
constexpr int kMaxThreads = 64;

class BareRecordings final : public v1::Recordings::Service {
 public:
  explicit BareRecordings(v1::Recording canned) : canned_(std::move(canned)) {}

  ::grpc::Status Get(::grpc::ServerContext*, const v1::GetRecordingRequest*, v1::Recording* r) override {
    *r = canned_;  // verbatim also fills a fresh message per call
    return ::grpc::Status::OK;
  }

 private:
  const v1::Recording canned_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", port_file, response_file;
  bool usage = argc % 2 == 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--listen") listen = argv[i + 1];
    else if (a == "--port-file") port_file = argv[i + 1];
    else if (a == "--response") response_file = argv[i + 1];
    else usage = true;
  }
  if (usage || response_file.empty()) {
    std::cerr << "usage: grpc_bare_server --response FILE [--listen HOST:PORT] [--port-file FILE]\n";
    return 1;
  }
  std::ifstream in(response_file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  v1::Recording canned;
  if (!in || bytes.empty() || !canned.ParseFromString(bytes)) {
    std::cerr << "grpc_bare_server: " << response_file << " is not a serialized verbatim.v1.Recording\n";
    return 1;
  }

  // Blocked before gRPC starts its threads (they inherit the mask), taken by sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  BareRecordings service(std::move(canned));
  ::grpc::EnableDefaultHealthCheckService(true);
  ::grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ::grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, ::grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  ::grpc::ResourceQuota quota("bare-grpc");
  quota.SetMaxThreads(kMaxThreads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100);
  builder.RegisterService(&service);
  std::unique_ptr<::grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "grpc_bare_server: cannot listen on " << listen << "\n";
    return 1;
  }
  if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(true);

  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << port << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::cout << port << std::endl;

  // gRPC's own threads serve; this one only waits for a signal (as verbatim's
  // main thread does while the gRPC server runs).
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
