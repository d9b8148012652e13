// DynamicValue bytes <-> Value, driven by the schema's Type, as described in
// Terraform's docs/plugin-protocol/object-wire-format.md:
//   msgpack: nil = null, any extension value = unknown (type 0 plain, 12 with
//            refinements; every code is treated as unknown), numbers as int,
//            float or decimal string, sets and lists as arrays, maps and
//            objects as maps with string keys.
//   JSON:    the same shapes without unknowns (RawState of UpgradeResourceState).
//
// The bytes come from another process and are treated as untrusted: every
// length and the nesting depth are bounded, and any malformed input is a
// Status naming where it went wrong ("at .scopes[1]: expected a string, got an
// integer"), never an exception or a crash. fuzz/tf_msgpack_fuzz.cc pins that.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"
#include "terraform/value.h"

namespace verbatim::terraform {

struct DecodeLimits {
  size_t max_bytes = 16 << 20;
  size_t max_depth = 16;         // Type nesting of our schemas is at most 4
  size_t max_elements = 10'000;  // per array or map
  size_t max_string = 1 << 20;
};

struct DecodeOptions {
  DecodeLimits limits;
  // Stored state may hold attributes a newer schema dropped; configuration never does.
  bool ignore_unknown_attributes = false;
};

// Errors: InvalidArgument "value.malformed".
Result<Value> DecodeMsgpack(std::string_view bytes, const Type& type, const DecodeOptions& opts = {});
Result<Value> DecodeJson(std::string_view bytes, const Type& type, const DecodeOptions& opts = {});

// Fails (Internal "value.mismatch") if `v` does not conform to `type`: a bug of
// ours that must not reach Terraform as garbage.
Result<std::string> EncodeMsgpack(const Value& v, const Type& type);

}  // namespace verbatim::terraform
