#include "terraform/schema.h"

namespace verbatim::terraform {

Type Schema::ObjectType() const {
  Type::Attributes attrs;
  for (const auto& a : attributes) attrs.emplace_back(a.name, a.type);
  return Type::Object(std::move(attrs));
}

const Attribute* Schema::Find(std::string_view name) const {
  for (const auto& a : attributes)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {
Attribute Make(std::string name, Type type, Attribute::Mode mode, std::string description) {
  Attribute a{std::move(name), std::move(type), mode, std::move(description), false};
  return a;
}
}  // namespace

Attribute Required(std::string name, Type type, std::string description) {
  return Make(std::move(name), std::move(type), Attribute::Mode::kRequired, std::move(description));
}
Attribute Optional(std::string name, Type type, std::string description) {
  return Make(std::move(name), std::move(type), Attribute::Mode::kOptional, std::move(description));
}
Attribute Computed(std::string name, Type type, std::string description) {
  return Make(std::move(name), std::move(type), Attribute::Mode::kComputed, std::move(description));
}
Attribute OptionalComputed(std::string name, Type type, std::string description) {
  return Make(std::move(name), std::move(type), Attribute::Mode::kOptionalComputed, std::move(description));
}
Attribute Sensitive(Attribute a) {
  a.sensitive = true;
  return a;
}

}  // namespace verbatim::terraform
