#include "decision/native_decision.h"

#include <cstring>

#include "decision/native_decision_abi.h"
#include "gate/kernel_values.h"

namespace execgate {

namespace {
// The tables and clock of the decision running on this thread (decide() sets them): the
// C side's stand-ins for the kernel's maps call back here.
thread_local NativeDecision* current = nullptr;
thread_local std::uint64_t current_now = 0;

template <typename T>
std::vector<std::uint8_t> bytes_of(const T& v) {
  std::vector<std::uint8_t> b(sizeof(T));
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}
}  // namespace

void* native_lookup(int table, std::uint64_t dev, std::uint64_t ino) {
  if (!current) return nullptr;
  const NativeDecision::Key k{dev, ino};
  auto find = [&](auto& m) -> void* {
    auto it = m.find(k);
    return it == m.end() ? nullptr : static_cast<void*>(it->second.data());
  };
  switch (table) {
    case EG_NATIVE_TICKETS: return find(current->tickets_);
    case EG_NATIVE_BASELINE: return find(current->baseline_);
    case EG_NATIVE_OUTPUTS: return find(current->outputs_);
    case EG_NATIVE_LOADERS: {
      auto it = current->loaders_.find(k);
      return it == current->loaders_.end() ? nullptr : static_cast<void*>(&it->second);
    }
    default: return nullptr;
  }
}

bool native_fleet_silent() { return current && current->fleet_silent_; }
bool native_jobs_live() { return current && !current->live_jobs_.empty(); }
std::uint64_t native_current_job() {
  return current && current->live_jobs_.count(current->task_job_) ? current->task_job_ : 0;
}
void* native_job_lookup(const void* key) {
  if (!current) return nullptr;
  eg_job_ticket_key k;
  std::memcpy(&k, key, sizeof k);
  auto it = current->job_tickets_.find({k.dev, k.ino, k.job});
  return it == current->job_tickets_.end() ? nullptr : static_cast<void*>(it->second.data());
}

void NativeDecision::add_job_ticket(const NativeFile& file, std::uint64_t job, KernelTicket t) {
  t.ctime_sec = file.ctime_sec;
  t.ctime_nsec = file.ctime_nsec;
  t.generation = file.generation;
  job_tickets_[{file.dev, file.ino, job}] = bytes_of(to_kernel(t));
}

void NativeDecision::add_output(const NativeFile& file, const JobOutput& o) {
  eg_output v{};
  std::memcpy(v.builder_ticket, o.builder_ticket.data(), EG_ID_LEN);
  v.builder = eg_inode_key{o.builder.dev, o.builder.ino};
  v.job = o.job;
  v.generation = file.generation;
  v.writer = o.writer;
  outputs_[{file.dev, file.ino}] = bytes_of(v);
}

void NativeDecision::add_ticket(const NativeFile& file, KernelTicket t) {
  t.ctime_sec = file.ctime_sec;
  t.ctime_nsec = file.ctime_nsec;
  t.generation = file.generation;
  tickets_[{file.dev, file.ino}] = bytes_of(to_kernel(t));
}

void NativeDecision::remove_ticket(const NativeFile& file) { tickets_.erase({file.dev, file.ino}); }

void NativeDecision::pin_baseline(const NativeFile& file) {
  eg_baseline b{};
  b.ctime_sec = file.ctime_sec;
  b.ctime_nsec = file.ctime_nsec;
  baseline_[{file.dev, file.ino}] = bytes_of(b);
}

void NativeDecision::add_loader(const NativeFile& file) { loaders_[{file.dev, file.ino}] = true; }

std::optional<std::int64_t> NativeDecision::uses_left(const NativeFile& file) const {
  auto it = tickets_.find({file.dev, file.ino});
  if (it == tickets_.end()) return std::nullopt;
  eg_ticket e;
  std::memcpy(&e, it->second.data(), sizeof e);
  if (!(e.flags & EG_TF_LIMITED_USES)) return std::nullopt;
  return e.uses_left;
}

NativeVerdict NativeDecision::decide(const NativeFile& file, std::uint32_t uid,
                                     const std::optional<TicketId>& caller_image, bool consume, bool is_exec,
                                     std::uint64_t estimate_ns) {
  return run(file, uid, caller_image, consume, is_exec, estimate_ns, std::nullopt);
}

NativeVerdict NativeDecision::decide_mapping(const NativeFile& file, std::uint32_t uid, bool own_image,
                                             std::uint64_t estimate_ns) {
  return run(file, uid, std::nullopt, false, false, estimate_ns, own_image);
}

NativeVerdict NativeDecision::run(const NativeFile& file, std::uint32_t uid, const std::optional<TicketId>& caller_image,
                                  bool consume, bool is_exec, std::uint64_t estimate_ns, std::optional<bool> own_image) {
  eg_config cfg{};
  cfg.trust = root_owned_ ? EG_TRUST_ROOT_OWNED : EG_TRUST_NONE;
  eg_task_state caller{};
  if (caller_image) {
    caller.has_ticket = 1;
    std::memcpy(caller.ticket, caller_image->data(), EG_ID_LEN);
  }
  const eg_native_file f{file.dev,   file.ino,   file.ctime_sec, file.ctime_nsec,     file.generation,
                         file.owner, file.mode,  file.nlink,     file.kernel_mount ? __u8{1} : __u8{0},
                         file.name.c_str()};
  eg_native_verdict out{};
  current = this;
  current_now = now_;
  eg_native_decide(&cfg, &f, uid, &caller, consume, is_exec, estimate_ns, &out);
  current = nullptr;
  if (own_image) out.reason = eg_native_mapping_reason(&out, *own_image);
  NativeVerdict v;
  v.reason = out.reason;
  v.allowed = out.reason == EG_R_TICKET || out.reason == EG_R_BASELINE || out.reason == EG_R_JOB_OUTPUT;
  v.job = out.job;
  v.writer = out.writer;
  v.has_ticket = out.has_ticket;
  v.pinned = out.pinned;
  v.per_exec = out.per_exec;
  v.parent_bound = out.parent_bound;
  v.spent = out.spent;
  v.last_use = out.last_use;
  std::memcpy(v.ticket.data(), out.ticket, EG_ID_LEN);
  return v;
}

}  // namespace execgate

extern "C" void* eg_native_lookup(enum eg_native_table table, const void* key) {
  if (table == EG_NATIVE_JOB_TICKETS) return execgate::native_job_lookup(key);
  eg_inode_key k;
  std::memcpy(&k, key, sizeof k);
  return execgate::native_lookup(table, k.dev, k.ino);
}

extern "C" bool eg_native_jobs_live(void) { return execgate::native_jobs_live(); }

extern "C" __u64 eg_native_current_job(void) { return execgate::native_current_job(); }

extern "C" __u64 eg_native_boot_ns(void) { return execgate::current_now; }

extern "C" bool eg_native_fleet_silent(void) { return execgate::native_fleet_silent(); }
