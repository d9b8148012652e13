// An AdminApi that answers from a function and records every call, for
// testing resources without a server (the e2e tests use the real one).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "terraform/admin_api.h"

namespace verbatim::terraform::testing_util {

struct RecordedCall {
  std::string method;
  std::string path;
  json::value body;  // null when none
};

class FakeApi final : public AdminApi {
 public:
  using Handler = std::function<ApiResponse(const RecordedCall&)>;
  explicit FakeApi(Handler h) : handler_(std::move(h)) {}

  Result<ApiResponse> Call(std::string_view method, std::string_view path, const json::value* body) override {
    RecordedCall c{std::string(method), std::string(path), body ? *body : json::value(nullptr)};
    std::lock_guard lock(mu_);
    calls_.push_back(c);
    return handler_(c);
  }

  std::vector<RecordedCall> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<RecordedCall> CallsTo(std::string_view method, std::string_view path) const {
    std::vector<RecordedCall> out;
    for (const auto& c : calls())
      if (c.method == method && c.path == path) out.push_back(c);
    return out;
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<RecordedCall> calls_;
};

inline ApiResponse Answer(int status, std::string_view body_json) {
  ApiResponse r;
  r.status = status;
  if (!body_json.empty()) r.body = json::parse(body_json);
  return r;
}

}  // namespace verbatim::terraform::testing_util
