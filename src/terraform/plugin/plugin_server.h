// Runs the provider as a Terraform plugin: handshake, a gRPC server on a unix
// socket with mutual TLS, the Provider service, go-plugin's controller (its
// Shutdown ends the process) and stdio services, and the gRPC health service
// (service "plugin" SERVING). Returns the process exit code.
#pragma once

namespace verbatim::terraform::plugin {

int RunPlugin();

}  // namespace verbatim::terraform::plugin
