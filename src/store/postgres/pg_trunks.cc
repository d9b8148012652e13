// SIPREC trunks of the PostgreSQL store (see store.h; docs/sip-trunks.md).
// Names are unique case-insensitively: checked first for the refusal's
// message, and by the sip_trunks_by_name index when two nodes race.
#include "store/change_diff.h"
#include "store/postgres/pg_changes.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kTrunkSelect[] =
    "SELECT id, name, description, networks::text, transports::text, digest_username, digest_realm, digest_ha1_md5, "
    "digest_ha1_sha256, max_sessions, max_channels, max_bandwidth_kbps, rtp_source, created_at, updated_at, srtp "
    "FROM sip_trunks";

Result<SipTrunk> ReadTrunk(const Row& row) {
  SipTrunk t;
  t.id = row.Text(0);
  t.name = row.Text(1);
  t.description = row.Text(2);
  STORE_ASSIGN_OR_RETURN(t.networks, DecodeStrings(row.Text(3)));
  STORE_ASSIGN_OR_RETURN(t.transports, DecodeStrings(row.Text(4)));
  t.digest_username = row.Text(5);
  t.digest_realm = row.Text(6);
  t.digest_ha1_md5 = row.Text(7);
  t.digest_ha1_sha256 = row.Text(8);
  t.max_sessions = static_cast<int>(row.Int(9));
  t.max_channels = static_cast<int>(row.Int(10));
  t.max_bandwidth_kbps = static_cast<int>(row.Int(11));
  t.rtp_source = row.Text(12);
  t.created_at = row.Time(13);
  t.updated_at = row.Time(14);
  t.srtp = row.Text(15);
  return t;
}

Status CheckTrunkNameFree(Conn& conn, const SipTrunk& t) {
  STORE_ASSIGN_OR_RETURN(bool taken, conn.Exists("SELECT 1 FROM sip_trunks WHERE lower(name COLLATE \"C\") = "
                                                 "lower($1::text COLLATE \"C\") AND id <> $2",
                                                 t.name, t.id));
  return taken ? TrunkNameTaken(t.name) : Status::Ok();
}

// A write that lost a race on the unique name index is the same refusal.
Status NameRace(const Conn& conn, Status s, const SipTrunk& t) {
  if (!s.ok() && conn.last_sqlstate() == "23505" && conn.last_constraint() == "sip_trunks_by_name")
    return TrunkNameTaken(t.name);
  return s;
}

// The trunk as the write's transaction sees it (locked), when the write is logged (`by` set).
Result<std::optional<SipTrunk>> LoadTrunk(Conn& conn, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<SipTrunk>();
  return pg::LoadForChange<SipTrunk>(conn, std::string(kTrunkSelect) + " WHERE id = $1 FOR UPDATE", id, ReadTrunk);
}

}  // namespace

Status PostgresStore::CreateTrunk(const SipTrunk& t, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckTrunkNameFree(conn, t));
    STORE_ASSIGN_OR_RETURN(bool exists, conn.Exists("SELECT 1 FROM sip_trunks WHERE id = $1", t.id));
    if (exists) return Status::AlreadyExists("trunk.exists", "SIP trunk '" + t.id + "' already exists.");
    Status s = conn.Exec(
        "INSERT INTO sip_trunks (id, name, description, networks, transports, digest_username, digest_realm, "
        "digest_ha1_md5, digest_ha1_sha256, max_sessions, max_channels, max_bandwidth_kbps, rtp_source, created_at, "
        "updated_at, srtp) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        t.id, t.name, t.description, EncodeStrings(t.networks), EncodeStrings(t.transports), t.digest_username,
        t.digest_realm, t.digest_ha1_md5, t.digest_ha1_sha256, t.max_sessions, t.max_channels, t.max_bandwidth_kbps,
        t.rtp_source, t.created_at, t.updated_at, t.srtp);
    if (!s.ok() && conn.last_sqlstate() == "23505" && conn.last_constraint() == "sip_trunks_pkey")
      return Status::AlreadyExists("trunk.exists", "SIP trunk '" + t.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(NameRace(conn, s, t));
    return by != nullptr ? pg::LogChange(conn, TrunkChange(nullptr, &t, *by)) : Status::Ok();
  });
}

Result<std::vector<SipTrunk>> PostgresStore::ListTrunks() {
  std::vector<SipTrunk> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows,
                           conn.Query(std::string(kTrunkSelect) + " ORDER BY lower(name COLLATE \"C\"), id"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      STORE_ASSIGN_OR_RETURN(SipTrunk t, ReadTrunk(rows[i]));
      out.push_back(std::move(t));
    }
    return Status::Ok();
  }));
  return out;
}

Result<SipTrunk> PostgresStore::GetTrunk(const std::string& id) {
  SipTrunk out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kTrunkSelect) + " WHERE id = $1", id));
    if (rows.empty()) return TrunkNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadTrunk(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Status PostgresStore::UpdateTrunk(const SipTrunk& t, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckTrunkNameFree(conn, t));
    STORE_ASSIGN_OR_RETURN(std::optional<SipTrunk> before, LoadTrunk(conn, by, t.id));
    auto updated = conn.Affected(
        "UPDATE sip_trunks SET name = $1, description = $2, networks = $3::jsonb, transports = $4::jsonb, "
        "digest_username = $5, digest_realm = $6, digest_ha1_md5 = $7, digest_ha1_sha256 = $8, max_sessions = $9, "
        "max_channels = $10, max_bandwidth_kbps = $11, rtp_source = $12, updated_at = $13, srtp = $14 WHERE id = $15",
        t.name, t.description, EncodeStrings(t.networks), EncodeStrings(t.transports), t.digest_username,
        t.digest_realm, t.digest_ha1_md5, t.digest_ha1_sha256, t.max_sessions, t.max_channels, t.max_bandwidth_kbps,
        t.rtp_source, t.updated_at, t.srtp, t.id);
    if (!updated.ok()) return NameRace(conn, updated.status(), t);
    if (*updated == 0) return TrunkNotFound(t.id);
    return before ? pg::LogChange(conn, TrunkChange(&*before, &t, *by)) : Status::Ok();
  });
}

Status PostgresStore::DeleteTrunk(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<SipTrunk> before, LoadTrunk(conn, by, id));
    STORE_ASSIGN_OR_RETURN(int64_t deleted, conn.Affected("DELETE FROM sip_trunks WHERE id = $1", id));
    if (deleted == 0) return TrunkNotFound(id);
    return before ? pg::LogChange(conn, TrunkChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

}  // namespace verbatim::store
