#include "terraform/value_codec.h"

#define MSGPACK_NO_BOOST 1
#include <msgpack.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>

namespace verbatim::terraform {
namespace {

Status Malformed(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("value.malformed", "at " + (path.empty() ? std::string(".") : path) + ": " + what);
}

const char* MsgpackTypeName(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "a boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "an integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "a float";
    case msgpack::type::STR: return "a string";
    case msgpack::type::BIN: return "binary data";
    case msgpack::type::ARRAY: return "an array";
    case msgpack::type::MAP: return "a map";
    case msgpack::type::EXT: return "an extension";
  }
  return "an unknown msgpack type";
}

const char* TypeName(const Type& t) {
  switch (t.kind()) {
    case Type::Kind::kString: return "a string";
    case Type::Kind::kNumber: return "a number";
    case Type::Kind::kBool: return "a bool";
    case Type::Kind::kList: return "a list (array)";
    case Type::Kind::kSet: return "a set (array)";
    case Type::Kind::kMap: return "a map";
    case Type::Kind::kObject: return "an object (map)";
  }
  return "a value";
}

// RFC 8259-style decimal: -?digits(.digits)?([eE][+-]?digits)?
bool IsDecimal(std::string_view s) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  if (!digits()) return false;
  if (i < n && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

Result<double> ParseDecimal(std::string_view s, const std::string& path) {
  if (s.size() > 400 || !IsDecimal(s)) return Malformed(path, "a number given as a string must be a decimal number");
  std::string copy(s);
  double d = std::strtod(copy.c_str(), nullptr);
  if (!std::isfinite(d)) return Malformed(path, "number out of range");
  return d;
}

// Valid UTF-8 without overlongs and surrogates (Terraform strings are Unicode text).
bool IsUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

// ------------------------------------------------------------------ msgpack

Result<Value> FromMsgpack(const msgpack::object& o, const Type& t, const std::string& path, const DecodeOptions& opts) {
  if (o.type == msgpack::type::NIL) return Value::Null();
  if (o.type == msgpack::type::EXT) return Value::Unknown();  // any code: see the header
  auto expected = [&] { return Malformed(path, std::string("expected ") + TypeName(t) + ", got " + MsgpackTypeName(o)); };
  switch (t.kind()) {
    case Type::Kind::kString: {
      if (o.type != msgpack::type::STR) return expected();
      std::string_view s(o.via.str.ptr, o.via.str.size);
      if (!IsUtf8(s)) return Malformed(path, "string is not valid UTF-8");
      return Value::String(std::string(s));
    }
    case Type::Kind::kNumber:
      switch (o.type) {
        case msgpack::type::POSITIVE_INTEGER: return Value::Number(static_cast<double>(o.via.u64));
        case msgpack::type::NEGATIVE_INTEGER: return Value::Number(static_cast<double>(o.via.i64));
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64:
          if (!std::isfinite(o.via.f64)) return Malformed(path, "number is not finite");
          return Value::Number(o.via.f64);
        case msgpack::type::STR: {
          auto d = ParseDecimal(std::string_view(o.via.str.ptr, o.via.str.size), path);
          if (!d.ok()) return d.status();
          return Value::Number(*d);
        }
        default: return expected();
      }
    case Type::Kind::kBool:
      if (o.type != msgpack::type::BOOLEAN) return expected();
      return Value::Bool(o.via.boolean);
    case Type::Kind::kList:
    case Type::Kind::kSet: {
      if (o.type != msgpack::type::ARRAY) return expected();
      std::vector<Value> items;
      items.reserve(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        auto e = FromMsgpack(o.via.array.ptr[i], t.element(), path + "[" + std::to_string(i) + "]", opts);
        if (!e.ok()) return e.status();
        items.push_back(std::move(*e));
      }
      return t.kind() == Type::Kind::kSet ? Value::Set(std::move(items)) : Value::List(std::move(items));
    }
    case Type::Kind::kMap:
    case Type::Kind::kObject: {
      if (o.type != msgpack::type::MAP) return expected();
      Value::Entries entries;
      entries.reserve(o.via.map.size);
      std::set<std::string_view> seen;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) return Malformed(path, std::string("map keys must be strings, got ") + MsgpackTypeName(kv.key));
        std::string key(kv.key.via.str.ptr, kv.key.via.str.size);
        if (!IsUtf8(key)) return Malformed(path, "map key is not valid UTF-8");
        if (!seen.insert(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size)).second)
          return Malformed(path, "duplicate key '" + key.substr(0, 64) + "'");
        const Type* et = t.kind() == Type::Kind::kMap ? &t.element() : nullptr;
        if (t.kind() == Type::Kind::kObject) {
          et = t.attribute(key);
          if (!et) {
            if (opts.ignore_unknown_attributes) continue;
            return Malformed(path, "unexpected attribute '" + key.substr(0, 64) + "'");
          }
        }
        std::string sub = t.kind() == Type::Kind::kObject ? path + "." + key : path + "[\"" + key + "\"]";
        auto e = FromMsgpack(kv.val, *et, sub, opts);
        if (!e.ok()) return e.status();
        entries.emplace_back(std::move(key), std::move(*e));
      }
      if (t.kind() == Type::Kind::kMap) return Value::Map(std::move(entries));
      // Attributes Terraform left out are null, so every attribute is present.
      Value obj = Value::Object(std::move(entries));
      for (const auto& [name, at] : t.attributes())
        if (obj.Get(name).is_null()) obj.Put(name, Value::Null());
      return obj;
    }
  }
  return expected();
}

// --------------------------------------------------------------------- JSON

const char* JsonTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

Result<Value> FromJson(const json::value& j, const Type& t, const std::string& path, const DecodeOptions& opts) {
  if (j.is_null()) return Value::Null();
  auto expected = [&] { return Malformed(path, std::string("expected ") + TypeName(t) + ", got " + JsonTypeName(j)); };
  switch (t.kind()) {
    case Type::Kind::kString:
      if (!j.is_string()) return expected();
      return Value::String(std::string(j.as_string()));
    case Type::Kind::kNumber:
      if (j.is_int64()) return Value::Number(static_cast<double>(j.as_int64()));
      if (j.is_uint64()) return Value::Number(static_cast<double>(j.as_uint64()));
      if (j.is_double()) return Value::Number(j.as_double());
      if (j.is_string()) {
        auto d = ParseDecimal(std::string_view(j.as_string().data(), j.as_string().size()), path);
        if (!d.ok()) return d.status();
        return Value::Number(*d);
      }
      return expected();
    case Type::Kind::kBool:
      if (!j.is_bool()) return expected();
      return Value::Bool(j.as_bool());
    case Type::Kind::kList:
    case Type::Kind::kSet: {
      if (!j.is_array()) return expected();
      std::vector<Value> items;
      size_t i = 0;
      for (const auto& e : j.as_array()) {
        auto v = FromJson(e, t.element(), path + "[" + std::to_string(i++) + "]", opts);
        if (!v.ok()) return v.status();
        items.push_back(std::move(*v));
      }
      return t.kind() == Type::Kind::kSet ? Value::Set(std::move(items)) : Value::List(std::move(items));
    }
    case Type::Kind::kMap:
    case Type::Kind::kObject: {
      if (!j.is_object()) return expected();
      Value::Entries entries;
      for (const auto& kv : j.as_object()) {
        std::string key(kv.key());
        const Type* et = t.kind() == Type::Kind::kMap ? &t.element() : nullptr;
        if (t.kind() == Type::Kind::kObject) {
          et = t.attribute(key);
          if (!et) {
            if (opts.ignore_unknown_attributes) continue;
            return Malformed(path, "unexpected attribute '" + key.substr(0, 64) + "'");
          }
        }
        std::string sub = t.kind() == Type::Kind::kObject ? path + "." + key : path + "[\"" + key + "\"]";
        auto v = FromJson(kv.value(), *et, sub, opts);
        if (!v.ok()) return v.status();
        entries.emplace_back(std::move(key), std::move(*v));
      }
      if (t.kind() == Type::Kind::kMap) return Value::Map(std::move(entries));
      Value obj = Value::Object(std::move(entries));
      for (const auto& [name, at] : t.attributes())
        if (obj.Get(name).is_null()) obj.Put(name, Value::Null());
      return obj;
    }
  }
  return expected();
}

// ----------------------------------------------------------------- encoding

using Packer = msgpack::packer<msgpack::sbuffer>;

Status Mismatch(const std::string& path, const Type& t, const Value& v) {
  return Status::Internal("value.mismatch: at " + (path.empty() ? std::string(".") : path) + ": " +
                          std::string(TypeName(t)) + " cannot hold " + DebugString(v).substr(0, 64));
}

void PackString(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// A float64 written by hand: msgpack-cxx's pack_double turns integral values
// into integers through a cast that is undefined for 2^64 (found by
// fuzz/tf_msgpack_fuzz.cc), so it is never called.
void PackFloat64(msgpack::sbuffer& buf, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  char out[9];
  out[0] = static_cast<char>(0xcb);
  for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  buf.write(out, sizeof out);
}

Status ToMsgpack(msgpack::sbuffer& buf, const Value& v, const Type& t, const std::string& path) {
  Packer pk(buf);
  if (v.is_null()) {
    pk.pack_nil();
    return Status::Ok();
  }
  if (v.is_unknown()) {
    // The plain unknown of the wire format: fixext 1, type 0, payload 0.
    const char zero = 0;
    pk.pack_ext(1, 0);
    pk.pack_ext_body(&zero, 1);
    return Status::Ok();
  }
  switch (t.kind()) {
    case Type::Kind::kString:
      if (v.kind() != Value::Kind::kString) return Mismatch(path, t, v);
      PackString(pk, v.as_string());
      return Status::Ok();
    case Type::Kind::kNumber: {
      if (v.kind() != Value::Kind::kNumber || !std::isfinite(v.as_number())) return Mismatch(path, t, v);
      double d = v.as_number();
      if (d == std::floor(d) && std::fabs(d) < 9.2e18) pk.pack_int64(static_cast<int64_t>(d));
      else PackFloat64(buf, d);
      return Status::Ok();
    }
    case Type::Kind::kBool:
      if (v.kind() != Value::Kind::kBool) return Mismatch(path, t, v);
      if (v.as_bool()) pk.pack_true();
      else pk.pack_false();
      return Status::Ok();
    case Type::Kind::kList:
    case Type::Kind::kSet: {
      if (v.kind() != Value::Kind::kList && v.kind() != Value::Kind::kSet) return Mismatch(path, t, v);
      pk.pack_array(static_cast<uint32_t>(v.elements().size()));
      for (size_t i = 0; i < v.elements().size(); ++i)
        VERBATIM_RETURN_IF_ERROR(ToMsgpack(buf, v.elements()[i], t.element(), path + "[" + std::to_string(i) + "]"));
      return Status::Ok();
    }
    case Type::Kind::kMap: {
      if (v.kind() != Value::Kind::kMap) return Mismatch(path, t, v);
      pk.pack_map(static_cast<uint32_t>(v.entries().size()));
      for (const auto& [k, e] : v.entries()) {
        PackString(pk, k);
        VERBATIM_RETURN_IF_ERROR(ToMsgpack(buf, e, t.element(), path + "[\"" + k + "\"]"));
      }
      return Status::Ok();
    }
    case Type::Kind::kObject: {
      if (v.kind() != Value::Kind::kObject) return Mismatch(path, t, v);
      for (const auto& [k, e] : v.entries())
        if (!t.attribute(k)) return Status::Internal("value.mismatch: at " + path + ": no attribute '" + k + "' in the schema");
      // Every attribute of the type, null when the value lacks it.
      pk.pack_map(static_cast<uint32_t>(t.attributes().size()));
      for (const auto& [k, at] : t.attributes()) {
        PackString(pk, k);
        VERBATIM_RETURN_IF_ERROR(ToMsgpack(buf, v.Get(k), at, path + "." + k));
      }
      return Status::Ok();
    }
  }
  return Mismatch(path, t, v);
}

}  // namespace

Result<Value> DecodeMsgpack(std::string_view bytes, const Type& type, const DecodeOptions& opts) {
  const auto& lim = opts.limits;
  if (bytes.empty()) return Malformed("", "empty msgpack value");
  if (bytes.size() > lim.max_bytes) return Malformed("", "value of " + std::to_string(bytes.size()) + " bytes exceeds the limit");
  try {
    size_t off = 0;
    msgpack::unpack_limit limit(lim.max_elements, lim.max_elements, lim.max_string, lim.max_string, lim.max_string,
                                lim.max_depth);
    msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size(), off, nullptr, nullptr, limit);
    if (off != bytes.size()) return Malformed("", std::to_string(bytes.size() - off) + " bytes after the value");
    return FromMsgpack(oh.get(), type, "", opts);
  } catch (const msgpack::insufficient_bytes&) {
    return Malformed("", "msgpack value is truncated");
  } catch (const msgpack::depth_size_overflow&) {
    return Malformed("", "msgpack value is nested too deeply");
  } catch (const msgpack::size_overflow&) {
    return Malformed("", "msgpack value exceeds a size limit (elements or string length)");
  } catch (const std::bad_alloc&) {
    return Malformed("", "msgpack value is too large");
  } catch (const std::exception& e) {
    return Malformed("", std::string("invalid msgpack: ") + e.what());
  }
}

Result<Value> DecodeJson(std::string_view bytes, const Type& type, const DecodeOptions& opts) {
  JsonLimits jl;
  jl.max_bytes = opts.limits.max_bytes;
  jl.max_depth = opts.limits.max_depth;
  auto j = ParseJsonStrict(bytes, jl);
  if (!j.ok()) return Malformed("", j.status().message());
  return FromJson(*j, type, "", opts);
}

Result<std::string> EncodeMsgpack(const Value& v, const Type& type) {
  msgpack::sbuffer buf;
  if (Status s = ToMsgpack(buf, v, type, ""); !s.ok()) return s;
  return std::string(buf.data(), buf.size());
}

}  // namespace verbatim::terraform
