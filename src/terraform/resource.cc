#include "terraform/resource.h"

namespace verbatim::terraform {

Diagnostics ResourceType::Validate(const Value&) const { return {}; }
Diagnostics DataSourceType::Validate(const Value&) const { return {}; }

}  // namespace verbatim::terraform
