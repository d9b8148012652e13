// SIPREC trunks of the SQLite store (see store.h; docs/sip-trunks.md). Names
// are unique case-insensitively (the sip_trunks_by_name index); lists are JSON.
#include "store/change_diff.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

constexpr char kTrunkSelect[] =
    "SELECT id, name, description, networks, transports, digest_username, digest_realm, digest_ha1_md5, "
    "digest_ha1_sha256, max_sessions, max_channels, max_bandwidth_kbps, rtp_source, created_at, updated_at, srtp "
    "FROM sip_trunks";

Result<SipTrunk> ReadTrunk(const Stmt& st) {
  SipTrunk t;
  t.id = st.Text(0);
  t.name = st.Text(1);
  t.description = st.Text(2);
  STORE_ASSIGN_OR_RETURN(t.networks, sqlite::DecodeStrings(st.Text(3)));
  STORE_ASSIGN_OR_RETURN(t.transports, sqlite::DecodeStrings(st.Text(4)));
  t.digest_username = st.Text(5);
  t.digest_realm = st.Text(6);
  t.digest_ha1_md5 = st.Text(7);
  t.digest_ha1_sha256 = st.Text(8);
  t.max_sessions = static_cast<int>(st.Int(9));
  t.max_channels = static_cast<int>(st.Int(10));
  t.max_bandwidth_kbps = static_cast<int>(st.Int(11));
  t.rtp_source = st.Text(12);
  t.created_at = st.Time(13);
  t.updated_at = st.Time(14);
  t.srtp = st.Text(15);
  return t;
}

// The trunk as the write's transaction sees it, when the write is logged (`by` set).
Result<std::optional<SipTrunk>> LoadTrunk(Db& db, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<SipTrunk>();
  return sqlite::LoadOne<SipTrunk>(db, std::string(kTrunkSelect) + " WHERE id = ?", id, ReadTrunk);
}

Status CheckTrunkNameFree(Db& db, const SipTrunk& t) {
  STORE_ASSIGN_OR_RETURN(bool taken,
                         db.Exists("SELECT 1 FROM sip_trunks WHERE name = ? COLLATE NOCASE AND id <> ?", t.name, t.id));
  if (taken) return TrunkNameTaken(t.name);
  return Status::Ok();
}

}  // namespace

Status SqliteStore::CreateTrunk(const SipTrunk& t, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckTrunkNameFree(db, t));
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM sip_trunks WHERE id = ?", t.id));
    if (exists) return Status::AlreadyExists("trunk.exists", "SIP trunk '" + t.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO sip_trunks (id, name, description, networks, transports, digest_username, digest_realm, "
        "digest_ha1_md5, digest_ha1_sha256, max_sessions, max_channels, max_bandwidth_kbps, rtp_source, created_at, "
        "updated_at, srtp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        t.id, t.name, t.description, sqlite::EncodeStrings(t.networks), sqlite::EncodeStrings(t.transports),
        t.digest_username, t.digest_realm, t.digest_ha1_md5, t.digest_ha1_sha256, t.max_sessions, t.max_channels,
        t.max_bandwidth_kbps, t.rtp_source, t.created_at, t.updated_at, t.srtp));
    return by != nullptr ? sqlite::LogChange(db, TrunkChange(nullptr, &t, *by)) : Status::Ok();
  });
}

Result<std::vector<SipTrunk>> SqliteStore::ListTrunks() {
  std::vector<SipTrunk> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kTrunkSelect) + " ORDER BY name COLLATE NOCASE, id");
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      STORE_ASSIGN_OR_RETURN(SipTrunk t, ReadTrunk(st));
      out.push_back(std::move(t));
    }
  }));
  return out;
}

Result<SipTrunk> SqliteStore::GetTrunk(const std::string& id) {
  SipTrunk out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kTrunkSelect) + " WHERE id = ?", id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return TrunkNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadTrunk(st));
    return Status::Ok();
  }));
  return out;
}

Status SqliteStore::UpdateTrunk(const SipTrunk& t, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckTrunkNameFree(db, t));
    STORE_ASSIGN_OR_RETURN(std::optional<SipTrunk> before, LoadTrunk(db, by, t.id));
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE sip_trunks SET name = ?, description = ?, networks = ?, transports = ?, digest_username = ?, "
                "digest_realm = ?, digest_ha1_md5 = ?, digest_ha1_sha256 = ?, max_sessions = ?, max_channels = ?, "
                "max_bandwidth_kbps = ?, rtp_source = ?, updated_at = ?, srtp = ? WHERE id = ?",
                t.name, t.description, sqlite::EncodeStrings(t.networks), sqlite::EncodeStrings(t.transports),
                t.digest_username, t.digest_realm, t.digest_ha1_md5, t.digest_ha1_sha256, t.max_sessions,
                t.max_channels, t.max_bandwidth_kbps, t.rtp_source, t.updated_at, t.srtp, t.id));
    if (db.Changes() == 0) return TrunkNotFound(t.id);
    return before ? sqlite::LogChange(db, TrunkChange(&*before, &t, *by)) : Status::Ok();
  });
}

Status SqliteStore::DeleteTrunk(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<SipTrunk> before, LoadTrunk(db, by, id));
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM sip_trunks WHERE id = ?", id));
    if (db.Changes() == 0) return TrunkNotFound(id);
    return before ? sqlite::LogChange(db, TrunkChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

}  // namespace verbatim::store
