// Gate: installs the BPF-LSM gate (the skeleton opened, its programs kept or loaded and
// pinned: bpf_programs.cpp), runs the exec clock, and reads the event ring buffer. The
// maps' operations are in bpf_maps.cpp, the pin directory's in bpf_pins.cpp.
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gate/bpf_pins.h"
#include "gate/gate_impl.h"

namespace execgate {
namespace fs = std::filesystem;

void require_bpf_lsm(const std::string& lsm_file) {
  std::ifstream in(lsm_file);
  if (!in)
    throw GateUnavailable("cannot read " + lsm_file +
                          ": securityfs is not mounted or the kernel has no LSM support; execgate needs BPF-LSM "
                          "(CONFIG_BPF_LSM=y with \"bpf\" in the lsm= boot parameter)");
  std::string list;
  std::getline(in, list);
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (item == "bpf") return;
  throw GateUnavailable("BPF-LSM is not active (active LSMs: " + list +
                        "). Add bpf to the kernel command line, e.g. lsm=" + list +
                        ",bpf, and reboot; execgated never runs without enforcement. "
                        "To try the gate on this machine anyway: scripts/vm-run.sh");
}

Gate::Gate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gate::~Gate() = default;

std::unique_ptr<Gate> Gate::install(const GateOptions& opts) {
  require_bpf_lsm();
  std::error_code ec;
  fs::create_directories(opts.pin_dir, ec);
  if (ec)
    throw GateUnavailable("cannot create " + opts.pin_dir + ": " + ec.message() +
                          " (is bpffs mounted? mount -t bpf bpf /sys/fs/bpf)");

  auto impl = std::make_unique<Impl>();
  impl->pin_dir = opts.pin_dir;
  impl->faults = opts.faults;
  pins::require_same_abi(opts.pin_dir, impl->abi_version());
  LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = opts.pin_dir.c_str());
  // Diagnostics: EXECGATE_VERIFIER_STATS=1 prints the verifier's statistics per program
  // (instructions processed, states, time) on stderr.
  if (const char* v = std::getenv("EXECGATE_VERIFIER_STATS"); v && *v == '1') {
    oo.kernel_log_level = 4;
    libbpf_set_print([](enum libbpf_print_level, const char* fmt, va_list ap) {
      if (std::strstr(fmt, "PROG LOAD LOG")) return std::vfprintf(stderr, fmt, ap);
      return 0;
    });
  }
  impl->skel.reset(execgate_bpf__open_opts(&oo));
  if (!impl->skel) throw GateUnavailable("cannot open the BPF object: " + errstr(errno));
  if (!pinned(opts.pin_dir)) check(bpf_map__set_max_entries(impl->skel->maps.eg_events, opts.ringbuf_bytes), "ring buffer size");
  impl->skel->rodata->eg_tick_nsec = opts.tick_nsec;
  impl->select_programs();
  const std::string stamp = build_stamp(opts.tick_nsec);
  pins::unlink_with_prefix(opts.pin_dir, pins::kTemp);
  if (!impl->keep_pinned(stamp)) impl->load_and_pin(stamp);

  impl->state = StateMapping(bpf_map__fd(impl->skel->maps.eg_state));
  // A base left by an earlier daemon may have been taken with another tick length: the
  // programs must not use it (until start_exec_clock(), execs read the clock).
  __atomic_store_n(impl->state.clock_base(), 0, __ATOMIC_RELAXED);
  return std::unique_ptr<Gate>(new Gate(std::move(impl)));
}

// The exec clock's first base, taken by eg_clock_sync itself (its tracepoint keeps it
// current from then on). Without a tick length, or when the kernel cannot run the
// program, the base stays 0 and execs read the clock.
void Gate::start_exec_clock() {
  if (impl_->skel->rodata->eg_tick_nsec && !impl_->run_clock_sync(EG_CLOCK_TAKE))
    __atomic_store_n(impl_->state.clock_base(), 0, __ATOMIC_RELAXED);
}

std::optional<std::uint32_t> Gate::check_exec_clock() {
  const auto now = std::chrono::steady_clock::now();
  if (impl_->last_check != std::chrono::steady_clock::time_point{}) {
    const auto gap = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - impl_->last_check).count());
    if (gap > impl_->max_check_gap_ms) impl_->max_check_gap_ms = gap;
    if (gap > kLateClockCheckMs) ++impl_->late_checks;
  }
  impl_->last_check = now;
  auto err_ms = impl_->run_clock_sync(EG_CLOCK_CHECK);
  if (!err_ms || *err_ms == 0) return std::nullopt;
  impl_->clock_drift_ms = *err_ms;
  return err_ms;
}

bool Gate::programs_kept() const { return impl_->programs_kept; }
std::size_t Gate::attached_programs() const { return impl_->link_fds.size(); }

ExecClock Gate::exec_clock() const {
  return ExecClock{impl_->skel->rodata->eg_tick_nsec, __atomic_load_n(impl_->state.clock_base(), __ATOMIC_RELAXED) != 0,
                   impl_->clock_drift_ms.load(), impl_->max_check_gap_ms.load(), impl_->late_checks.load()};
}

int Gate::poll_events(int timeout_ms, const std::function<void(const GateEvent&)>& cb) {
  if (!impl_->ring) {
    impl_->ring.reset(ring_buffer__new(bpf_map__fd(impl_->skel->maps.eg_events), &Impl::on_event, impl_.get(), nullptr));
    if (!impl_->ring) throw Error(ErrorKind::kernel, "cannot open the event ring buffer: " + errstr(errno));
  }
  impl_->cb = &cb;
  int n = ring_buffer__poll(impl_->ring.get(), timeout_ms);
  if (n >= 0) {
    // Events are submitted without a wakeup in batches: drain whatever is there.
    int m = ring_buffer__consume(impl_->ring.get());
    if (m > 0) n += m;
    // Caught up: the kernel counts unwoken events from here, so a reader that keeps pace
    // on its timer is never woken per batch (each wakeup costs the exec that forces it).
    // A racing increment lost here only defers those events to the next timer drain.
    if (n > 0) __atomic_store_n(impl_->state.counter(EG_C_UNWOKEN), 0, __ATOMIC_RELAXED);
  }
  impl_->cb = nullptr;
  if (n == -EINTR) return 0;
  if (n < 0) throw Error(ErrorKind::kernel, "ring buffer poll failed: " + errstr(n));
  return n;
}

}  // namespace execgate
