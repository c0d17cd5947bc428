// Google Benchmark's console output, plus the CPU time of every run kept by name, for the
// ratios a bench prints at the end (CPU time: robust to a busy machine).
#pragma once

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <map>
#include <string>
#include <vector>

namespace execgate::bench {

class TimesReporter : public benchmark::ConsoleReporter {
 public:
  TimesReporter() : benchmark::ConsoleReporter(OO_Tabular) {}  // no colour codes: the output lands in logs
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration && r.iterations > 0 && !r.error_occurred) {
        const auto items = r.counters.find("items_per_second");
        ns_[r.benchmark_name()] =
            items != r.counters.end() && items->second.value > 0 ? 1e9 / items->second.value : r.GetAdjustedCPUTime();
      }
    ConsoleReporter::ReportRuns(runs);
  }
  // CPU ns per item (per iteration when the run counts no items) of the run NAME ("BM_X",
  // "BM_X/10"); 0 when it did not run.
  double ns(const std::string& name) const {
    const auto it = ns_.find(name);
    return it == ns_.end() ? 0 : it->second;
  }
  // ns(a) / ns(b); 0 when either did not run.
  double ratio(const std::string& a, const std::string& b) const { return ns(a) > 0 && ns(b) > 0 ? ns(a) / ns(b) : 0; }

 private:
  std::map<std::string, double> ns_;
};

// Initializes libsodium and Google Benchmark and runs this binary's benchmarks into
// REPORTER; false when either cannot start or an argument is not understood.
inline bool run_benchmarks(int argc, char** argv, TimesReporter& reporter) {
  if (sodium_init() < 0) return false;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return false;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return true;
}

}  // namespace execgate::bench
