// Status and Result<T>: how every module reports failure without exceptions.
//
// A Status carries a coarse Kind (what the caller can do about it), a stable
// machine code (docs/api.md §3: "conversation.not.found", "token.expired", ...; these
// strings are API and tests pin them) and a human message. Result<T> is a T or
// a non-ok Status. Both are cheap to move and safe to copy.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace verbatim {

class Status {
 public:
  enum class Kind {
    kOk,
    kInvalidArgument,     // caller sent something malformed
    kNotFound,            // the named thing does not exist
    kAlreadyExists,       // uniqueness violated
    kFailedPrecondition,  // valid request, wrong state (409)
    kPermissionDenied,    // authenticated but not allowed
    kUnauthenticated,     // no or bad credentials
    kResourceExhausted,   // limits, capacity, rate
    kUnavailable,         // try again later
    kInternal,            // our bug or an I/O failure; never shown verbatim
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string code, std::string msg) { return {Kind::kInvalidArgument, std::move(code), std::move(msg)}; }
  static Status NotFound(std::string code, std::string msg) { return {Kind::kNotFound, std::move(code), std::move(msg)}; }
  static Status AlreadyExists(std::string code, std::string msg) { return {Kind::kAlreadyExists, std::move(code), std::move(msg)}; }
  static Status FailedPrecondition(std::string code, std::string msg) { return {Kind::kFailedPrecondition, std::move(code), std::move(msg)}; }
  static Status PermissionDenied(std::string code, std::string msg) { return {Kind::kPermissionDenied, std::move(code), std::move(msg)}; }
  static Status Unauthenticated(std::string code, std::string msg) { return {Kind::kUnauthenticated, std::move(code), std::move(msg)}; }
  static Status ResourceExhausted(std::string code, std::string msg) { return {Kind::kResourceExhausted, std::move(code), std::move(msg)}; }
  static Status Unavailable(std::string code, std::string msg) { return {Kind::kUnavailable, std::move(code), std::move(msg)}; }
  static Status Internal(std::string msg) { return {Kind::kInternal, "internal", std::move(msg)}; }

  bool ok() const { return kind_ == Kind::kOk; }
  const Status& status() const { return *this; }  // uniform with Result<T>
  Kind kind() const { return kind_; }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Kind kind, std::string code, std::string msg)
      : kind_(kind), code_(std::move(code)), message_(std::move(msg)) {}

  Kind kind_ = Kind::kOk;
  std::string code_;
  std::string message_;
};

const char* KindName(Status::Kind kind);

// A value or the reason there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {      // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result needs a value or a failure");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace verbatim

// Propagates a failed Status/Result out of the current function.
#define VERBATIM_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    auto&& verbatim_s_ = (expr);                         \
    if (!verbatim_s_.ok()) return verbatim_s_.status();  \
  } while (0)
