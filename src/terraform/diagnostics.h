// What the provider tells Terraform besides values: errors stop the run,
// warnings are shown with the plan. Both name the attribute they concern, so
// Terraform can point at the line of configuration.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace verbatim::terraform {

struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string summary;
  std::string detail;
  std::vector<std::string> attribute;  // attribute path: names from the top of the object
};

using Diagnostics = std::vector<Diagnostic>;

inline Diagnostic Error(std::string summary, std::string detail = {}, std::vector<std::string> attribute = {}) {
  return {Diagnostic::Severity::kError, std::move(summary), std::move(detail), std::move(attribute)};
}
inline Diagnostic Warning(std::string summary, std::string detail = {}, std::vector<std::string> attribute = {}) {
  return {Diagnostic::Severity::kWarning, std::move(summary), std::move(detail), std::move(attribute)};
}
inline bool HasError(const Diagnostics& d) {
  for (const auto& x : d)
    if (x.severity == Diagnostic::Severity::kError) return true;
  return false;
}
inline Diagnostic FromStatus(const std::string& summary, const Status& s, std::vector<std::string> attribute = {}) {
  return Error(summary, s.message(), std::move(attribute));
}

}  // namespace verbatim::terraform
