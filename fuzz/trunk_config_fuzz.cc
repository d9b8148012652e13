// libFuzzer target: trunk definitions as operators write them: CIDR parsing
// and matching, the admin API's JSON body (validation included), and the
// config file's [[siprec.trunks]] tables. Invariants: a parsed network's
// canonical text parses to the same network and contains its own base; a
// validated trunk never admits every address without a digest; a config
// trunk's id is a UUID.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transports/siprec/trunk_config.h"
#include "core/ids.h"
#include "media/siprec/trunks.h"

using namespace verbatim;  // NOLINT: fuzz harness

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const TimePoint now = FromUnixMillis(1'700'000'000'000);

  auto n = media::siprec::ParseCidr(in.substr(0, 128));
  if (n.ok()) {
    auto again = media::siprec::ParseCidr(n->ToString());
    if (!again.ok() || again->prefix != n->prefix || !(again->base == n->base)) __builtin_trap();
    if (!n->Contains(n->base)) __builtin_trap();
  }
  if (auto a = media::siprec::ParseIpAddress(in.substr(0, 64))) (void)a->ToString();

  auto body = ParseJsonObject(in);
  if (body.ok()) {
    api::TrunkInput input;
    store::SipTrunk t;
    t.id = "00000000-0000-4000-8000-000000000000";
    if (!api::TrunkInputFromJson(*body, input) && !api::ApplyTrunkInput(input, true, now, t)) {
      media::siprec::Trunk p = api::ToPolicy(t, api::kTrunkOriginApi);
      if (!p.digest) {
        for (const auto& net : p.networks)
          if (net.prefix == 0) __builtin_trap();
      }
      (void)json::serialize(api::TrunkJson(t, api::kTrunkOriginApi));
    }
  }
  auto toml = api::ParseTrunksToml(in, now);
  if (toml.ok()) {
    for (const auto& t : *toml)
      if (!IsUuid(t.id)) __builtin_trap();
  }
  return 0;
}
