// A request that is not valid protobuf gets INVALID_ARGUMENT and a sentence
// saying so. gRPC's sync server would answer INTERNAL with an empty message
// (proto3 has no "initialization errors" to report): this interceptor sees
// the failed parse (no message after POST_RECV_MESSAGE) and rewrites the
// status before it is sent.
#pragma once

#include <grpcpp/support/server_interceptor.h>

namespace verbatim::transports::grpc {

class MalformedRequestInterceptorFactory : public ::grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ::grpc::experimental::Interceptor* CreateServerInterceptor(::grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace verbatim::transports::grpc
