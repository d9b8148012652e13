#include "store/row_codec.h"

#include <sodium.h>

#include <charconv>

#include "core/base64.h"
#include "core/json.h"
#include "store/status_macros.h"

namespace verbatim::store {
namespace {

// Our own columns: malformed JSON means a corrupt row, not bad input.
Result<json::array> ParseArray(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return Status::Internal("store: corrupt JSON list column");
  return std::move(v.as_array());
}

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

}  // namespace

std::string EncodeStrings(const std::vector<std::string>& v) { return ToJson(ToJsonArray(v)); }

Result<std::vector<std::string>> DecodeStrings(std::string_view text) {
  STORE_ASSIGN_OR_RETURN(json::array a, ParseArray(text));
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const auto& e : a) {
    if (!e.is_string()) return Status::Internal("store: corrupt JSON string list");
    out.emplace_back(e.as_string());
  }
  return out;
}

std::string EncodeParticipants(const std::vector<Participant>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& p : v) a.push_back(json::object{{"id", p.id}, {"name", p.name}, {"purpose", p.purpose}});
  return ToJson(a);
}

Result<std::vector<Participant>> DecodeParticipants(std::string_view text) {
  STORE_ASSIGN_OR_RETURN(json::array a, ParseArray(text));
  std::vector<Participant> out;
  out.reserve(a.size());
  for (const auto& e : a) {
    if (!e.is_object()) return Status::Internal("store: corrupt participants column");
    const auto& o = e.as_object();
    out.push_back(Participant{Str(o, "id"), Str(o, "name"), Str(o, "purpose")});
  }
  return out;
}

std::string EncodeAuditCursor(const AuditEvent& e) {
  return Base64UrlEncode(std::to_string(ToUnixMillis(e.at)) + "|" + e.context_id);
}

std::optional<AuditCursor> DecodeAuditCursor(std::string_view text) {
  if (text.empty() || text.size() > 512) return std::nullopt;
  auto raw = Base64UrlDecode(text);
  if (!raw) return std::nullopt;
  const size_t bar = raw->find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == raw->size()) return std::nullopt;
  AuditCursor c;
  const char* end = raw->data() + bar;
  auto [ptr, ec] = std::from_chars(raw->data(), end, c.at_ms);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  c.context_id = raw->substr(bar + 1);
  return c;
}

Status BadAuditCursor() {
  return Status::InvalidArgument("bad.request",
                                 "Parameter 'cursor' is not a cursor returned by a previous page; "
                                 "omit it to start from the newest event.");
}

std::string ExplanationDigest(std::string_view text) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr,
                     0);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace verbatim::store
