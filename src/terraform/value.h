// Terraform's values as the provider sees them: the part of Terraform's type
// system (cty) that our schemas use. A Type says how to read the bytes
// Terraform sends; a Value is null, unknown (decided only at apply) or known.
// Both are plain values: cheap enough to copy, compared with ==.
//
// Numbers are doubles: every number in our schemas is a small integer
// (seconds, days, HTTP status), exact far below 2^53.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace verbatim::terraform {

class Type {
 public:
  enum class Kind { kString, kNumber, kBool, kList, kSet, kMap, kObject };
  using Attributes = std::vector<std::pair<std::string, Type>>;  // sorted by name

  static Type String() { return Type(Kind::kString); }
  static Type Number() { return Type(Kind::kNumber); }
  static Type Bool() { return Type(Kind::kBool); }
  static Type List(Type element) { return Type(Kind::kList, std::move(element)); }
  static Type Set(Type element) { return Type(Kind::kSet, std::move(element)); }
  static Type Map(Type element) { return Type(Kind::kMap, std::move(element)); }
  static Type Object(Attributes attributes);

  Kind kind() const { return kind_; }
  bool is_collection() const { return kind_ == Kind::kList || kind_ == Kind::kSet || kind_ == Kind::kMap; }
  const Type& element() const { return *element_; }  // list, set, map only (null otherwise: never call)
  const Attributes& attributes() const;               // object only
  const Type* attribute(std::string_view name) const;  // nullptr if absent

  // The protocol's compact JSON: "string", ["set","string"], ["object",{...}].
  json::value ToJson() const;
  static Result<Type> FromJson(const json::value& v);

  friend bool operator==(const Type& a, const Type& b);

 private:
  explicit Type(Kind k) : kind_(k) {}
  Type(Kind k, Type element) : kind_(k), element_(std::make_shared<const Type>(std::move(element))) {}

  Kind kind_;
  std::shared_ptr<const Type> element_;
  std::shared_ptr<const Attributes> attributes_;
};

class Value {
 public:
  enum class Kind { kNull, kUnknown, kBool, kNumber, kString, kList, kSet, kMap, kObject };
  using Entries = std::vector<std::pair<std::string, Value>>;  // map and object; sorted by key

  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Unknown();
  static Value Bool(bool b);
  static Value Number(double n);
  static Value String(std::string s);
  static Value List(std::vector<Value> elements);
  static Value Set(std::vector<Value> elements);  // drops duplicates, keeps first-seen order
  static Value Map(Entries entries);
  static Value Object(Entries attributes);
  static Value StringList(const std::vector<std::string>& items);
  static Value StringSet(const std::vector<std::string>& items);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_unknown() const { return kind_ == Kind::kUnknown; }
  bool is_known() const { return !is_null() && !is_unknown(); }
  // No unknown anywhere inside (nulls are fine).
  bool WhollyKnown() const;

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  const std::vector<Value>& elements() const { return elements_; }  // list, set
  const Entries& entries() const { return entries_; }              // map, object

  // Object attribute (or map element); a null Value when absent.
  const Value& Get(std::string_view name) const;
  // Sets an object attribute, adding it if absent.
  void Put(std::string_view name, Value v);

  // Convenience for flat schemas. nullopt when null or unknown.
  std::optional<std::string> GetString(std::string_view name) const;
  // Elements of a known list/set of strings; nullopt when null or unknown (or
  // when any element is unknown).
  std::optional<std::vector<std::string>> GetStrings(std::string_view name) const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> elements_;
  Entries entries_;
};

// "null", "unknown", "\"x\"", "[\"a\", \"b\"]", "{a = 1}": for test failures
// and error messages about shapes. Never used on state (it may hold secrets).
std::string DebugString(const Value& v);

}  // namespace verbatim::terraform
