// grpc_load: the gRPC load generator of `make bench` (figure grpc_get,
// docs/performance.md).
//
//   grpc_load --target HOST:PORT --setup FILE [--channels 8] [--outstanding 4] [--threads 1]
//             [--duration 5] [--warmup 1] [--watch-pid PID] [--out FILE]
//   grpc_load --target HOST:PORT --setup FILE --save-response FILE
//
// FILE (--setup) is bench/setup.mjs's grpc.json: {"token": "...", "conversationIds": [...]}.
//
// Load: --channels separate HTTP/2 connections (each channel has its own
// subchannel pool and a distinct channel argument, so gRPC does not share one
// connection between them), each keeping --outstanding unary
// verbatim.v1.Recordings/Get calls in flight through the async CompletionQueue
// API (closed loop: a completed call's slot sends the next one at once). Calls
// carry `authorization: Bearer <token>` and rotate over the conversation ids.
// Only calls completing in the window [warmup, warmup + duration) are counted;
// any non-OK status, at any time, is an error (the figure then fails). Each call
// has a 5 s deadline, so a stalled server ends the run with DEADLINE_EXCEEDED
// errors instead of a hang. Output: one JSON object (calls, errors, seconds,
// calls_per_s, the status codes seen, the answer's serialized size, and with
// --watch-pid the server's, our own and other processes' CPU in the window, as
// bench/loadgen.cc reports them).
//
// --save-response: one Get, whose answer's serialized bytes are written to FILE
// (the canned answer of bench/grpc_bare_server.cc), then exit.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proc_cpu.h"
#include "verbatim/v1/verbatim.grpc.pb.h"

namespace json = boost::json;
namespace v1 = verbatim::v1;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kCallDeadline = std::chrono::seconds(5);

struct Options {
  std::string target, setup_file, out_file, save_response;
  int channels = 8, outstanding = 4, threads = 1, watch_pid = 0;
  double duration = 5, warmup = 1;
};

struct Setup {
  std::string authorization;  // "Bearer <token>"
  std::vector<std::string> conversation_ids;
};

struct Window {
  Clock::time_point start, end;
};

// One call in flight: its context and answer live until the completion queue returns it.
struct Slot {
  std::unique_ptr<::grpc::ClientContext> ctx;
  v1::GetRecordingRequest request;
  v1::Recording reply;
  ::grpc::Status status;
  std::unique_ptr<::grpc::ClientAsyncResponseReader<v1::Recording>> rpc;
  v1::Recordings::Stub* stub = nullptr;
  size_t next_id = 0;
};

struct Counts {
  uint64_t calls = 0;   // OK, completed in the window
  uint64_t errors = 0;  // non-OK (or a failed completion), whenever
  std::map<int, uint64_t> status;  // code -> count, all calls
  std::string first_error;
  size_t response_bytes = 0;  // serialized size of one OK answer
};

// One thread: its channels, its completion queue, its slots.
class Worker {
 public:
  Worker(const Options& o, const Setup& s, std::vector<std::shared_ptr<::grpc::Channel>> channels)
      : setup_(s), channels_(std::move(channels)) {
    for (auto& ch : channels_) stubs_.push_back(v1::Recordings::NewStub(ch));
    size_t i = 0;
    for (auto& stub : stubs_)
      for (int k = 0; k < o.outstanding; ++k) {
        auto slot = std::make_unique<Slot>();
        slot->stub = stub.get();
        slot->next_id = i++;  // spread the ids over the slots
        slots_.push_back(std::move(slot));
      }
  }

  void Run(Window win) {
    for (auto& slot : slots_) Send(slot.get());
    size_t in_flight = slots_.size();
    void* tag = nullptr;
    bool ok = false;
    while (in_flight > 0 && cq_.Next(&tag, &ok)) {
      auto* slot = static_cast<Slot*>(tag);
      const auto now = Clock::now();
      const int code = ok ? static_cast<int>(slot->status.error_code()) : -1;
      ++counts_.status[code];
      if (ok && slot->status.ok()) {
        if (now >= win.start && now < win.end) ++counts_.calls;
        if (counts_.response_bytes == 0) counts_.response_bytes = slot->reply.ByteSizeLong();
      } else {
        ++counts_.errors;
        if (counts_.first_error.empty())
          counts_.first_error = ok ? std::to_string(code) + " " + slot->status.error_message() : "completion failed";
      }
      if (now < win.end) Send(slot);
      else --in_flight;
    }
    cq_.Shutdown();
    while (cq_.Next(&tag, &ok)) {
    }
  }

  const Counts& counts() const { return counts_; }

 private:
  void Send(Slot* slot) {
    slot->ctx = std::make_unique<::grpc::ClientContext>();
    slot->ctx->AddMetadata("authorization", setup_.authorization);
    slot->ctx->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    slot->request.set_conversation_id(setup_.conversation_ids[slot->next_id++ % setup_.conversation_ids.size()]);
    slot->reply.Clear();
    slot->rpc = slot->stub->PrepareAsyncGet(slot->ctx.get(), slot->request, &cq_);
    slot->rpc->StartCall();
    slot->rpc->Finish(&slot->reply, &slot->status, slot);
  }

  const Setup& setup_;
  std::vector<std::shared_ptr<::grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::Recordings::Stub>> stubs_;
  std::vector<std::unique_ptr<Slot>> slots_;
  ::grpc::CompletionQueue cq_;
  Counts counts_;
};

std::shared_ptr<::grpc::Channel> NewChannel(const std::string& target, int id) {
  ::grpc::ChannelArguments args;
  // Its own connection: no subchannel shared with the other channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("verbatim.bench.channel_id", id);
  return ::grpc::CreateCustomChannel(target, ::grpc::InsecureChannelCredentials(), args);
}

bool LoadSetup(const std::string& path, Setup& s) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const auto* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  const auto* token = o ? o->if_contains("token") : nullptr;
  const auto* ids = o ? o->if_contains("conversationIds") : nullptr;
  if (!token || !token->is_string() || !ids || !ids->is_array() || ids->as_array().empty()) {
    std::cerr << "grpc_load: " << path << " is not {\"token\": \"...\", \"conversationIds\": [...]}\n";
    return false;
  }
  s.authorization = "Bearer " + std::string(token->as_string());
  for (const auto& id : ids->as_array())
    if (id.is_string()) s.conversation_ids.emplace_back(id.as_string());
  return !s.conversation_ids.empty();
}

int SaveResponse(const Options& o, const Setup& s) {
  auto stub = v1::Recordings::NewStub(NewChannel(o.target, 0));
  ::grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", s.authorization);
  ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::GetRecordingRequest req;
  req.set_conversation_id(s.conversation_ids.front());
  v1::Recording reply;
  ::grpc::Status st = stub->Get(&ctx, req, &reply);
  if (!st.ok()) {
    std::cerr << "grpc_load: Get " << req.conversation_id() << " on " << o.target << ": " << st.error_code() << " "
              << st.error_message() << "\n";
    return 1;
  }
  std::ofstream(o.save_response, std::ios::binary) << reply.SerializeAsString();
  std::cerr << "grpc_load: saved a " << reply.ByteSizeLong() << "-byte Recording to " << o.save_response << "\n";
  return 0;
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target") o.target = next();
    else if (a == "--setup") o.setup_file = next();
    else if (a == "--out") o.out_file = next();
    else if (a == "--save-response") o.save_response = next();
    else if (a == "--channels") o.channels = std::stoi(next());
    else if (a == "--outstanding") o.outstanding = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--duration") o.duration = std::stod(next());
    else if (a == "--warmup") o.warmup = std::stod(next());
    else if (a == "--watch-pid") o.watch_pid = std::stoi(next());
    else return false;
  }
  return !o.target.empty() && !o.setup_file.empty() && o.channels > 0 && o.outstanding > 0 && o.threads > 0 &&
         o.duration > 0 && o.warmup >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::cerr << "usage: grpc_load --target HOST:PORT --setup FILE [--channels N] [--outstanding M] [--threads T]\n"
                 "                 [--duration S] [--warmup S] [--watch-pid PID] [--out FILE]\n"
                 "       grpc_load --target HOST:PORT --setup FILE --save-response FILE\n";
    return 1;
  }
  Setup setup;
  if (!LoadSetup(o.setup_file, setup)) return 1;
  if (!o.save_response.empty()) return SaveResponse(o, setup);

  // Connect every channel before the clock starts.
  o.threads = std::min(o.threads, o.channels);
  std::vector<std::vector<std::shared_ptr<::grpc::Channel>>> per_thread(o.threads);
  for (int c = 0; c < o.channels; ++c) {
    auto ch = NewChannel(o.target, c);
    if (!ch->WaitForConnected(std::chrono::system_clock::now() + kCallDeadline)) {
      std::cerr << "grpc_load: cannot connect to " << o.target << "\n";
      return 2;
    }
    per_thread[c % o.threads].push_back(std::move(ch));
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (auto& chans : per_thread) workers.push_back(std::make_unique<Worker>(o, setup, std::move(chans)));

  Window win;
  win.start = Clock::now() + std::chrono::nanoseconds(static_cast<int64_t>(o.warmup * 1e9));
  win.end = win.start + std::chrono::nanoseconds(static_cast<int64_t>(o.duration * 1e9));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, win] { w->Run(win); });

  std::this_thread::sleep_until(win.start);
  const bench::CpuSample cpu0 = bench::SampleCpu(o.watch_pid);
  std::this_thread::sleep_until(win.end);
  const bench::CpuSample cpu1 = bench::SampleCpu(o.watch_pid);
  for (auto& t : threads) t.join();

  Counts all;
  for (auto& w : workers) {
    const Counts& c = w->counts();
    all.calls += c.calls;
    all.errors += c.errors;
    for (auto [k, v] : c.status) all.status[k] += v;
    if (all.first_error.empty()) all.first_error = c.first_error;
    all.response_bytes = std::max(all.response_bytes, c.response_bytes);
  }
  if (!all.first_error.empty()) std::cerr << "grpc_load: first error: " << all.first_error << "\n";

  json::object out;
  out["calls"] = all.calls;
  out["errors"] = all.errors;
  out["seconds"] = o.duration;
  out["calls_per_s"] = static_cast<double>(all.calls) / o.duration;
  out["channels"] = o.channels;
  out["outstanding"] = o.outstanding;
  out["threads"] = o.threads;
  out["response_bytes"] = all.response_bytes;
  json::object status;  // gRPC status code (-1: the completion itself failed) -> calls
  for (auto [k, v] : all.status) status[std::to_string(k)] = v;
  out["status"] = std::move(status);
  bench::PutCores(out, cpu0, cpu1, o.duration, o.watch_pid != 0);
  const std::string text = json::serialize(out);
  if (o.out_file.empty()) std::cout << text << "\n";
  else std::ofstream(o.out_file) << text << "\n";
  return 0;  // errors are in the JSON; bench/report.mjs fails the figure on them
}
