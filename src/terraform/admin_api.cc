#include "terraform/admin_api.h"

namespace verbatim::terraform {

const json::value* JField(const json::value& v, std::string_view key) {
  return v.is_object() ? v.as_object().if_contains(key) : nullptr;
}

bool JBool(const json::value& v, std::string_view key) {
  const auto* f = JField(v, key);
  return f && f->is_bool() && f->as_bool();
}

std::string JStr(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

std::vector<std::string> JStrings(const json::value& v, std::string_view key) {
  std::vector<std::string> out;
  if (!v.is_object()) return out;
  const auto* f = v.as_object().if_contains(key);
  if (!f || !f->is_array()) return out;
  for (const auto& e : f->as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

std::string ApiResponse::code() const { return JStr(body, "code"); }

std::string ApiResponse::field() const {
  if (!body.is_object()) return {};
  const auto* e = body.as_object().if_contains("explanation");
  return e ? JStr(*e, "field") : std::string();
}

Diagnostic ApiError(const std::string& what, const ApiResponse& r, std::vector<std::string> attribute) {
  std::string code = r.code();
  std::string summary = what + ": verbatim answered " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
  std::string detail = JStr(r.body, "message");
  if (detail.empty()) detail = JStr(r.body, "error_description");
  if (r.body.is_object()) {
    if (const auto* e = r.body.as_object().if_contains("explanation")) {
      for (const auto& f : JStrings(*e, "fix")) detail += "\nFix: " + f;
    }
  }
  std::string context = r.context_id.empty() ? JStr(r.body, "contextId") : r.context_id;
  if (!context.empty())
    detail += "\n(contextId " + context + ": `verbatim explain --context-id " + context +
              "` replays the decision from the audit log.)";
  return Error(std::move(summary), std::move(detail), std::move(attribute));
}

Diagnostic Unreachable(const std::string& what, const Status& s) {
  return Error(what + ": no answer from verbatim", s.message());
}

}  // namespace verbatim::terraform
