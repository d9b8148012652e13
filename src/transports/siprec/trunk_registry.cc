#include "transports/siprec/trunk_registry.h"

#include <algorithm>

#include "transports/siprec/trunk_config.h"
#include "core/log.h"

namespace verbatim::api {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<TrunkEntry> Fixed(std::vector<store::SipTrunk> config, bool dev, const Clock& clock) {
  std::vector<TrunkEntry> out;
  for (auto& t : config) out.push_back({std::move(t), std::string(kTrunkOriginConfig)});
  if (dev) out.push_back({DevTrunk(clock.Now()), std::string(kTrunkOriginDev)});
  return out;
}

// Everything the SIP server acts on, so that a change of any of it is published.
std::string Fingerprint(const std::vector<TrunkEntry>& entries) {
  std::string f;
  for (const auto& e : entries) {
    const auto& t = e.trunk;
    f += t.id + "|" + t.name + "|" + e.origin + "|" + t.digest_username + "|" + t.digest_realm + "|" +
         t.digest_ha1_md5 + "|" + t.digest_ha1_sha256 + "|" + t.rtp_source + "|" + std::to_string(t.max_sessions) +
         "|" + std::to_string(t.max_channels) + "|" + std::to_string(t.max_bandwidth_kbps) + "|" + t.srtp + "|";
    for (const auto& n : t.networks) f += n + ",";
    f += "|";
    for (const auto& n : t.transports) f += n + ",";
    f += "\n";
  }
  return f;
}

}  // namespace

TrunkRegistry::TrunkRegistry(store::Store& store, std::vector<store::SipTrunk> config_trunks, bool dev,
                             const Clock& clock)
    : store_(store), fixed_(Fixed(std::move(config_trunks), dev, clock)) {
  entries_ = fixed_;
  std::vector<media::siprec::Trunk> policies;
  for (const auto& e : entries_) policies.push_back(ToPolicy(e.trunk, e.origin));
  table_ = std::make_shared<media::siprec::TrunkTable>(std::move(policies));
  fingerprint_ = Fingerprint(entries_);
}

Status TrunkRegistry::Reload() {
  MutexLock reload(reload_mu_);
  auto stored = store_.ListTrunks();
  if (!stored.ok()) return stored.status();
  std::vector<TrunkEntry> entries = fixed_;
  for (auto& t : *stored) {
    const bool shadowed = std::any_of(fixed_.begin(), fixed_.end(),
                                      [&](const TrunkEntry& f) { return Lower(f.trunk.name) == Lower(t.name); });
    if (shadowed) {
      Log(LogLevel::kWarn, "stored sip trunk shadowed by the config file", {{"trunk", t.name}, {"id", t.id}});
      continue;
    }
    entries.push_back({std::move(t), std::string(kTrunkOriginApi)});
  }
  std::sort(entries.begin(), entries.end(),
            [](const TrunkEntry& a, const TrunkEntry& b) { return Lower(a.trunk.name) < Lower(b.trunk.name); });
  std::string fingerprint = Fingerprint(entries);
  std::vector<Subscriber> notify;
  std::shared_ptr<const media::siprec::TrunkTable> table;
  {
    MutexLock lock(mu_);
    if (fingerprint == fingerprint_) return Status::Ok();
    std::vector<media::siprec::Trunk> policies;
    for (const auto& e : entries) policies.push_back(ToPolicy(e.trunk, e.origin));
    table_ = table = std::make_shared<media::siprec::TrunkTable>(std::move(policies));
    entries_ = std::move(entries);
    fingerprint_ = std::move(fingerprint);
    notify = subscribers_;
  }
  Log(LogLevel::kInfo, "sip trunks changed", {{"trunks", table->trunks().size()}});
  for (auto& s : notify) s(table);
  return Status::Ok();
}

void TrunkRegistry::Subscribe(Subscriber s) {
  std::shared_ptr<const media::siprec::TrunkTable> table;
  {
    MutexLock lock(mu_);
    subscribers_.push_back(s);
    table = table_;
  }
  s(table);
}

std::vector<TrunkEntry> TrunkRegistry::All() const {
  MutexLock lock(mu_);
  return entries_;
}

std::optional<TrunkEntry> TrunkRegistry::Find(const std::string& id) const {
  MutexLock lock(mu_);
  for (const auto& e : entries_)
    if (e.trunk.id == id) return e;
  return std::nullopt;
}

std::optional<TrunkEntry> TrunkRegistry::FindFixedByName(const std::string& name) const {
  for (const auto& e : fixed_)
    if (Lower(e.trunk.name) == Lower(name)) return e;
  return std::nullopt;
}

std::shared_ptr<const media::siprec::TrunkTable> TrunkRegistry::Table() const {
  MutexLock lock(mu_);
  return table_;
}

}  // namespace verbatim::api
