#include "transports/http/respond.h"

#include <boost/beast/http/field.hpp>

namespace verbatim::api {

HttpResponse JsonResponse(int status, const json::value& body) {
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  // Messages may quote request bytes (a Content-Type, a path) that are not UTF-8.
  res.body() = ToValidUtf8(json::serialize(body));
  return res;
}

HttpResponse EmptyResponse(int status) {
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::cache_control, "no-store");
  return res;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message, std::string_view context_id,
                           std::optional<json::object> explanation, std::string_view message_template,
                           const Params& params) {
  json::object body;
  body["status"] = status;
  body["code"] = code;
  body["message"] = message;
  body["messageWithParams"] = message_template.empty() ? message : message_template;
  json::object p;
  for (const auto& [k, v] : params) p[k] = v;
  body["messageParams"] = std::move(p);
  body["contextId"] = context_id;
  if (explanation) body["explanation"] = std::move(*explanation);
  return JsonResponse(status, body);
}

namespace {
// Quoted-string per RFC 7230: no quotes or backslashes inside.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}
}  // namespace

HttpResponse DecisionResponse(const authz::Decision& d, std::string_view context_id) {
  HttpResponse res = ErrorResponse(d.status, d.code, d.message, context_id, authz::ExplanationJson(d),
                                   d.message_template, d.params);
  if (d.status == 401) {
    res.set(http::field::www_authenticate, "Bearer realm=\"verbatim\", error=\"invalid_token\", error_description=" +
                                               Quote(d.message));
  } else if (d.status == 403 && !d.insufficient_scopes.empty()) {
    std::string scopes;
    for (const auto& s : d.insufficient_scopes) scopes += (scopes.empty() ? "" : " ") + s;
    res.set(http::field::www_authenticate,
            "Bearer realm=\"verbatim\", error=\"insufficient_scope\", scope=" + Quote(scopes) +
                ", error_description=" + Quote(d.message));
  }
  return res;
}

json::object InputProblem(std::string_view field, std::string_view expected, std::string_view fix) {
  json::object e;
  e["decision"] = "invalid-input";
  if (!field.empty()) e["field"] = field;
  if (!expected.empty()) e["expected"] = expected;
  json::array f;
  if (!fix.empty()) f.emplace_back(fix);
  e["fix"] = std::move(f);
  return e;
}

HttpResponse OAuthError(int status, std::string_view error, std::string_view description,
                        std::string_view context_id, json::array history) {
  json::object body;
  body["error"] = error;
  body["error_description"] = description;
  body["contextId"] = context_id;
  if (!history.empty()) body["history"] = std::move(history);
  HttpResponse res = JsonResponse(status, body);
  res.set(http::field::pragma, "no-cache");
  if (status == 401) res.set(http::field::www_authenticate, "Basic realm=\"verbatim\", charset=\"UTF-8\"");
  return res;
}

}  // namespace verbatim::api
