// SIPREC trunk definitions as operators write them: the admin API's JSON
// body, the config file's [[siprec.trunks]] tables, the CLI's flags. All three
// fill a TrunkInput, and one function validates it and makes the stored
// record, so a trunk means the same thing wherever it was written
// (docs/sip-trunks.md). The digest password is turned into HA1s here and
// never kept or returned.
//
// Also: the record → policy conversion the SIP server runs on, the JSON view
// (without secrets), the implicit --dev trunk, and stable ids for file trunks.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "media/siprec/trunks.h"
#include "store/model.h"

namespace verbatim::api {

// Who manages a trunk. File and dev trunks are read-only through the API.
inline constexpr std::string_view kTrunkOriginApi = "api";
inline constexpr std::string_view kTrunkOriginConfig = "config";
inline constexpr std::string_view kTrunkOriginDev = "dev";

struct TrunkInput {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> networks;
  std::optional<std::vector<std::string>> transports;
  bool digest_given = false;  // the digest field was present (a null removes it)
  bool digest_null = false;
  std::optional<std::string> digest_username;
  std::optional<std::string> digest_password;
  std::optional<std::string> digest_realm;
  std::optional<std::vector<std::string>> digest_algorithms;
  std::optional<int64_t> max_sessions;
  std::optional<int64_t> max_channels;
  std::optional<int64_t> max_bandwidth_kbps;
  std::optional<std::string> rtp_source;
  std::optional<std::string> srtp;  // "off" | "optional" | "required"
};

// A refusal of one field: what is wrong, which field, what was expected.
struct TrunkInputError {
  std::string field;
  std::string message;
  std::string expected;
};

// The admin API body: {name, description, networks, transports, digest:
// {username, password, realm, algorithms} | null, limits: {maxSessions,
// maxChannelsPerSession, maxBandwidthKbps}, rtpSource, srtp}. Unknown fields refused.
std::optional<TrunkInputError> TrunkInputFromJson(const json::object& body, TrunkInput& out);

// Validates `in` and applies it to `t` (creating: every required field must
// be given; else only the given ones change). A new password recomputes the
// HA1s; changing username or realm needs the password again.
std::optional<TrunkInputError> ApplyTrunkInput(const TrunkInput& in, bool creating, TimePoint now, store::SipTrunk& t);

// The policy the SIP server enforces.
media::siprec::Trunk ToPolicy(const store::SipTrunk& t, std::string_view origin);
// The API view: never the password or the HA1s.
json::object TrunkJson(const store::SipTrunk& t, std::string_view origin);

// Trunks from a config file's text ([[siprec.trunks]]), ids derived from the
// names so they are stable across restarts. Error: InvalidArgument
// "config.invalid" naming the trunk and field.
Result<std::vector<store::SipTrunk>> ParseTrunksToml(std::string_view toml_text, TimePoint now);
// A stable UUID for a file-declared trunk.
std::string ConfigTrunkId(std::string_view name);
// The implicit --dev trunk: loopback only (127.0.0.1/32, ::1/128), UDP,
// TCP and TLS, no digest, the default limits except no session limit of its own.
store::SipTrunk DevTrunk(TimePoint now);

}  // namespace verbatim::api
