// A shared mapping of the mmapable eg_state array (config, counters, exec clock): the
// words the programs and the daemon both read and write without a syscall.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "gate/gate_types.h"
#include "gate/kernel_abi.h"

namespace execgate {

static_assert(sizeof(eg_state) % 8 == 0, "array entries are sizeof(eg_state) apart");

class StateMapping {
 public:
  StateMapping() = default;
  explicit StateMapping(int map_fd) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    len_ = (EG_STATE__COUNT * sizeof(eg_state) + page - 1) / page * page;
    void* p = ::mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
    if (p == MAP_FAILED) throw Error(ErrorKind::kernel, std::string("cannot map the state map: ") + std::strerror(errno));
    base_ = static_cast<eg_state*>(p);
  }
  StateMapping(StateMapping&& o) noexcept : base_(std::exchange(o.base_, nullptr)), len_(o.len_) {}
  StateMapping& operator=(StateMapping&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(len_, o.len_);
    return *this;
  }
  StateMapping(const StateMapping&) = delete;
  StateMapping& operator=(const StateMapping&) = delete;
  ~StateMapping() {
    if (base_) ::munmap(base_, len_);
  }
  // The programs add to it atomically; userspace reads and stores whole words.
  __u64* counter(std::size_t idx) const { return &base_[EG_STATE_COUNTERS].counters[idx]; }
  // Kernel-written (eg_clock_sync); userspace only reads it, or drops it.
  __u64* clock_base() const { return &base_[EG_STATE_CLOCK].clock.boot_base_ns; }

 private:
  eg_state* base_ = nullptr;
  std::size_t len_ = 0;
};

}  // namespace execgate
