#include "core/json.h"
#include "core/utf8.h"

#include <boost/json/basic_parser_impl.hpp>
#include <cmath>
#include <set>

namespace verbatim {
namespace {

// basic_parser handler that only tracks keys, to find duplicates that
// boost::json::parse would silently collapse ("last one wins"), and numbers
// too large for a double (boost::json makes them infinity, which it then
// serializes as `Infinity`: not JSON).
class DuplicateKeyFinder {
 public:
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);

  // A flag, not the key's emptiness: "" is a key too and may repeat.
  bool has_duplicate = false;
  std::string duplicate;
  bool out_of_range = false;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(size_t, json::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    partial_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code& ec) {
    partial_.append(s.data(), s.size());
    if (!keys_.back().insert(partial_).second) {
      has_duplicate = true;
      duplicate = partial_;
      ec = json::error::extra_data;  // any error stops the parse
      return false;
    }
    partial_.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double d, json::string_view, json::error_code& ec) {
    if (std::isfinite(d)) return true;
    out_of_range = true;
    ec = json::error::exponent_overflow;
    return false;
  }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::vector<std::set<std::string>> keys_;
  std::string partial_;
};

}  // namespace

Result<json::value> ParseJsonStrict(std::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidArgument("bad.request", "JSON document is larger than " +
                                                      std::to_string(limits.max_bytes) + " bytes");
  }
  json::parse_options opts;
  opts.max_depth = limits.max_depth;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  opts.allow_invalid_utf8 = false;

  json::error_code ec;
  json::parser p(json::storage_ptr(), opts);
  size_t n = p.write(text.data(), text.size(), ec);  // whole document, nothing after it
  if (ec) {
    return Status::InvalidArgument("bad.request", "Body is not valid JSON (" + ec.message() + " at offset " +
                                                      std::to_string(n) + ").");
  }
  json::value v = p.release();

  json::basic_parser<DuplicateKeyFinder> dup(opts);
  dup.write_some(false, text.data(), text.size(), ec);
  if (dup.handler().has_duplicate) {
    return Status::InvalidArgument("bad.request",
                                   "JSON contains the key '" + dup.handler().duplicate + "' more than once.");
  }
  if (dup.handler().out_of_range) {
    return Status::InvalidArgument("bad.request", "JSON contains a number too large for a double.");
  }
  if (ec) {  // the full parser accepted what the key scan did not: refuse rather than guess
    return Status::InvalidArgument("bad.request", "Body is not valid JSON (" + ec.message() + ").");
  }
  return v;
}

Result<json::object> ParseJsonObject(std::string_view text, JsonLimits limits) {
  auto v = ParseJsonStrict(text, limits);
  if (!v.ok()) return v.status();
  if (!v->is_object()) return Status::InvalidArgument("bad.request", "Body must be a JSON object.");
  return std::move(v->as_object());
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

std::string ToValidUtf8(std::string s) {
  // Fast path: most text is valid; only rebuild when a bad sequence is found.
  size_t i = 0;
  while (i < s.size()) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return s;
  std::string out = s.substr(0, i);
  while (i < s.size()) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for each invalid byte
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

Result<std::optional<std::string>> GetString(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string())
    return Status::InvalidArgument("bad.request", "Field '" + std::string(key) + "' must be a string.");
  return std::optional<std::string>(std::string(it->value().as_string()));
}

Result<std::optional<int64_t>> GetInt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  const auto& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return std::optional<int64_t>(static_cast<int64_t>(v.as_uint64()));
  return Status::InvalidArgument("bad.request", "Field '" + std::string(key) + "' must be an integer.");
}

Result<std::optional<bool>> GetBool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool())
    return Status::InvalidArgument("bad.request", "Field '" + std::string(key) + "' must be true or false.");
  return std::optional<bool>(it->value().as_bool());
}

Result<std::optional<std::vector<std::string>>> GetStringArray(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::vector<std::string>>();
  if (!it->value().is_array())
    return Status::InvalidArgument("bad.request",
                                   "Field '" + std::string(key) + "' must be an array of strings.");
  std::vector<std::string> out;
  for (const auto& e : it->value().as_array()) {
    if (!e.is_string())
      return Status::InvalidArgument("bad.request",
                                     "Field '" + std::string(key) + "' must be an array of strings.");
    out.emplace_back(e.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

json::array ToJsonArray(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace verbatim
