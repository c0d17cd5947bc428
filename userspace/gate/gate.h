// The kernel gate: loads, attaches and pins the BPF-LSM programs and maps, and gives
// typed access to the maps. One Gate per daemon; every fd, link and ring buffer it
// holds is released by its destructor. Pinned links keep enforcing after the daemon dies.
// The daemon reaches it through GateOps (gate_ops.h), which speaks C++ values
// (gate_types.h): the kernel's layouts (bpf/execgate.h) reach it through kernel_values.h.
// Construction (install, uninstall, pinned) is the real gate's alone.
#pragma once

#include "execgate/defaults.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gate/gate_faults.h"
#include "gate/gate_ops.h"
#include "gate/gate_types.h"
#include "gate/kernel_facts.h"

namespace execgate {

struct GateOptions {
  std::string pin_dir = kDefaultPinDir;
  std::uint32_t ringbuf_bytes = 4u << 20;
  // The running kernel's TICK_NSEC (tick_nsec(running_kernel_hz())): the exec path then
  // judges ticket validity on jiffies and reads the clock only near a bound. 0: it reads
  // the clock on every check (docs/gate.md, "Exec clock").
  std::uint64_t tick_nsec = 0;
  // Failures to fake in the load path (the upgrade suite's fault binary alone).
  GateFaults faults;
};

// Reads /sys/kernel/security/lsm; throws GateUnavailable unless "bpf" is listed.
void require_bpf_lsm(const std::string& lsm_file = "/sys/kernel/security/lsm");

class Gate final : public GateOps {
 public:
  // Loads the programs, reusing maps already pinned under pin_dir, attaches every hook
  // and pins the links (replacing older pinned links without a gap).
  static std::unique_ptr<Gate> install(const GateOptions& opts);
  // Removes every pin under pin_dir: the gate stops enforcing once no fd holds it.
  static void uninstall(const std::string& pin_dir = kDefaultPinDir);
  // True when pins from an earlier daemon exist.
  static bool pinned(const std::string& pin_dir = kDefaultPinDir);

  ~Gate() override;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  void set_config(const GateConfig& cfg) override;
  void set_audit_stalled(bool stalled) override;
  void set_fleet_silent(bool silent) override;
  GateConfig config() const override;
  void set_loaders(const std::vector<InodeKey>& keys) override;
  void set_protected(const std::map<InodeKey, std::uint8_t>& entries) override;
  void set_reserved_names(const std::set<std::pair<InodeKey, std::string>>& names) override;

  void put_baseline(const InodeKey& key, const BaselineFile& value) override;
  void set_baseline_dirs(const std::set<InodeKey>& dirs) override;
  std::optional<std::uint32_t> scope_written(const InodeKey& key) const override;
  void prune_baseline(const std::vector<InodeKey>& keep) override;

  void put_ticket(const InodeKey& key, const KernelTicket& value) override;
  bool delete_ticket(const InodeKey& key) override;
  std::optional<KernelTicket> get_ticket(const InodeKey& key) const override;
  std::vector<std::pair<InodeKey, KernelTicket>> tickets() const override;
  void put_job_ticket(const InodeKey& key, std::uint64_t job, const KernelTicket& value) override;
  bool delete_job_ticket(const InodeKey& key, std::uint64_t job) override;
  std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> job_tickets() const override;
  void add_job(std::uint64_t cgroup_id) override;
  void remove_job(std::uint64_t cgroup_id) override;
  std::vector<std::uint64_t> jobs() const override;
  std::vector<JobOutput> job_outputs() const override;

  GateCounters counters() const override;
  std::size_t attached_programs() const override;
  // True when install() found this build's programs pinned and attached and kept them
  // (a restart of the same build: nothing verified, no hook changed); false when it loaded.
  bool programs_kept() const override;
  ExecClock exec_clock() const override;
  // Takes the exec clock's first base (install() leaves it off: execs read the clock).
  // Call it when check_exec_clock() starts running every 100 ms: a wrong tick length
  // makes the estimate's error grow from this moment.
  void start_exec_clock() override;
  // Compares the exec clock's estimate with the clock; when it is off by more than
  // EG_CLOCK_DRIFT_NS the kernel drops the base (execs read the clock) and this returns
  // the error in ms. Meant to run every 100 ms.
  std::optional<std::uint32_t> check_exec_clock() override;

  // Drains available events into cb; waits up to timeout_ms for a wakeup first.
  // Returns the number consumed. Events submitted without a wakeup are still drained.
  int poll_events(int timeout_ms, const std::function<void(const GateEvent&)>& cb) override;

 private:
  struct Impl;
  explicit Gate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace execgate
