// [[siprec.trunks]] tables of the config file (docs/sip-trunks.md "In the
// config file"). Keys are the snake_case names of the API fields, flat:
//
//   [[siprec.trunks]]
//   name = "cube-east"
//   networks = ["192.0.2.0/24"]
//   transports = ["udp", "tcp"]          # default both
//   digest_username = "cube"             # digest_password, digest_realm, digest_algorithms
//   max_sessions = 100                   # max_channels, max_bandwidth_kbps
//   rtp_source = "offer"                 # or "latch"
//   srtp = "optional"                    # or "off", "required" (needs transports with "tls")
//
// Unknown keys are refused: a typo must not silently drop a limit.
#include <toml++/toml.h>

#include <set>

#include "transports/siprec/trunk_config.h"
#include "core/toml_text.h"

namespace verbatim::api {
namespace {

Status Invalid(std::string message) { return Status::InvalidArgument("config.invalid", std::move(message)); }

std::optional<std::vector<std::string>> Strings(const toml::node& n) {
  const toml::array* a = n.as_array();
  if (!a) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return std::nullopt;
    out.push_back(*s);
  }
  return out;
}

}  // namespace

Result<std::vector<store::SipTrunk>> ParseTrunksToml(std::string_view text, TimePoint now) {
  if (auto unsafe = UnsafeTomlText(text)) return Invalid("config file: " + *unsafe);
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return Invalid(std::string("config file: ") + std::string(e.description()) + " (line " +
                   std::to_string(e.source().begin.line) + ")");
  }
  std::vector<store::SipTrunk> out;
  const toml::node* node = root.at_path("siprec.trunks").node();
  if (!node) return out;
  const toml::array* list = node->as_array();
  if (!list) return Invalid("siprec.trunks must be an array of tables ([[siprec.trunks]]).");
  static const std::set<std::string> kKeys = {
      "name",         "description",       "networks",     "transports",   "digest_username",    "digest_password",
      "digest_realm", "digest_algorithms", "max_sessions", "max_channels", "max_bandwidth_kbps", "rtp_source", "srtp"};
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::table* t = (*list)[i].as_table();
    const std::string where = "[[siprec.trunks]] #" + std::to_string(i + 1);
    if (!t) return Invalid(where + " is not a table.");
    TrunkInput in;
    for (const auto& [key, value] : *t) {
      const std::string k(key.str());
      if (!kKeys.count(k)) return Invalid(where + ": unknown key '" + k.substr(0, 64) + "'.");
      if (k == "networks" || k == "transports" || k == "digest_algorithms") {
        auto v = Strings(value);
        if (!v) return Invalid(where + ": '" + k + "' must be an array of strings.");
        (k == "networks" ? in.networks : k == "transports" ? in.transports : in.digest_algorithms) = std::move(*v);
      } else if (k == "max_sessions" || k == "max_channels" || k == "max_bandwidth_kbps") {
        auto v = value.value<int64_t>();
        if (!v) return Invalid(where + ": '" + k + "' must be an integer.");
        (k == "max_sessions" ? in.max_sessions : k == "max_channels" ? in.max_channels : in.max_bandwidth_kbps) = *v;
      } else {
        auto v = value.value<std::string>();
        if (!v) return Invalid(where + ": '" + k + "' must be a string.");
        if (k == "name")
          in.name = *v;
        else if (k == "description")
          in.description = *v;
        else if (k == "rtp_source")
          in.rtp_source = *v;
        else if (k == "srtp")
          in.srtp = *v;
        else if (k == "digest_username")
          in.digest_username = *v;
        else if (k == "digest_password")
          in.digest_password = *v;
        else
          in.digest_realm = *v;
      }
    }
    in.digest_given = in.digest_username || in.digest_password || in.digest_realm || in.digest_algorithms;
    store::SipTrunk trunk;
    if (auto e = ApplyTrunkInput(in, true, now, trunk)) {
      return Invalid(where + (in.name ? " (" + in.name->substr(0, 64) + ")" : std::string()) + ": " + e->message);
    }
    std::string lower = trunk.name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!names.insert(lower).second) return Invalid(where + ": a trunk named '" + trunk.name + "' is declared twice.");
    trunk.id = ConfigTrunkId(trunk.name);
    out.push_back(std::move(trunk));
  }
  return out;
}

}  // namespace verbatim::api
