#include "terraform/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace verbatim::terraform {
namespace {

template <class Pairs>
void SortByKey(Pairs& p) {
  std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Last one wins on duplicate keys, like assigning twice.
  Pairs out;
  for (auto& kv : p) {
    if (!out.empty() && out.back().first == kv.first) out.back().second = std::move(kv.second);
    else out.push_back(std::move(kv));
  }
  p = std::move(out);
}

const Value& NullValue() {
  static const Value kNull;
  return kNull;
}

}  // namespace

// ----------------------------------------------------------------------- Type

Type Type::Object(Attributes attributes) {
  Type t(Kind::kObject);
  SortByKey(attributes);
  t.attributes_ = std::make_shared<const Attributes>(std::move(attributes));
  return t;
}

const Type::Attributes& Type::attributes() const {
  static const Attributes kNone;
  return attributes_ ? *attributes_ : kNone;
}

const Type* Type::attribute(std::string_view name) const {
  for (const auto& [k, t] : attributes())
    if (k == name) return &t;
  return nullptr;
}

json::value Type::ToJson() const {
  switch (kind_) {
    case Kind::kString: return "string";
    case Kind::kNumber: return "number";
    case Kind::kBool: return "bool";
    case Kind::kList: return json::array{"list", element().ToJson()};
    case Kind::kSet: return json::array{"set", element().ToJson()};
    case Kind::kMap: return json::array{"map", element().ToJson()};
    case Kind::kObject: {
      json::object attrs;
      for (const auto& [k, t] : attributes()) attrs[k] = t.ToJson();
      return json::array{"object", std::move(attrs)};
    }
  }
  return "string";
}

Result<Type> Type::FromJson(const json::value& v) {
  if (v.is_string()) {
    std::string_view s(v.as_string().data(), v.as_string().size());
    if (s == "string") return String();
    if (s == "number") return Number();
    if (s == "bool") return Bool();
    return Status::InvalidArgument("type.unsupported", "unsupported type '" + std::string(s.substr(0, 32)) + "'");
  }
  if (!v.is_array() || v.as_array().size() != 2 || !v.as_array()[0].is_string())
    return Status::InvalidArgument("type.invalid", "a type is a string or a two-element array [kind, argument]");
  std::string_view kind(v.as_array()[0].as_string().data(), v.as_array()[0].as_string().size());
  const json::value& arg = v.as_array()[1];
  if (kind == "object") {
    if (!arg.is_object()) return Status::InvalidArgument("type.invalid", "an object type needs {name: type}");
    Attributes attrs;
    for (const auto& kv : arg.as_object()) {
      auto t = FromJson(kv.value());
      if (!t.ok()) return t.status();
      attrs.emplace_back(std::string(kv.key()), std::move(*t));
    }
    return Object(std::move(attrs));
  }
  auto element = FromJson(arg);
  if (!element.ok()) return element.status();
  if (kind == "list") return List(std::move(*element));
  if (kind == "set") return Set(std::move(*element));
  if (kind == "map") return Map(std::move(*element));
  return Status::InvalidArgument("type.unsupported", "unsupported type kind '" + std::string(kind.substr(0, 32)) + "'");
}

bool operator==(const Type& a, const Type& b) {
  if (a.kind_ != b.kind_) return false;
  if (a.is_collection()) return a.element() == b.element();
  if (a.kind_ == Type::Kind::kObject) return a.attributes() == b.attributes();
  return true;
}

// ---------------------------------------------------------------------- Value

Value Value::Unknown() {
  Value v;
  v.kind_ = Kind::kUnknown;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(double n) {
  Value v;
  v.kind_ = Kind::kNumber;
  v.number_ = n;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::List(std::vector<Value> elements) {
  Value v;
  v.kind_ = Kind::kList;
  v.elements_ = std::move(elements);
  return v;
}

Value Value::Set(std::vector<Value> elements) {
  Value v;
  v.kind_ = Kind::kSet;
  for (auto& e : elements) {
    // Unknown elements may turn out distinct, so they are never merged.
    bool dup = e.WhollyKnown() && std::find(v.elements_.begin(), v.elements_.end(), e) != v.elements_.end();
    if (!dup) v.elements_.push_back(std::move(e));
  }
  return v;
}

Value Value::Map(Entries entries) {
  Value v;
  v.kind_ = Kind::kMap;
  SortByKey(entries);
  v.entries_ = std::move(entries);
  return v;
}

Value Value::Object(Entries attributes) {
  Value v = Map(std::move(attributes));
  v.kind_ = Kind::kObject;
  return v;
}

Value Value::StringList(const std::vector<std::string>& items) {
  std::vector<Value> out;
  out.reserve(items.size());
  for (const auto& s : items) out.push_back(String(s));
  return List(std::move(out));
}

Value Value::StringSet(const std::vector<std::string>& items) {
  Value v = StringList(items);
  return Set(std::move(v.elements_));
}

bool Value::WhollyKnown() const {
  if (is_unknown()) return false;
  for (const auto& e : elements_)
    if (!e.WhollyKnown()) return false;
  for (const auto& [k, e] : entries_)
    if (!e.WhollyKnown()) return false;
  return true;
}

const Value& Value::Get(std::string_view name) const {
  for (const auto& [k, v] : entries_)
    if (k == name) return v;
  return NullValue();
}

void Value::Put(std::string_view name, Value v) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& kv, std::string_view n) { return kv.first < n; });
  if (it != entries_.end() && it->first == name) it->second = std::move(v);
  else entries_.emplace(it, std::string(name), std::move(v));
}

std::optional<std::string> Value::GetString(std::string_view name) const {
  const Value& v = Get(name);
  if (v.kind() != Kind::kString) return std::nullopt;
  return v.as_string();
}

std::optional<std::vector<std::string>> Value::GetStrings(std::string_view name) const {
  const Value& v = Get(name);
  if (v.kind() != Kind::kList && v.kind() != Kind::kSet) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : v.elements()) {
    if (e.kind() != Kind::kString) return std::nullopt;
    out.push_back(e.as_string());
  }
  return out;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::kNull:
    case Value::Kind::kUnknown: return true;
    case Value::Kind::kBool: return a.bool_ == b.bool_;
    case Value::Kind::kNumber: return a.number_ == b.number_;
    case Value::Kind::kString: return a.string_ == b.string_;
    case Value::Kind::kList: return a.elements_ == b.elements_;
    case Value::Kind::kSet:
      // Elements are distinct, so equal sizes and a ⊆ b mean a = b.
      if (a.elements_.size() != b.elements_.size()) return false;
      for (const auto& e : a.elements_)
        if (std::find(b.elements_.begin(), b.elements_.end(), e) == b.elements_.end()) return false;
      return true;
    case Value::Kind::kMap:
    case Value::Kind::kObject: return a.entries_ == b.entries_;
  }
  return false;
}

std::string DebugString(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kUnknown: return "unknown";
    case Value::Kind::kBool: return v.as_bool() ? "true" : "false";
    case Value::Kind::kNumber: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v.as_number());
      return buf;
    }
    case Value::Kind::kString: return json::serialize(json::value(v.as_string()));
    case Value::Kind::kList:
    case Value::Kind::kSet: {
      std::string out = v.kind() == Value::Kind::kSet ? "set[" : "[";
      for (size_t i = 0; i < v.elements().size(); ++i) out += (i ? ", " : "") + DebugString(v.elements()[i]);
      return out + "]";
    }
    case Value::Kind::kMap:
    case Value::Kind::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < v.entries().size(); ++i)
        out += (i ? ", " : "") + v.entries()[i].first + " = " + DebugString(v.entries()[i].second);
      return out + "}";
    }
  }
  return "?";
}

}  // namespace verbatim::terraform
