#include "terraform/plugin/plugin_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/mutex.h"
#include "goplugin/grpc_controller.grpc.pb.h"
#include "goplugin/grpc_stdio.grpc.pb.h"
#include "terraform/log.h"
#include "terraform/plugin/handshake.h"
#include "terraform/plugin/provider_service.h"

namespace verbatim::terraform::plugin {
namespace {

// Set by Shutdown (or SIGTERM); the main thread then stops the server, which
// cannot be done from inside one of its own handlers.
struct ShutdownSignal {
  Mutex mu;
  std::condition_variable cv;
  bool requested GUARDED_BY(mu) = false;

  void Request() {
    {
      MutexLock lock(mu);
      requested = true;
    }
    cv.notify_all();
  }
  void Wait() {
    MutexLock lock(mu);
    cv.wait(lock.native(), [this] {
      mu.AssertHeld();
      return requested;
    });
  }
};

class Controller final : public ::plugin::GRPCController::Service {
 public:
  explicit Controller(ShutdownSignal& s) : shutdown_(s) {}
  grpc::Status Shutdown(grpc::ServerContext*, const ::plugin::Empty*, ::plugin::Empty*) override {
    Log(LogLevel::kDebug, "shutdown requested by the plugin host");
    shutdown_.Request();
    return grpc::Status::OK;
  }

 private:
  ShutdownSignal& shutdown_;
};

class Stdio final : public ::plugin::GRPCStdio::Service {
 public:
  // We log to stderr ourselves; an empty stream tells the host there is nothing to mirror.
  grpc::Status StreamStdio(grpc::ServerContext*, const google::protobuf::Empty*,
                           grpc::ServerWriter<::plugin::StdioData>*) override {
    return grpc::Status::OK;
  }
};

}  // namespace

int RunPlugin() {
  // SIGTERM is taken by one thread with sigwait, so no handler runs inside
  // gRPC's threads; the mask is set before any thread exists and inherited.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  // Terraform signals the whole process group on Ctrl-C and then asks us to
  // stop through the controller; like go-plugin's servers, ignore SIGINT.
  signal(SIGINT, SIG_IGN);

  auto env = ReadHandshakeEnv([](const char* k) { return std::getenv(k); });
  if (!env.ok()) {
    std::fprintf(stderr, "terraform-provider-verbatim: %s\n", env.status().message().c_str());
    return 1;
  }
  auto cert = MakeServerCert();
  if (!cert.ok()) {
    std::fprintf(stderr, "terraform-provider-verbatim: %s\n", cert.status().message().c_str());
    return 1;
  }
  std::string tmpl = (std::filesystem::path(env->socket_dir) / "tfpv-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "terraform-provider-verbatim: cannot create a socket directory in %s\n", env->socket_dir.c_str());
    return 1;
  }
  const std::string dir = tmpl;  // mode 0700: only this user may reach the socket
  const std::string socket_path = dir + "/plugin.sock";

  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = env->client_cert_pem;  // only the Terraform process that started us
  ssl.pem_key_cert_pairs.push_back({cert->key_pem, cert->cert_pem});

  terraform::Provider provider;
  ProviderService provider_service(provider);
  static ShutdownSignal shutdown;  // static: the detached sigwait thread may outlive this frame
  std::thread([term] {
    int sig = 0;
    if (sigwait(&term, &sig) == 0) shutdown.Request();
  }).detach();
  Controller controller(shutdown);
  Stdio stdio;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::SslServerCredentials(ssl));
  builder.SetMaxReceiveMessageSize(256 << 20);  // Terraform's own limit
  builder.RegisterService(&provider_service);
  builder.RegisterService(&controller);
  builder.RegisterService(&stdio);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "terraform-provider-verbatim: cannot listen on %s\n", socket_path.c_str());
    std::filesystem::remove_all(dir);
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus("plugin", true);

  std::string line = HandshakeLine(socket_path, cert->cert_der) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  Log(LogLevel::kDebug, "serving", {{"socket", socket_path}, {"version", kProviderVersion}});

  shutdown.Wait();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Wait();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace verbatim::terraform::plugin
