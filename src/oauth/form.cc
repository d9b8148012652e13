#include "oauth/form.h"

#include <cctype>

#include "core/base64.h"

namespace verbatim::oauth {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::string* Form::Find(std::string_view name) const {
  for (const auto& [k, v] : fields)
    if (k == name) return &v;
  return nullptr;
}

std::string Form::Get(std::string_view name) const {
  const std::string* v = Find(name);
  return v ? *v : std::string();
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  // Most values (ids, secrets, grant types) have nothing to decode: copy them whole.
  size_t first = 0;
  while (first < s.size() && s[first] != '%' && !(plus_is_space && s[first] == '+')) ++first;
  std::string out;
  out.reserve(s.size());
  out.append(s.data(), first);
  for (size_t i = first; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<Form> ParseForm(std::string_view body, size_t max_fields) {
  Form form;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string_view pair = body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto name = PercentDecode(pair.substr(0, eq), true);
      auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!name || !value)
        return Status::InvalidArgument("invalid_request", "The form body has an invalid percent-escape.");
      if (form.Find(*name))
        return Status::InvalidArgument("invalid_request", "Parameter '" + *name + "' is included more than once.");
      if (form.fields.size() >= max_fields)
        return Status::InvalidArgument("invalid_request", "The form body has too many parameters.");
      form.fields.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return form;
}

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header) {
  if (header.size() < 6) return std::nullopt;
  std::string scheme(header.substr(0, 6));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "basic ") return std::nullopt;
  std::string_view rest = header.substr(6);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  auto decoded = Base64Decode(rest);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = PercentDecode(std::string_view(*decoded).substr(0, colon), true);
  auto secret = PercentDecode(std::string_view(*decoded).substr(colon + 1), true);
  if (!id || !secret) return std::nullopt;
  return BasicCredentials{std::move(*id), std::move(*secret)};
}

}  // namespace verbatim::oauth
