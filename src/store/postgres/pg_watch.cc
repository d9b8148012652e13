#include "store/postgres/pg_watch.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

#include "core/log.h"

namespace verbatim::store::pg {
namespace {

// How often the loop looks at stop_ while the channel is quiet.
constexpr int kPollMillis = 100;

}  // namespace

std::optional<Change> ParseChangePayload(std::string_view payload) {
  static const std::pair<std::string_view, ChangeTopic> kTopics[] = {
      {"directory", ChangeTopic::kDirectory}, {"revocations", ChangeTopic::kRevocations},
      {"keys", ChangeTopic::kKeys},           {"trunks", ChangeTopic::kTrunks}};
  for (const auto& [name, topic] : kTopics)
    if (payload == name) return Change{topic, ""};
  constexpr std::string_view kConversation = "conversation:";
  if (payload.size() > kConversation.size() && payload.substr(0, kConversation.size()) == kConversation)
    return Change{ChangeTopic::kConversation, std::string(payload.substr(kConversation.size()))};
  return std::nullopt;
}

PgChangeWatch::PgChangeWatch(ConnectOptions connect, ChangeHandler handler, std::chrono::milliseconds backoff_first,
                             std::chrono::milliseconds backoff_max)
    : connect_(std::move(connect)),
      handler_(std::move(handler)),
      backoff_first_(backoff_first),
      backoff_max_(backoff_max),
      thread_([this] { Run(); }) {}

PgChangeWatch::~PgChangeWatch() {
  stop_ = true;
  thread_.join();
}

bool PgChangeWatch::Pause(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop_ && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(kPollMillis)));
  return !stop_;
}

void PgChangeWatch::Run() {
  auto backoff = backoff_first_;
  bool lost = false;
  while (!stop_) {
    if (ListenOnce()) {
      backoff = backoff_first_;
      if (!stop_) {
        Log(LogLevel::kWarn, "store change watch lost its connection; reconnecting (other nodes' changes are reloaded "
                             "in full when it is back)", {});
        lost = true;
      }
      continue;
    }
    if (!lost) {
      Log(LogLevel::kWarn, "store change watch cannot connect; retrying", {{"backoffMs", backoff.count()}});
      lost = true;
    }
    if (!Pause(backoff)) return;
    backoff = std::min(backoff * 2, backoff_max_);
  }
}

bool PgChangeWatch::ListenOnce() {
  auto conn = Conn::Connect(connect_);
  if (!conn.ok()) return false;
  PGconn* pg = (*conn)->raw();
  auto schema = (*conn)->Simple("SELECT current_schema()");
  if (!schema.ok() || schema->empty()) return false;
  const std::string channel = kChangesChannel + (*schema)[0].Text(0);
  char* quoted = PQescapeIdentifier(pg, channel.data(), channel.size());
  if (quoted == nullptr) return false;
  const std::string listen = std::string("LISTEN ") + quoted;
  PQfreemem(quoted);
  if (!(*conn)->Script(listen).ok()) return false;
  // Anything may have changed before this LISTEN took effect.
  handler_({Change{ChangeTopic::kResync, ""}});
  while (!stop_) {
    pollfd p{PQsocket(pg), POLLIN, 0};
    const int ready = poll(&p, 1, kPollMillis);
    if (ready < 0 && errno != EINTR) return true;
    if (ready > 0 && PQconsumeInput(pg) == 0) return true;  // the server went away
    std::vector<Change> batch;
    while (PGnotify* n = PQnotifies(pg)) {
      if (auto c = ParseChangePayload(n->extra)) batch.push_back(std::move(*c));
      PQfreemem(n);
    }
    if (!batch.empty()) handler_(batch);
    if (PQstatus(pg) == CONNECTION_BAD) return true;
  }
  return true;
}

}  // namespace verbatim::store::pg
