// The daemon's work per kernel event, stage by stage (docs/cost.md "In the daemon"): the
// event thread decodes the ring-buffer record (decode_gate_event) and renders it as an
// audit record (EventRecorder::record); AuditLog::append then checks it and hands it to
// the group-commit thread, which writes the canonical JSON, chains its BLAKE2b hash and
// fsyncs every 10 ms. An allowed exec through a ticket, whose path the recorder knows.
// CPU per event, of the whole process for the append (both threads).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <span>

#include "bench_times.h"
#include "event_recorder.h"
#include "execgate/audit.h"
#include "execgate/keys.h"
#include "kernel_event.h"

namespace {
using execgate::EventRecorder;
using execgate::GateEvent;
using execgate::InodeKey;

eg_event allowed_exec() {
  eg_event e{};
  e.hook = EG_HOOK_EXEC;
  e.verdict = EG_VERDICT_ALLOW;
  e.reason = EG_R_TICKET;
  e.pid = 40000;
  e.ppid = 1234;
  e.uid = 1000;
  e.dev = (8u << 20) | 1;
  e.ino = 1837465;
  e.has_ticket = 1;
  std::memset(e.ticket, 0x3f, sizeof e.ticket);
  std::memcpy(e.comm, "make", 5);
  return e;
}

double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void BM_Decode(benchmark::State& state) {
  const eg_event e = allowed_exec();
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(&e), sizeof e);
  for (auto _ : state) benchmark::DoNotOptimize(execgate::decode_gate_event(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

void BM_Record(benchmark::State& state) {
  std::size_t n = 0;
  EventRecorder recorder([&n](nlohmann::json r) { n += r.size(); });
  recorder.add_ticket_path(InodeKey{(8u << 20) | 1, 1837465}, "/usr/bin/x86_64-linux-gnu-gcc-12");
  const GateEvent ev = execgate::test::decoded(allowed_exec());
  for (auto _ : state) recorder.record(ev);
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Record);

// record() into the signed audit log: the whole event path but the ring buffer. The
// process's CPU (both threads) per event is the counter cpu_ns/event.
void BM_RecordAndAppend(benchmark::State& state) {
  std::string dir = (std::filesystem::temp_directory_path() / "execgate-event-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  execgate::save_keypair(execgate::generate_keypair(), dir + "/audit");
  execgate::AuditOptions opt;
  opt.path = dir + "/audit.jsonl";
  opt.signing_key_path = dir + "/audit.key";
  opt.try_append_only = false;  // so the temp dir can be removed
  {
    auto log = execgate::AuditLog::open(opt);
    EventRecorder recorder([&log](nlohmann::json r) { log->append(std::move(r)); });
    recorder.add_ticket_path(InodeKey{(8u << 20) | 1, 1837465}, "/usr/bin/x86_64-linux-gnu-gcc-12");
    const GateEvent ev = execgate::test::decoded(allowed_exec());
    const double c0 = process_cpu_ns();
    for (auto _ : state) recorder.record(ev);
    log->close();  // everything written and fsynced
    state.counters["cpu_ns/event"] = (process_cpu_ns() - c0) / static_cast<double>(state.iterations());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordAndAppend)->MinTime(1.0);
}  // namespace

int main(int argc, char** argv) {
  execgate::bench::TimesReporter reporter;
  if (!execgate::bench::run_benchmarks(argc, argv, reporter)) return 1;
  const double decode = reporter.ns("BM_Decode"), record = reporter.ns("BM_Record");
  const double all = reporter.ns("BM_RecordAndAppend/min_time:1.000");
  if (decode > 0 && record > 0 && all > 0)
    std::printf(
        "per allowed exec event (host CPU, the main thread; the append's writer thread in cpu_ns/event above): "
        "decode %.0f ns, audit record %.0f ns, record + append %.0f ns (decode+record = %.0f%% of it)\n",
        decode, record, all, 100.0 * (decode + record) / all);
  return 0;
}
