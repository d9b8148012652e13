// Strict JSON for untrusted input (request bodies, JWT segments): no duplicate
// keys, no comments, valid UTF-8, bounded depth, nothing after the document.
// Also small typed accessors whose errors name the offending field.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim {

namespace json = boost::json;

struct JsonLimits {
  size_t max_depth = 32;
  size_t max_bytes = 1 << 20;
};

// Errors are InvalidArgument with code "bad.request" and a message that says
// what is wrong and where ("duplicate key 'scope'", "invalid JSON at offset 17").
Result<json::value> ParseJsonStrict(std::string_view text, JsonLimits limits = {});
// Same, and the document must be an object.
Result<json::object> ParseJsonObject(std::string_view text, JsonLimits limits = {});

std::string ToJson(const json::value& v);
// Replaces every byte that is not part of a valid UTF-8 sequence with U+FFFD.
// boost::json serializes strings byte for byte, so a value that carries raw
// request bytes (a header, a path) would otherwise make the output invalid JSON.
std::string ToValidUtf8(std::string s);

// Typed field access. Missing → nullopt; present with the wrong type → error
// "field 'x' must be a string".
Result<std::optional<std::string>> GetString(const json::object& o, std::string_view key);
Result<std::optional<int64_t>> GetInt(const json::object& o, std::string_view key);
Result<std::optional<bool>> GetBool(const json::object& o, std::string_view key);
Result<std::optional<std::vector<std::string>>> GetStringArray(const json::object& o, std::string_view key);

json::array ToJsonArray(const std::vector<std::string>& v);

}  // namespace verbatim
