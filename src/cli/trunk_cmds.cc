// `verbatim trunks add|list|remove --data-dir …`: SIPREC trunks in the store,
// offline (docs/sip-trunks.md). The same validation as the admin API
// (transports/siprec/trunk_config.h); a running server picks changes up within its
// reload interval. The digest password is read from stdin, never from argv
// (where `ps` and shell history would show it).
#include <iostream>

#include "transports/siprec/trunk_config.h"
#include "cli/commands.h"
#include "core/ids.h"
#include "store/change_diff.h"
#include "store/store.h"

namespace verbatim::cli {
namespace {

void PrintTrunk(const store::SipTrunk& t) {
  std::string nets, transports;
  for (const auto& n : t.networks) nets += (nets.empty() ? "" : ",") + n;
  for (const auto& n : t.transports) transports += (transports.empty() ? "" : ",") + n;
  std::cout << t.name << "  id " << t.id << "\n  networks   " << nets << "\n  transports " << transports
            << "\n  digest     "
            << (t.digest_username.empty() ? "none" : t.digest_username + " (realm " + t.digest_realm + ")")
            << "\n  limits     " << t.max_sessions << " sessions, " << t.max_channels << " channels, "
            << t.max_bandwidth_kbps << " kbit/s per session\n  rtp source " << t.rtp_source << "\n  srtp       " << t.srtp << "\n";
}

}  // namespace

int RunTrunksAdd(const TrunkAddOptions& o) {
  api::TrunkInput in;
  in.name = o.name;
  if (!o.description.empty()) in.description = o.description;
  in.networks = o.networks;
  if (!o.transports.empty()) in.transports = o.transports;
  if (!o.digest_username.empty() || o.digest_password_stdin) {
    in.digest_given = true;
    in.digest_username = o.digest_username;
    if (!o.digest_realm.empty()) in.digest_realm = o.digest_realm;
    if (!o.digest_password_stdin) {
      std::cerr
          << "verbatim trunks add: --digest-user needs --digest-password-stdin (the password is read from stdin)\n";
      return kExitUsage;
    }
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    in.digest_password = std::move(password);
  }
  if (o.max_sessions >= 0) in.max_sessions = o.max_sessions;
  if (o.max_channels >= 0) in.max_channels = o.max_channels;
  if (o.max_bandwidth_kbps >= 0) in.max_bandwidth_kbps = o.max_bandwidth_kbps;
  if (!o.rtp_source.empty()) in.rtp_source = o.rtp_source;
  if (!o.srtp.empty()) in.srtp = o.srtp;

  store::SipTrunk t;
  t.id = NewUuid();
  if (auto e = api::ApplyTrunkInput(in, true, SystemClock::Instance().Now(), t)) {
    std::cerr << "verbatim trunks add: " << e->message << "\n";
    return kExitUsage;
  }
  auto store = OpenOfflineStore(o.data_dir, true, o.database_url);
  if (!store.ok()) {
    std::cerr << "verbatim trunks add: " << store.status().message() << "\n";
    return kExitServer;
  }
  const store::ChangeAuthor by = store::OfflineAuthor("verbatim trunks add", t.created_at);
  if (Status s = (*store)->CreateTrunk(t, &by); !s.ok()) {
    std::cerr << "verbatim trunks add: " << s.message() << "\n";
    return s.code() == "trunk.name.taken" ? kExitUsage : kExitServer;
  }
  if (o.json) {
    std::cout << json::serialize(api::TrunkJson(t, api::kTrunkOriginApi)) << "\n";
  } else {
    std::cout << "Added SIPREC trunk:\n";
    PrintTrunk(t);
  }
  return kExitOk;
}

int RunTrunksList(const std::string& data_dir, bool as_json, const std::string& database_url) {
  auto store = OpenOfflineStore(data_dir, false, database_url);
  if (!store.ok()) {
    std::cerr << "verbatim trunks list: " << store.status().message() << "\n";
    return kExitServer;
  }
  auto trunks = (*store)->ListTrunks();
  if (!trunks.ok()) {
    std::cerr << "verbatim trunks list: " << trunks.status().message() << "\n";
    return kExitServer;
  }
  if (as_json) {
    json::array a;
    for (const auto& t : *trunks) a.emplace_back(api::TrunkJson(t, api::kTrunkOriginApi));
    std::cout << json::serialize(json::object{{"entities", std::move(a)}}) << "\n";
    return kExitOk;
  }
  if (trunks->empty())
    std::cout << "No trunks in " << data_dir << " (the config file and --dev may add more; see docs/sip-trunks.md).\n";
  for (const auto& t : *trunks) PrintTrunk(t);
  return kExitOk;
}

int RunTrunksRemove(const std::string& data_dir, const std::string& target, const std::string& database_url) {
  auto store = OpenOfflineStore(data_dir, false, database_url);
  if (!store.ok()) {
    std::cerr << "verbatim trunks remove: " << store.status().message() << "\n";
    return kExitServer;
  }
  auto trunks = (*store)->ListTrunks();
  if (!trunks.ok()) {
    std::cerr << "verbatim trunks remove: " << trunks.status().message() << "\n";
    return kExitServer;
  }
  for (const auto& t : *trunks) {
    if (t.id != target && t.name != target) continue;
    const store::ChangeAuthor by = store::OfflineAuthor("verbatim trunks remove", SystemClock::Instance().Now());
    if (Status s = (*store)->DeleteTrunk(t.id, &by); !s.ok()) {
      std::cerr << "verbatim trunks remove: " << s.message() << "\n";
      return kExitServer;
    }
    std::cout << "Removed SIPREC trunk " << t.name << " (" << t.id << ").\n";
    return kExitOk;
  }
  std::cerr << "verbatim trunks remove: no trunk named or with id '" << target << "' in " << data_dir
            << " (verbatim trunks list shows them).\n";
  return kExitUsage;
}

}  // namespace verbatim::cli
