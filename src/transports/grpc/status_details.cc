#include "transports/grpc/status_details.h"

#include <algorithm>
#include <cctype>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "verbatim/v1/verbatim.pb.h"

namespace verbatim::transports::grpc {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// The rich status: `code`/`message` as the call's, each detail packed in an Any.
class Rich {
 public:
  Rich(::grpc::StatusCode code, std::string message) : code_(code) {
    st_.set_code(static_cast<int>(code));
    st_.set_message(std::move(message));
  }
  template <class Msg>
  void Add(const Msg& m) {
    st_.add_details()->PackFrom(m);
  }
  void AddRequestInfo(std::string_view context_id) {
    google::rpc::RequestInfo ri;
    ri.set_request_id(std::string(context_id));
    Add(ri);
  }
  void AddRetry(std::chrono::seconds after) {
    google::rpc::RetryInfo r;
    r.mutable_retry_delay()->set_seconds(std::max<int64_t>(1, after.count()));
    Add(r);
  }
  void AddHelp(const DetailsContext& c, bool replay) {
    if (c.issuer.empty()) return;
    google::rpc::Help h;
    auto* api = h.add_links();
    api->set_description("Every operation, field and error code (the REST twin of this API; docs/api.md §3 explains the codes)");
    api->set_url(std::string(c.issuer) + "/api/v2/openapi.json");
    if (replay) {
      auto* audit = h.add_links();
      audit->set_description("This decision as the audit log recorded it (scope audit:read)");
      audit->set_url(std::string(c.issuer) + "/api/v2/audit/events/" + std::string(c.context_id));
    }
    Add(h);
  }
  ::grpc::Status Build() const { return {code_, st_.message(), st_.SerializeAsString()}; }

 private:
  ::grpc::StatusCode code_;
  google::rpc::Status st_;
};

}  // namespace

v1::Explanation ExplanationOf(const authz::Decision& d, std::string_view context_id) {
  v1::Explanation e;
  e.set_decision(d.allowed ? "allow" : "deny");
  e.set_action(d.action);
  e.set_resource(d.resource);
  if (d.principal) {
    auto* p = e.mutable_principal();
    p->set_type(d.principal->type);
    p->set_id(d.principal->id);
    p->set_name(d.principal->name);
    for (const auto& r : d.principal->roles) e.add_principal_roles(r);
  }
  for (const auto& l : d.layers) {
    auto* o = e.add_layers();
    o->set_layer(authz::ToString(l.layer));
    o->set_result(authz::ToString(l.outcome));
    o->set_code(l.code);
    // As ExplanationJson shows them: required/granted for the scope and permission layers.
    if (l.outcome != authz::Outcome::kNotEvaluated && (l.layer == authz::Layer::kScope || l.layer == authz::Layer::kPermission)) {
      for (const auto& r : l.required) o->add_required(r);
      if (l.outcome == authz::Outcome::kFail || l.layer == authz::Layer::kScope)
        for (const auto& g : l.granted) o->add_granted(g);
    }
    o->set_granted_by(l.granted_by);
    o->set_detail(l.detail);
    if (!l.extra.empty()) o->set_facts_json(json::serialize(l.extra));
  }
  for (const auto& f : d.fix) e.add_fix(f);
  for (const auto& n : d.history) {
    auto* h = e.add_history();
    h->set_layer(n.layer);
    h->set_change_id(n.change_id);
    h->set_kind(n.kind);
    h->set_at(n.at);
    h->mutable_by()->set_type(n.actor_type);
    h->mutable_by()->set_id(n.actor_id);
    h->mutable_by()->set_name(n.actor_name);
    h->set_by_client_id(n.actor_client_id);
    h->set_context_id(n.context_id);
    h->set_message(n.message);
    h->set_fix(n.fix);
  }
  e.set_code(d.code);
  e.set_message(d.message);
  e.set_http_status(d.allowed ? 200 : d.status);
  e.set_context_id(std::string(context_id));
  e.set_json(ToValidUtf8(json::serialize(authz::ExplanationJson(d))));
  return e;
}

::grpc::StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 200: return ::grpc::StatusCode::OK;
    case 400: return ::grpc::StatusCode::INVALID_ARGUMENT;
    case 401: return ::grpc::StatusCode::UNAUTHENTICATED;
    case 403: return ::grpc::StatusCode::PERMISSION_DENIED;
    case 404: return ::grpc::StatusCode::NOT_FOUND;
    case 409: return ::grpc::StatusCode::FAILED_PRECONDITION;
    case 413:
    case 429: return ::grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 503: return ::grpc::StatusCode::UNAVAILABLE;
    default: return ::grpc::StatusCode::INTERNAL;
  }
}

std::string UpperSnake(std::string_view code) {
  std::string out(code);
  for (auto& c : out) c = (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

::grpc::Status DenialStatus(const authz::Decision& d, const DetailsContext& c) {
  Rich rich(CodeForHttpStatus(d.status), ToValidUtf8(d.message));
  google::rpc::ErrorInfo info;
  info.set_reason(UpperSnake(d.code));
  info.set_domain("verbatim");
  auto& md = *info.mutable_metadata();
  md["code"] = d.code;
  md["httpStatus"] = std::to_string(d.status);
  md["contextId"] = std::string(c.context_id);
  md["action"] = d.action;
  md["resource"] = ToValidUtf8(d.resource);
  if (const authz::LayerResult* failed = authz::FirstFailure(d)) md["layer"] = authz::ToString(failed->layer);
  const auto& scope = d.layer(authz::Layer::kScope);
  const auto& perm = d.layer(authz::Layer::kPermission);
  if (scope.outcome != authz::Outcome::kNotEvaluated) {
    md["requiredScopes"] = Join(scope.required);
    md["grantedScopes"] = Join(scope.granted);
  }
  if (perm.outcome == authz::Outcome::kFail) {
    md["requiredPermissions"] = Join(perm.required);
    md["grantedPermissions"] = Join(perm.granted);
  }
  if (d.principal) md["principal"] = d.principal->id;
  rich.Add(info);
  rich.AddRequestInfo(c.context_id);
  if (d.status == 409) {
    google::rpc::PreconditionFailure pf;
    auto* v = pf.add_violations();
    v->set_type(d.code);
    v->set_subject(ToValidUtf8(d.resource));
    v->set_description(ToValidUtf8(d.layer(authz::Layer::kResource).detail));
    rich.Add(pf);
  }
  if (d.status == 429 || d.status == 503) rich.AddRetry(c.retry_after);
  rich.AddHelp(c, /*replay=*/true);
  rich.Add(ExplanationOf(d, c.context_id));
  return rich.Build();
}

::grpc::Status InvalidStatus(const service::Refusal& r, const DetailsContext& c) {
  Rich rich(::grpc::StatusCode::INVALID_ARGUMENT, ToValidUtf8(r.message));
  google::rpc::ErrorInfo info;
  info.set_reason("BAD_REQUEST");
  info.set_domain("verbatim");
  auto& md = *info.mutable_metadata();
  md["code"] = "bad.request";
  md["httpStatus"] = "400";
  md["contextId"] = std::string(c.context_id);
  if (!r.field.empty()) md["field"] = r.field;
  if (!r.expected.empty()) md["expected"] = r.expected;
  if (!r.fix.empty()) md["fix"] = r.fix;
  rich.Add(info);
  google::rpc::BadRequest br;
  auto* v = br.add_field_violations();
  v->set_field(r.field);
  v->set_description(ToValidUtf8(r.message));
  rich.Add(br);
  rich.AddRequestInfo(c.context_id);
  rich.AddHelp(c, /*replay=*/false);
  return rich.Build();
}

::grpc::Status FailureStatus(const Status& s, const DetailsContext& c) {
  const int http = service::HttpStatusOf(s);
  const bool internal = http == 500;
  Rich rich(CodeForHttpStatus(http),
            internal ? "Internal error. Quote contextId " + std::string(c.context_id) + " to find it in the server log."
                     : ToValidUtf8(s.message()));
  google::rpc::ErrorInfo info;
  info.set_reason(UpperSnake(internal ? "internal" : s.code()));
  info.set_domain("verbatim");
  (*info.mutable_metadata())["code"] = internal ? "internal" : s.code();
  (*info.mutable_metadata())["httpStatus"] = std::to_string(http);
  (*info.mutable_metadata())["contextId"] = std::string(c.context_id);
  rich.Add(info);
  rich.AddRequestInfo(c.context_id);
  if (http == 503) rich.AddRetry(c.retry_after);
  return rich.Build();
}

::grpc::Status AuditUnavailableStatus(const service::AuditLog::Health& h, const DetailsContext& c) {
  const std::string reason(service::AuditUnavailableReason(h));
  const auto after = service::AuditRetryAfter(h);
  Rich rich(::grpc::StatusCode::UNAVAILABLE, service::AuditUnavailableMessage(h));
  google::rpc::ErrorInfo info;
  info.set_reason("AUDIT_UNAVAILABLE");
  info.set_domain("verbatim");
  (*info.mutable_metadata())["code"] = "audit.unavailable";
  (*info.mutable_metadata())["httpStatus"] = "503";
  (*info.mutable_metadata())["reason"] = reason;
  (*info.mutable_metadata())["contextId"] = std::string(c.context_id);
  rich.Add(info);
  rich.AddRequestInfo(c.context_id);
  rich.AddRetry(after);
  return rich.Build();
}

}  // namespace verbatim::transports::grpc
