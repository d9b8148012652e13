// Commands that talk to a running server: token, explain.
#include <algorithm>
#include <array>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "cli/http_client.h"
#include "core/json.h"
#include "oauth/form.h"

namespace verbatim::cli {
namespace {

std::string Join(const json::value* v) {
  if (!v || !v->is_array()) return "";
  std::string out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out += (out.empty() ? "" : " ") + std::string(e.as_string());
  return out;
}

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// The layer table: what each layer required, what the request had, the
// verdict. Columns are as wide as their widest cell, so long scope and
// permission lists never run into the next column.
void PrintExplanation(const json::object& explanation) {
  std::vector<std::array<std::string, 5>> rows = {{"LAYER", "RESULT", "REQUIRED", "GRANTED", "NOTE"}};
  auto layers = explanation.find("layers");
  if (layers != explanation.end() && layers->value().is_array()) {
    for (const auto& lv : layers->value().as_array()) {
      if (!lv.is_object()) continue;
      const auto& l = lv.as_object();
      std::string note = Str(l, "grantedBy").empty() ? Str(l, "detail") : "granted by " + Str(l, "grantedBy");
      if (!Str(l, "code").empty()) note = Str(l, "code") + (note.empty() ? "" : ": " + note);
      rows.push_back({Str(l, "layer"), Str(l, "result"), Join(l.if_contains("required")),
                      Join(l.if_contains("granted")), note});
    }
  }
  std::array<size_t, 4> width{};
  for (const auto& r : rows)
    for (size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    for (size_t i = 0; i < width.size(); ++i) std::cout << std::left << std::setw(static_cast<int>(width[i] + 2)) << r[i];
    std::cout << r[4] << "\n";
  }
  auto fix = explanation.find("fix");
  if (fix != explanation.end() && fix->value().is_array() && !fix->value().as_array().empty()) {
    std::cout << "\nFix:\n";
    for (const auto& f : fix->value().as_array())
      if (f.is_string()) std::cout << "  - " << std::string(f.as_string()) << "\n";
  }
}

}  // namespace

int RunToken(const ClientOptions& c, const std::string& client_id, const std::string& client_secret,
             const std::string& scope) {
  std::string body = "grant_type=client_credentials&client_id=" + oauth::PercentEncode(client_id) +
                     "&client_secret=" + oauth::PercentEncode(client_secret);
  if (!scope.empty()) body += "&scope=" + oauth::PercentEncode(scope);
  auto res = HttpCall(ServerUrl(c), "POST", "/oauth/token",
                      {{"Content-Type", "application/x-www-form-urlencoded"}}, body);
  if (!res.ok()) {
    std::cerr << "verbatim token: " << res.status().message() << "\n";
    return kExitServer;
  }
  auto parsed = ParseJsonObject(res->body);
  if (res->status != 200 || !parsed.ok()) {
    std::string why = parsed.ok() ? Str(*parsed, "error") + ": " + Str(*parsed, "error_description") : res->body;
    std::cerr << "verbatim token: " << res->status << " " << why << "\n";
    return res->status == 400 || res->status == 401 ? kExitDenied : kExitServer;
  }
  if (c.format == "json") {
    std::cout << res->body << "\n";
  } else {
    std::cout << Str(*parsed, "access_token") << "\n";
  }
  return kExitOk;
}

int RunExplain(const ClientOptions& c, const std::string& token, const std::string& method, const std::string& path,
               const std::string& context_id) {
  const std::string server = ServerUrl(c);
  Result<HttpResult> res = Status::Internal("unset");
  if (!context_id.empty()) {
    res = HttpCall(server, "GET", "/api/v2/audit/events/" + oauth::PercentEncode(context_id),
                   {{"Authorization", "Bearer " + token}}, "");
  } else {
    json::object req{{"method", method}, {"path", path}};
    res = HttpCall(server, "POST", "/api/v2/authorization/check",
                   {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}, json::serialize(req));
  }
  if (!res.ok()) {
    std::cerr << "verbatim explain: " << res.status().message() << "\n";
    return kExitServer;
  }
  auto parsed = ParseJsonObject(res->body);
  if (!parsed.ok()) {
    std::cerr << "verbatim explain: server answered " << res->status << " with a body that is not JSON\n";
    return kExitServer;
  }
  if (c.format == "json") std::cout << res->body << "\n";
  if (res->status != 200) {
    // The explain call itself was refused: that refusal explains itself too.
    if (c.format != "json") {
      std::cout << "Cannot explain: " << res->status << " " << Str(*parsed, "code") << "\n"
                << Str(*parsed, "message") << "\n\n";
      if (auto* e = parsed->if_contains("explanation"); e && e->is_object()) PrintExplanation(e->as_object());
    }
    return res->status >= 500 ? kExitServer : kExitDenied;
  }
  const json::object* explanation = nullptr;
  if (auto* e = parsed->if_contains("explanation"); e && e->is_object()) explanation = &e->as_object();
  std::string decision = explanation ? Str(*explanation, "decision") : Str(*parsed, "decision");
  if (c.format != "json") {
    if (!context_id.empty()) {
      std::cout << (decision == "allow" ? "ALLOWED" : "DENIED") << "  " << Str(*parsed, "method") << " "
                << Str(*parsed, "path") << "  (" << Str(*parsed, "at") << ", contextId " << context_id << ")\n";
      if (auto* code = parsed->if_contains("code"); code && code->is_string())
        std::cout << "code: " << std::string(code->as_string()) << "\n";
    } else {
      std::cout << (decision == "allow" ? "ALLOWED" : "DENIED") << "  " << method << " " << path << "\n";
      if (decision != "allow")
        std::cout << Str(*parsed, "code") << ": " << Str(*parsed, "message") << "\n";
    }
    std::cout << "\n";
    if (explanation) PrintExplanation(*explanation);
  }
  return decision == "allow" ? kExitOk : kExitDenied;
}

}  // namespace verbatim::cli
