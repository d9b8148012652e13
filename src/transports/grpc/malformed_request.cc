#include "transports/grpc/malformed_request.h"

#include <string>

namespace verbatim::transports::grpc {
namespace {

using ::grpc::experimental::InterceptionHookPoints;

class MalformedRequestInterceptor : public ::grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(::grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr)
      malformed_ = true;
    if (malformed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == ::grpc::StatusCode::INTERNAL) {
      methods->ModifySendStatus(::grpc::Status(
          ::grpc::StatusCode::INVALID_ARGUMENT,
          "The request to " + method_ +
              " is not a valid protobuf message of its type; see proto/verbatim/v1/verbatim.proto (docs/grpc.md)."));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  bool malformed_ = false;
};

}  // namespace

::grpc::experimental::Interceptor* MalformedRequestInterceptorFactory::CreateServerInterceptor(
    ::grpc::experimental::ServerRpcInfo* info) {
  return new MalformedRequestInterceptor(info->method());
}

}  // namespace verbatim::transports::grpc
