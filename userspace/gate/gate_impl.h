// What a Gate holds (bpf_gate.cpp, bpf_programs.cpp, bpf_maps.cpp): the skeleton, the
// links, the ring buffer, the state mapping and the exec clock's bookkeeping. Private to
// the real gate's sources.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "execgate.skel.h"
#include "gate/gate.h"
#include "gate/kernel_abi.h"
#include "gate/state_mapping.h"

namespace execgate {

inline std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

// Throws Error(kernel) "WHAT: <errno text>" for a negative libbpf return code.
inline void check(int rc, const std::string& what) {
  if (rc < 0) throw Error(ErrorKind::kernel, what + ": " + errstr(rc));
}

// The build stamp's pin name for this BPF object and tick length (bpf_programs.cpp).
std::string build_stamp(std::uint64_t tick_nsec);

struct SkelDeleter {
  void operator()(execgate_bpf* s) const { execgate_bpf__destroy(s); }
};
struct RingDeleter {
  void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};

struct Gate::Impl {
  std::unique_ptr<execgate_bpf, SkelDeleter> skel;
  std::vector<UniqueFd> link_fds;
  UniqueFd clock_sync_fd;      // eg_clock_sync, run by the daemon (bpf_prog_test_run)
  bool programs_kept = false;  // found pinned and kept (keep_pinned) rather than loaded
  std::unique_ptr<ring_buffer, RingDeleter> ring;
  std::function<void(const GateEvent&)> const* cb = nullptr;
  std::string pin_dir;
  GateFaults faults;
  StateMapping state;

  std::atomic<std::uint32_t> clock_drift_ms{0};
  std::chrono::steady_clock::time_point last_check{};
  std::atomic<std::uint32_t> max_check_gap_ms{0};
  std::atomic<std::uint64_t> late_checks{0};

  // The kernel ABI this gate speaks and stamps its pins with.
  std::uint32_t abi_version() const { return EG_ABI_VERSION + (faults.abi_bump ? 1 : 0); }

  // Runs eg_clock_sync as the daemon (no action, val = EG_CLOCK_*): its return value, or
  // nullopt when the kernel cannot run it.
  std::optional<std::uint32_t> run_clock_sync(int val) {
    __u64 args[3] = {0, static_cast<__u64>(val), 0};  // (action, val, start)
    LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof args);
    if (bpf_prog_test_run_opts(clock_sync_fd.get(), &run) < 0) return std::nullopt;
    return run.retval;
  }

  // bpf_programs.cpp: leaves out the programs this kernel cannot take; keeps the pinned
  // programs of this very build (true) or loads, attaches and pins this build's.
  void select_programs();
  bool keep_pinned(const std::string& stamp);
  void load_and_pin(const std::string& stamp);

  static int on_event(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (!self->cb) return 0;
    if (auto ev = decode_gate_event(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data), size)))
      (*self->cb)(*ev);
    return 0;
  }
};

}  // namespace execgate
