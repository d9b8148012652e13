// TrunkRegistry: the SIPREC trunks in force, from three sources
// (docs/sip-trunks.md "Where trunks come from"):
//   - the store: created with the admin API or `verbatim trunks add`;
//   - the config file ([[siprec.trunks]]): read-only through the API, changed
//     by editing the file and restarting;
//   - serve --dev: the implicit loopback trunk "dev-loopback".
// Names are unique across all three; a stored trunk whose name a file trunk
// also uses is shadowed by the file one (and logged), so the file wins.
//
// Reload() reads the store and publishes the merged table to subscribers
// (the SIP server) when it changed. The API reloads after each write; serve
// also reloads every few seconds, which picks up `verbatim trunks` run in
// another process.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "media/siprec/trunks.h"
#include "store/store.h"

namespace verbatim::api {

struct TrunkEntry {
  store::SipTrunk trunk;
  std::string origin;  // "api" | "config" | "dev"
};

class TrunkRegistry {
 public:
  using Subscriber = std::function<void(std::shared_ptr<const media::siprec::TrunkTable>)>;

  TrunkRegistry(store::Store& store, std::vector<store::SipTrunk> config_trunks, bool dev, const Clock& clock);

  Status Reload();
  // Called at once with the current table, then on every change.
  void Subscribe(Subscriber s);

  std::vector<TrunkEntry> All() const;  // by name
  std::optional<TrunkEntry> Find(const std::string& id) const;
  // A file or dev trunk with this name (case-insensitive), if any: the API may not reuse it.
  std::optional<TrunkEntry> FindFixedByName(const std::string& name) const;
  std::shared_ptr<const media::siprec::TrunkTable> Table() const;

 private:
  store::Store& store_;
  const std::vector<TrunkEntry> fixed_;  // config and dev trunks; constant after construction

  Mutex reload_mu_;   // serializes Reload(), so tables are published in the order they were read
  mutable Mutex mu_ ACQUIRED_AFTER(reload_mu_);
  std::vector<TrunkEntry> entries_ GUARDED_BY(mu_);
  std::shared_ptr<const media::siprec::TrunkTable> table_ GUARDED_BY(mu_);
  std::string fingerprint_ GUARDED_BY(mu_);  // of entries_, to publish only changes
  std::vector<Subscriber> subscribers_ GUARDED_BY(mu_);
};

}  // namespace verbatim::api
