// A small, bounded, non-validating XML reader for SIPREC metadata (RFC 7865).
//
// Supports elements, attributes, character data, CDATA, comments, processing
// instructions (the XML declaration included) and the predefined and numeric
// character references. There is no DTD support at all: <!DOCTYPE> is rejected,
// so external entities (XXE) and entity expansion (billion laughs) cannot happen.
// Namespaces are handled by stripping prefixes: names are local names, and
// xmlns declarations are dropped. Limits are in XmlLimits.
// Thread-safety: plain values; all functions are pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace verbatim::media::siprec {

// Why metadata was rejected: by the XML reader, or because the document is not
// a <recording>. The Status code is "metadata." + ToString with dots.
enum class MetadataError {
  kEmpty,            // no root element
  kTooLarge,         // document over the byte limit
  kDoctype,          // <!DOCTYPE ...>: DTDs are never processed
  kTooDeep,          // nesting over 32
  kTooManyElements,  // over 10 000 elements
  kNameTooLong,      // an element or attribute name over 256 bytes
  kBadName,          // empty or invalid name
  kBadAttribute,     // missing '=' or quotes, '<' in a value, duplicates, too many
  kBadEntity,        // unknown entity or invalid character reference
  kMismatchedTag,    // </b> closes <a>
  kUnexpectedEnd,    // document ends inside markup
  kBadSyntax,        // anything else malformed (stray markup, content after the root)
  kNotRecording,     // root element is not <recording>
  kTooManyItems,     // over 256 participants, streams or sessions, or send/recv per participant
};
const char* ToString(MetadataError e);  // "mismatched tag"; "?" past the last value
std::optional<MetadataError> MetadataErrorOf(const Status& s);

struct XmlLimits {
  size_t max_bytes = 64 * 1024;
  size_t max_depth = 32;
  size_t max_elements = 10'000;
  size_t max_name_bytes = 256;
  size_t max_attributes = 64;  // per element
};

struct XmlElement {
  std::string name;  // local name (prefix stripped)
  std::vector<std::pair<std::string, std::string>> attributes;  // local names, decoded values
  std::string text;  // character data directly inside, decoded, CDATA included
  std::vector<XmlElement> children;

  const XmlElement* Child(std::string_view local_name) const;  // first one
  std::optional<std::string_view> Attribute(std::string_view local_name) const;
};

Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits = {});

}  // namespace verbatim::media::siprec
