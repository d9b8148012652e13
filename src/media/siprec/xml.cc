#include "media/siprec/xml.h"

#include <cstdint>

#include "media/sip/text.h"

namespace verbatim::media::siprec {
namespace {

Status Fail(MetadataError e, std::string_view detail) { return sip::ParseFailure("metadata", e, detail); }

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsNameStart(char c) {
  return sip::IsAlpha(c) || c == '_' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsNameChar(char c) { return IsNameStart(c) || sip::IsDigit(c) || c == '-' || c == '.'; }

std::string_view LocalName(std::string_view qname) {
  size_t colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// XML 1.0 Char production.
bool IsXmlChar(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Appends `raw` to `out` with entity and character references decoded.
Status Decode(std::string_view raw, std::string& out) {
  size_t i = 0;
  while (i < raw.size()) {
    size_t amp = raw.find('&', i);
    out += raw.substr(i, amp == std::string_view::npos ? std::string_view::npos : amp - i);
    if (amp == std::string_view::npos) break;
    size_t semi = raw.find(';', amp);
    if (semi == std::string_view::npos || semi - amp > 12) return Fail(MetadataError::kBadEntity, "unterminated reference");
    std::string_view ref = raw.substr(amp + 1, semi - amp - 1);
    if (ref == "lt") out += '<';
    else if (ref == "gt") out += '>';
    else if (ref == "amp") out += '&';
    else if (ref == "quot") out += '"';
    else if (ref == "apos") out += '\'';
    else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty() || digits.size() > 8) return Fail(MetadataError::kBadEntity, "bad character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        uint32_t d;
        if (sip::IsDigit(c)) d = static_cast<uint32_t>(c - '0');
        else if (hex && c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
        else return Fail(MetadataError::kBadEntity, "bad character reference");
        cp = cp * (hex ? 16 : 10) + d;  // at most 8 digits: no overflow
      }
      if (!IsXmlChar(cp)) return Fail(MetadataError::kBadEntity, "reference to a character XML forbids");
      AppendUtf8(out, cp);
    } else {
      return Fail(MetadataError::kBadEntity, "unknown entity (no DTD, only the five predefined ones)");
    }
    i = semi + 1;
  }
  return Status::Ok();
}

class Reader {
 public:
  Reader(std::string_view doc, const XmlLimits& limits) : s_(doc), limits_(limits) {}

  Result<XmlElement> Document() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;  // UTF-8 byte order mark
    VERBATIM_RETURN_IF_ERROR(Misc());
    if (i_ >= s_.size()) return Fail(MetadataError::kEmpty, "no root element");
    if (s_[i_] != '<') return Fail(MetadataError::kBadSyntax, "text before the root element");
    XmlElement root;
    VERBATIM_RETURN_IF_ERROR(Element(root, 1));
    VERBATIM_RETURN_IF_ERROR(Misc());
    if (i_ < s_.size()) return Fail(MetadataError::kBadSyntax, "content after the root element");
    return root;
  }

 private:
  bool At(std::string_view prefix) const { return s_.substr(i_, prefix.size()) == prefix; }
  void SkipSpace() {
    while (i_ < s_.size() && IsXmlSpace(s_[i_])) ++i_;
  }

  // Skips "<!--...-->", "<?...?>", or rejects "<!DOCTYPE"; false if none is here.
  Result<bool> SkipMarkup() {
    if (At("<!--")) {
      size_t end = s_.find("-->", i_ + 4);
      if (end == std::string_view::npos) return Fail(MetadataError::kUnexpectedEnd, "unterminated comment");
      i_ = end + 3;
      return true;
    }
    if (At("<?")) {
      size_t end = s_.find("?>", i_ + 2);
      if (end == std::string_view::npos) return Fail(MetadataError::kUnexpectedEnd, "unterminated processing instruction");
      i_ = end + 2;
      return true;
    }
    if (sip::IStartsWith(s_.substr(i_), "<!DOCTYPE")) return Fail(MetadataError::kDoctype, "DTDs are not accepted");
    return false;
  }

  // Whitespace, comments and processing instructions around the root.
  Status Misc() {
    while (true) {
      SkipSpace();
      auto skipped = SkipMarkup();
      if (!skipped.ok()) return skipped.status();
      if (!*skipped) return Status::Ok();
    }
  }

  Result<std::string_view> Name() {
    size_t start = i_;
    if (i_ >= s_.size() || !IsNameStart(s_[i_])) return Fail(MetadataError::kBadName, "expected a name");
    while (i_ < s_.size() && IsNameChar(s_[i_])) {
      if (++i_ - start > limits_.max_name_bytes) return Fail(MetadataError::kNameTooLong, "name over 256 bytes");
    }
    return s_.substr(start, i_ - start);
  }

  Status Attributes(XmlElement& e, bool& self_closing) {
    std::vector<std::string_view> seen;  // qualified names, for duplicate detection
    while (true) {
      size_t before = i_;
      SkipSpace();
      if (i_ >= s_.size()) return Fail(MetadataError::kUnexpectedEnd, "inside a start tag");
      if (At("/>")) {
        i_ += 2;
        self_closing = true;
        return Status::Ok();
      }
      if (s_[i_] == '>') {
        ++i_;
        self_closing = false;
        return Status::Ok();
      }
      if (i_ == before) return Fail(MetadataError::kBadAttribute, "attributes must be separated by whitespace");
      auto qname = Name();
      if (!qname.ok()) return qname.status();
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '=') return Fail(MetadataError::kBadAttribute, "expected '='");
      ++i_;
      SkipSpace();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return Fail(MetadataError::kBadAttribute, "value must be quoted");
      char quote = s_[i_++];
      size_t end = s_.find(quote, i_);
      if (end == std::string_view::npos) return Fail(MetadataError::kUnexpectedEnd, "unterminated attribute value");
      std::string_view raw = s_.substr(i_, end - i_);
      i_ = end + 1;
      if (raw.find('<') != std::string_view::npos) return Fail(MetadataError::kBadAttribute, "'<' in an attribute value");
      for (std::string_view q : seen) {
        if (q == *qname) return Fail(MetadataError::kBadAttribute, "duplicate attribute");
      }
      if (seen.size() >= limits_.max_attributes) return Fail(MetadataError::kBadAttribute, "too many attributes");
      seen.push_back(*qname);
      std::string value;
      VERBATIM_RETURN_IF_ERROR(Decode(raw, value));
      if (*qname == "xmlns" || qname->substr(0, 6) == "xmlns:") continue;  // namespaces are matched by local name
      e.attributes.emplace_back(std::string(LocalName(*qname)), std::move(value));
    }
  }

  // Parses the element whose '<' is at i_.
  Status Element(XmlElement& e, size_t depth) {
    if (depth > limits_.max_depth) return Fail(MetadataError::kTooDeep, "nesting over 32");
    if (++elements_ > limits_.max_elements) return Fail(MetadataError::kTooManyElements, "over 10000 elements");
    ++i_;
    auto qname = Name();
    if (!qname.ok()) return qname.status();
    e.name = std::string(LocalName(*qname));
    bool self_closing = false;
    VERBATIM_RETURN_IF_ERROR(Attributes(e, self_closing));
    if (self_closing) return Status::Ok();
    while (true) {
      if (i_ >= s_.size()) return Fail(MetadataError::kUnexpectedEnd, "unclosed <" + std::string(*qname) + ">");
      if (At("</")) {
        i_ += 2;
        auto close = Name();
        if (!close.ok()) return close.status();
        SkipSpace();
        if (i_ >= s_.size() || s_[i_] != '>') return Fail(MetadataError::kBadSyntax, "expected '>' in an end tag");
        ++i_;
        if (*close != *qname) return Fail(MetadataError::kMismatchedTag, "</" + std::string(*close) + "> closes <" + std::string(*qname) + ">");
        return Status::Ok();
      }
      if (At("<![CDATA[")) {
        size_t end = s_.find("]]>", i_ + 9);
        if (end == std::string_view::npos) return Fail(MetadataError::kUnexpectedEnd, "unterminated CDATA");
        e.text += s_.substr(i_ + 9, end - i_ - 9);
        i_ = end + 3;
        continue;
      }
      auto skipped = SkipMarkup();
      if (!skipped.ok()) return skipped.status();
      if (*skipped) continue;
      if (At("<!")) return Fail(MetadataError::kBadSyntax, "unexpected '<!'");
      if (s_[i_] == '<') {
        e.children.emplace_back();
        VERBATIM_RETURN_IF_ERROR(Element(e.children.back(), depth + 1));
        continue;
      }
      size_t end = s_.find('<', i_);
      if (end == std::string_view::npos) end = s_.size();
      VERBATIM_RETURN_IF_ERROR(Decode(s_.substr(i_, end - i_), e.text));
      i_ = end;
    }
  }

  std::string_view s_;
  const XmlLimits& limits_;
  size_t i_ = 0;
  size_t elements_ = 0;
};

}  // namespace

const char* ToString(MetadataError e) {
  switch (e) {
    case MetadataError::kEmpty: return "empty";
    case MetadataError::kTooLarge: return "too large";
    case MetadataError::kDoctype: return "doctype";
    case MetadataError::kTooDeep: return "too deep";
    case MetadataError::kTooManyElements: return "too many elements";
    case MetadataError::kNameTooLong: return "name too long";
    case MetadataError::kBadName: return "bad name";
    case MetadataError::kBadAttribute: return "bad attribute";
    case MetadataError::kBadEntity: return "bad entity";
    case MetadataError::kMismatchedTag: return "mismatched tag";
    case MetadataError::kUnexpectedEnd: return "unexpected end";
    case MetadataError::kBadSyntax: return "bad syntax";
    case MetadataError::kNotRecording: return "not recording";
    case MetadataError::kTooManyItems: return "too many items";
  }
  return "?";
}

std::optional<MetadataError> MetadataErrorOf(const Status& s) {
  return sip::ErrorFromStatus<MetadataError>("metadata", s);
}

const XmlElement* XmlElement::Child(std::string_view local_name) const {
  for (const XmlElement& c : children) {
    if (c.name == local_name) return &c;
  }
  return nullptr;
}

std::optional<std::string_view> XmlElement::Attribute(std::string_view local_name) const {
  for (const auto& [name, value] : attributes) {
    if (name == local_name) return std::string_view(value);
  }
  return std::nullopt;
}

Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits) {
  if (document.size() > limits.max_bytes) return Fail(MetadataError::kTooLarge, "document over the size limit");
  return Reader(document, limits).Document();
}

}  // namespace verbatim::media::siprec
