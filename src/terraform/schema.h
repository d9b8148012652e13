// Schemas of the provider, its resources and data sources, as plain values;
// plugin/ turns them into protocol messages. Our schemas are flat: attributes
// only, no nested blocks.
#pragma once

#include <string>
#include <vector>

#include "terraform/value.h"

namespace verbatim::terraform {

struct Attribute {
  enum class Mode {
    kRequired,          // the configuration must set it
    kOptional,          // null when not set
    kComputed,          // only the provider sets it
    kOptionalComputed,  // the provider decides when the configuration does not
  };
  std::string name;
  Type type;
  Mode mode = Mode::kOptional;
  std::string description;  // Markdown, shown by language servers and `terraform providers schema`
  bool sensitive = false;   // never shown in plan output
};

struct Schema {
  int64_t version = 0;
  std::string description;
  std::vector<Attribute> attributes;

  // The object type of a configuration or state value of this schema.
  Type ObjectType() const;
  const Attribute* Find(std::string_view name) const;
};

// Shorthands for schema tables.
Attribute Required(std::string name, Type type, std::string description);
Attribute Optional(std::string name, Type type, std::string description);
Attribute Computed(std::string name, Type type, std::string description);
Attribute OptionalComputed(std::string name, Type type, std::string description);
Attribute Sensitive(Attribute a);

}  // namespace verbatim::terraform
