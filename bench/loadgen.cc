// loadgen: a small HTTP/1.1 load generator for `make bench`.
//
//   loadgen --target 127.0.0.1:PORT --requests FILE [--connections 32] [--threads 1]
//           [--duration 5] [--warmup 1] [--rate R] [--ordered] [--watch-pid PID] [--out FILE]
//
// Requests come from FILE, one JSON object per line:
//   {"method":"GET","path":"/x","headers":{"Authorization":"Bearer ..."},"body":"","key":"k","expect":200}
// Each is serialized once to wire bytes; sending is one write of those bytes.
//
// Modes
//   closed loop (default): every connection sends its next request as soon as
//     the previous response is complete; measures maximum throughput.
//   open loop (--rate R): requests are scheduled at fixed intervals (R/s in
//     total); a request waits for a free connection if none is idle, and its
//     latency is measured from its *scheduled* time, so a stalled server is
//     charged for the requests it delayed (no coordinated omission). Requests
//     scheduled in the window but unanswered 2 s after it ends count as
//     "unfinished" errors.
//   --ordered: templates with the same "key" form a sequence (file order) that
//     is replayed cyclically; a key has at most one request in flight, so its
//     next step is only sent after the previous response (per-key ordering).
//     Keys are spread over threads; there must be at least one key per connection.
//
// Requests are rotated round-robin (per thread). Only responses completing in
// the measurement window [warmup, warmup + duration) are counted (open loop:
// requests *scheduled* in it). Output: one JSON object on stdout or --out.
// With --watch-pid, the CPU time that process used in the window is reported
// (cores used = cpu seconds / window seconds), as are the loadgen's own and the
// whole machine's, so "other_cores" shows how busy other work kept the box.
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proc_cpu.h"

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

namespace {

struct Options {
  std::string host = "127.0.0.1", port, requests_file, out_file;
  int connections = 32, threads = 1, watch_pid = 0;
  double duration = 5, warmup = 1, rate = 0;  // rate 0: closed loop
  bool ordered = false;
};

struct Template {
  std::string wire;  // the complete request bytes
  int expect = 0;    // 0: any status
};

struct Key {  // --ordered: one key's cyclic sequence of templates
  std::vector<const Template*> steps;
  size_t next = 0;
};

struct Stats {
  uint64_t requests = 0, unexpected = 0, io_errors = 0, parse_errors = 0, reconnects = 0, unfinished = 0;
  std::map<int, uint64_t> status;
  std::vector<uint64_t> latency_ns;
};

struct Window {
  Clock::time_point start, end;  // measurement window
};

class Worker;

// One keep-alive connection with at most one request in flight.
class Conn {
 public:
  Conn(Worker& w, asio::io_context& ioc) : w_(w), socket_(ioc) { buf_.resize(16384); }
  void Connect(const tcp::endpoint& ep, boost::system::error_code& ec) {
    socket_.connect(ep, ec);
    if (!ec) socket_.set_option(tcp::no_delay(true), ec);
  }
  void Send(const Template* t, Key* key, Clock::time_point scheduled);
  void Close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  void ReadMore();
  void OnBytes(size_t n);
  void Fail(bool parse_error);

  Worker& w_;
  tcp::socket socket_;
  std::vector<char> buf_;
  size_t have_ = 0;
  const Template* tmpl_ = nullptr;
  Key* key_ = nullptr;
  Clock::time_point scheduled_;
};

class Worker {
 public:
  Worker(const Options& o, const std::vector<Template>& tmpls, std::vector<Key> keys, int nconn, double rate)
      : o_(o), tmpls_(tmpls), timer_(ioc_), rate_(rate) {
    for (auto& k : keys) keys_.push_back(std::make_unique<Key>(std::move(k)));
    for (auto& k : keys_) free_keys_.push_back(k.get());
    for (int i = 0; i < nconn; ++i) conns_.push_back(std::make_unique<Conn>(*this, ioc_));
    stats_.latency_ns.reserve(1 << 20);
  }

  bool ConnectAll(const tcp::endpoint& ep) {
    ep_ = ep;
    for (auto& c : conns_) {
      boost::system::error_code ec;
      c->Connect(ep, ec);
      if (ec) {
        std::cerr << "loadgen: connect " << ep << ": " << ec.message() << "\n";
        return false;
      }
    }
    return true;
  }

  void Run(Clock::time_point t0, const Window& win) {
    t0_ = t0;
    win_ = win;
    drain_deadline_ = win.end + std::chrono::seconds(2);
    for (auto& c : conns_) idle_.push_back(c.get());
    if (rate_ > 0) {
      timer_.expires_at(t0_);
      timer_.async_wait([this](auto ec) { OnTick(ec); });
    } else {
      timer_.expires_at(drain_deadline_);  // a server that stops answering cannot hang us
      timer_.async_wait([this](auto ec) {
        if (!ec) Stop();
      });
      Dispatch();
    }
    ioc_.run();
    if (rate_ > 0) stats_.unfinished += pending_.size() + inflight_;
  }

  // Completion of a request sent by `c`: counts it, then gives c its next request.
  void Completed(Conn* c, Key* key, Clock::time_point scheduled, int status, bool unexpected, bool closing) {
    --inflight_;
    const auto now = Clock::now();
    const auto stamp = rate_ > 0 ? scheduled : now;
    if (stamp >= win_.start && stamp < win_.end) {
      ++stats_.requests;
      ++stats_.status[status];
      if (unexpected) ++stats_.unexpected;
      stats_.latency_ns.push_back(std::chrono::duration_cast<Nanos>(now - scheduled).count());
    }
    if (key) free_keys_.push_back(key);
    if (closing) return Reconnect(c);  // the server ends this connection after its answer
    idle_.push_back(c);
    Dispatch();
  }

  void Errored(Conn* c, Key* key, Clock::time_point scheduled, bool parse_error) {
    --inflight_;
    if (Clock::now() < win_.end || rate_ > 0) {
      if (parse_error) ++stats_.parse_errors;
      else ++stats_.io_errors;
    }
    if (key) {  // resend the same step: a repeated action is answered 200 "changed": false
      key->next = (key->next + key->steps.size() - 1) % key->steps.size();
      free_keys_.push_front(key);
    }
    if (rate_ > 0) pending_.push_front(scheduled);  // retried on a fresh connection
    Reconnect(c);
  }

  void Reconnect(Conn* c) {
    c->Close();
    boost::system::error_code ec;
    c->Connect(ep_, ec);  // loopback: a blocking connect is immediate
    ++stats_.reconnects;
    if (ec) return;  // connection lost for good
    idle_.push_back(c);
    Dispatch();
  }

  void NoteUnexpected(int status, std::string_view response) {
    if (shown_unexpected_++ < 1)
      std::cerr << "loadgen: unexpected status " << status << ":\n" << response.substr(0, 800) << "\n";
  }

  Stats& stats() { return stats_; }
  asio::io_context& ioc() { return ioc_; }

 private:
  void OnTick(boost::system::error_code ec) {
    if (ec) return;
    const auto now = Clock::now();
    const double period_ns = 1e9 / rate_;
    for (;;) {
      auto at = t0_ + Nanos(static_cast<int64_t>(period_ns * static_cast<double>(issued_)));
      if (at >= win_.end) {
        scheduling_done_ = true;
        timer_.expires_at(drain_deadline_);
        timer_.async_wait([this](auto e) {
          if (!e) Stop();
        });
        break;
      }
      if (at > now) {
        timer_.expires_at(at);
        timer_.async_wait([this](auto e) { OnTick(e); });
        break;
      }
      pending_.push_back(at);
      ++issued_;
    }
    Dispatch();
  }

  void Dispatch() {
    const auto now = Clock::now();
    if (rate_ > 0) {
      if (now >= drain_deadline_ || (scheduling_done_ && pending_.empty() && inflight_ == 0)) return Stop();
      while (!idle_.empty() && !pending_.empty()) {
        if (!SendOne(pending_.front())) break;
        pending_.pop_front();
      }
      return;
    }
    if (now >= win_.end) {
      if (inflight_ == 0) Stop();
      return;
    }
    while (!idle_.empty())
      if (!SendOne(now)) break;
  }

  bool SendOne(Clock::time_point scheduled) {
    const Template* t;
    Key* key = nullptr;
    if (o_.ordered) {
      if (free_keys_.empty()) return false;
      key = free_keys_.front();
      free_keys_.pop_front();
      t = key->steps[key->next];
      key->next = (key->next + 1) % key->steps.size();
    } else {
      t = &tmpls_[rr_++ % tmpls_.size()];
    }
    Conn* c = idle_.back();
    idle_.pop_back();
    ++inflight_;
    c->Send(t, key, scheduled);
    return true;
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    for (auto& c : conns_) c->Close();
    ioc_.stop();
  }

  const Options& o_;
  const std::vector<Template>& tmpls_;
  asio::io_context ioc_{1};
  asio::steady_timer timer_;
  tcp::endpoint ep_;
  const double rate_;
  std::vector<std::unique_ptr<Key>> keys_;
  std::deque<Key*> free_keys_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> idle_;
  std::deque<Clock::time_point> pending_;  // open loop: scheduled, not yet sent
  Clock::time_point t0_, drain_deadline_;
  Window win_;
  uint64_t issued_ = 0, rr_ = 0, inflight_ = 0;
  int shown_unexpected_ = 0;
  bool scheduling_done_ = false, stopped_ = false;
  Stats stats_;
};

void Conn::Send(const Template* t, Key* key, Clock::time_point scheduled) {
  tmpl_ = t;
  key_ = key;
  scheduled_ = scheduled;
  have_ = 0;
  asio::async_write(socket_, asio::buffer(t->wire), [this](boost::system::error_code ec, size_t) {
    if (ec) return Fail(false);
    ReadMore();
  });
}

void Conn::ReadMore() {
  if (have_ == buf_.size()) buf_.resize(buf_.size() * 2);
  socket_.async_read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_),
                          [this](boost::system::error_code ec, size_t n) {
                            if (ec) return Fail(false);
                            OnBytes(n);
                          });
}

// Case-insensitive search for a header line "name:" in the header block.
std::string_view HeaderValue(std::string_view head, std::string_view name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    size_t line = pos + 2, eol = head.find("\r\n", line);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view l = head.substr(line, eol - line);
    if (l.size() > name.size() && l[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), l.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string_view v = l.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    }
    pos = eol;
  }
  return {};
}

void Conn::OnBytes(size_t n) {
  have_ += n;
  std::string_view data(buf_.data(), have_);
  size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return ReadMore();
  std::string_view head = data.substr(0, head_end);
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return Fail(true);
  int status = std::atoi(std::string(head.substr(9, 3)).c_str());
  std::string_view cl = HeaderValue(head, "content-length");
  if (cl.empty()) return Fail(true);  // the servers under test always send Content-Length
  size_t total = head_end + 4 + std::strtoull(std::string(cl).c_str(), nullptr, 10);
  if (have_ < total) return ReadMore();
  std::string_view conn = HeaderValue(head, "connection");
  bool close = conn.size() == 5 && std::tolower(static_cast<unsigned char>(conn[0])) == 'c';
  bool unexpected = tmpl_->expect != 0 && tmpl_->expect != status;
  if (unexpected) w_.NoteUnexpected(status, data.substr(0, total));
  w_.Completed(this, key_, scheduled_, status, unexpected, close);
}

void Conn::Fail(bool parse_error) { w_.Errored(this, key_, scheduled_, parse_error); }

bool LoadTemplates(const Options& o, std::vector<Template>& out, std::vector<std::vector<size_t>>& key_seqs) {
  std::ifstream in(o.requests_file);
  if (!in) {
    std::cerr << "loadgen: cannot read " << o.requests_file << "\n";
    return false;
  }
  std::map<std::string, size_t> key_index;
  std::string line;
  const std::string host = o.host + ":" + o.port;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      std::cerr << "loadgen: bad template line: " << line.substr(0, 120) << "\n";
      return false;
    }
    const auto& obj = v.as_object();
    auto str = [&](const char* k) -> std::string {
      auto* p = obj.if_contains(k);
      return p && p->is_string() ? std::string(p->as_string()) : std::string();
    };
    std::string method = str("method"), body = str("body");
    Template t;
    t.wire = (method.empty() ? "GET" : method) + " " + str("path") + " HTTP/1.1\r\nHost: " + host + "\r\n";
    if (auto* h = obj.if_contains("headers"); h && h->is_object())
      for (const auto& kv : h->as_object())
        t.wire += std::string(kv.key()) + ": " + std::string(kv.value().as_string()) + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
      t.wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    t.wire += "\r\n" + body;
    if (auto* e = obj.if_contains("expect"); e && e->is_int64()) t.expect = static_cast<int>(e->as_int64());
    out.push_back(std::move(t));
    if (o.ordered) {
      auto [it, added] = key_index.emplace(str("key"), key_seqs.size());
      if (added) key_seqs.emplace_back();
      key_seqs[it->second].push_back(out.size() - 1);
    }
  }
  if (out.empty()) std::cerr << "loadgen: no requests in " << o.requests_file << "\n";
  return !out.empty();
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target") {
      std::string t = next();
      auto c = t.rfind(':');
      if (c == std::string::npos) return false;
      o.host = t.substr(0, c);
      o.port = t.substr(c + 1);
    } else if (a == "--requests") o.requests_file = next();
    else if (a == "--out") o.out_file = next();
    else if (a == "--connections") o.connections = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--duration") o.duration = std::stod(next());
    else if (a == "--warmup") o.warmup = std::stod(next());
    else if (a == "--rate") o.rate = std::stod(next());
    else if (a == "--watch-pid") o.watch_pid = std::stoi(next());
    else if (a == "--ordered") o.ordered = true;
    else return false;
  }
  return !o.port.empty() && !o.requests_file.empty() && o.connections > 0 && o.threads > 0 && o.duration > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::cerr << "usage: loadgen --target HOST:PORT --requests FILE [--connections N] [--threads N] [--duration S]\n"
                 "               [--warmup S] [--rate R] [--ordered] [--watch-pid PID] [--out FILE]\n";
    return 1;
  }
  std::vector<Template> tmpls;
  std::vector<std::vector<size_t>> key_seqs;
  if (!LoadTemplates(o, tmpls, key_seqs)) return 1;
  o.threads = std::min(o.threads, o.connections);
  if (o.ordered && key_seqs.size() < static_cast<size_t>(o.connections)) {
    std::cerr << "loadgen: --ordered needs at least one key per connection (" << key_seqs.size() << " keys, "
              << o.connections << " connections)\n";
    return 1;
  }

  tcp::endpoint ep(asio::ip::make_address(o.host), static_cast<uint16_t>(std::stoi(o.port)));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    std::vector<Key> keys;
    for (size_t k = t; k < key_seqs.size(); k += o.threads) {
      Key key;
      for (size_t i : key_seqs[k]) key.steps.push_back(&tmpls[i]);
      keys.push_back(std::move(key));
    }
    int nconn = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, tmpls, std::move(keys), nconn, o.rate / o.threads));
    if (!workers.back()->ConnectAll(ep)) return 2;
  }

  const auto t0 = Clock::now() + std::chrono::milliseconds(20);
  Window win;
  win.start = t0 + Nanos(static_cast<int64_t>(o.warmup * 1e9));
  win.end = win.start + Nanos(static_cast<int64_t>(o.duration * 1e9));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, t0, win] { w->Run(t0, win); });

  std::this_thread::sleep_until(win.start);
  const bench::CpuSample cpu0 = bench::SampleCpu(o.watch_pid);
  std::this_thread::sleep_until(win.end);
  const bench::CpuSample cpu1 = bench::SampleCpu(o.watch_pid);
  for (auto& t : threads) t.join();

  Stats all;
  for (auto& w : workers) {
    Stats& s = w->stats();
    all.requests += s.requests;
    all.unexpected += s.unexpected;
    all.io_errors += s.io_errors;
    all.parse_errors += s.parse_errors;
    all.reconnects += s.reconnects;
    all.unfinished += s.unfinished;
    for (auto [k, v] : s.status) all.status[k] += v;
    all.latency_ns.insert(all.latency_ns.end(), s.latency_ns.begin(), s.latency_ns.end());
  }
  std::sort(all.latency_ns.begin(), all.latency_ns.end());
  auto pct = [&](double p) -> double {
    if (all.latency_ns.empty()) return 0;
    size_t i = std::min(all.latency_ns.size() - 1, static_cast<size_t>(p * static_cast<double>(all.latency_ns.size())));
    return static_cast<double>(all.latency_ns[i]) / 1e3;
  };

  json::object out;
  out["mode"] = o.rate > 0 ? "open" : "closed";
  if (o.rate > 0) out["rate_target"] = o.rate;
  out["connections"] = o.connections;
  out["threads"] = o.threads;
  out["duration_s"] = o.duration;
  out["requests"] = all.requests;
  out["rps"] = static_cast<double>(all.requests) / o.duration;
  json::object status;
  for (auto [k, v] : all.status) status[std::to_string(k)] = v;
  out["status"] = std::move(status);
  out["latency_us"] = {{"p50", pct(0.50)}, {"p90", pct(0.90)}, {"p99", pct(0.99)},
                       {"max", all.latency_ns.empty() ? 0.0 : static_cast<double>(all.latency_ns.back()) / 1e3}};
  out["errors"] = {{"unexpected_status", all.unexpected}, {"io", all.io_errors}, {"parse", all.parse_errors},
                   {"unfinished", all.unfinished}, {"reconnects", all.reconnects}};
  bench::PutCores(out, cpu0, cpu1, o.duration, o.watch_pid != 0);

  const std::string text = json::serialize(out);
  if (o.out_file.empty()) {
    std::cout << text << "\n";
  } else {
    std::ofstream(o.out_file) << text << "\n";
  }
  return 0;
}
