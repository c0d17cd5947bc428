// The audit log's group-commit thread (docs/audit.md "Writer, group commit and crash
// semantics", "When the disk is full"): commits the held records every fsync_interval or
// at fsync_max_records, writes time-based checkpoints, retries writes every
// retry_interval while the disk is full, gives up and remakes the reserve, and tells
// on_durability what changed.
#include <pthread.h>

#include <algorithm>
#include <optional>
#include <string>

#include "writer_impl.h"

namespace execgate {

using Clk = AuditLog::Impl::Clk;

void AuditLog::Impl::start_flusher() {
  flusher = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "eg-audit");  // ps -L, top -H
    flusher_loop();
  });
}

// Tells on_durability what `durable` is now, mu released around the call. Flusher only.
void AuditLog::Impl::report_durability(std::unique_lock<std::mutex>& lk) {
  while (state.reported_durable != state.durable) {
    const bool d = state.durable;
    state.reported_durable = d;
    if (!opt.on_durability) continue;
    lk.unlock();
    try {
      opt.on_durability(d);
    } catch (...) {
    }
    lk.lock();
  }
}

// The disk-full steps the flusher takes with mu released: give up the reserve at the
// first ENOSPC, make it whole again once writes work. Returns with mu held.
void AuditLog::Impl::reserve_step(std::unique_lock<std::mutex>& lk, Clk::time_point now) {
  if (!reserve.enabled() || state.failed()) return;
  if (state.full && state.reserve_whole) {
    // Execs are already denied (durable is false, reported above); the reserve's space
    // lets the held records and the record of the full disk reach the log.
    state.reserve_whole = false;
    lk.unlock();
    reserve.release();
    lk.lock();
    emit_own_locked(audit_detail::disk_full_gap(state.full_error, reserve.path()));
    state.retry_at = now;  // write at once
    return;
  }
  if (!state.full && !state.reserve_whole && held.records() == 0 && !held.writing() && now >= state.retry_at) {
    lk.unlock();
    const std::optional<std::string> why = reserve.make();
    lk.lock();
    state.reserve_whole = !why;
    if (why) {
      state.retry_at = Clk::now() + opt.retry_interval;
      if (state.durable) set_durable_locked(false, *why);
      else state.stall_detail = *why;
    }
  }
}

void AuditLog::Impl::flusher_loop() {
  std::unique_lock<std::mutex> lk(mu);
  while (!stop) {
    report_durability(lk);
    if (stop) break;
    auto deadline = Clk::now() + std::chrono::hours(1);
    // a batch of another thread (flush()) in flight: its end sets rearm
    if (held.records() > 0 && !held.writing())
      deadline = std::min(deadline, state.full ? state.retry_at : last_sync + opt.fsync_interval);
    if (!state.durable && !state.failed() && !held.writing()) deadline = std::min(deadline, state.retry_at);
    if (chain.has_unsigned()) deadline = std::min(deadline, chain.last_checkpoint_time() + opt.checkpoint_interval);
    wake.wait_until(lk, deadline, [&] {
      return stop || rearm || (!state.full && !held.writing() && held.records() >= opt.fsync_max_records) ||
             state.reported_durable != state.durable;
    });
    if (stop) break;
    if (state.reported_durable != state.durable) continue;
    if (rearm && (state.full || held.records() < opt.fsync_max_records) && Clk::now() < deadline) {
      rearm = false;
      continue;  // new work arrived while idle: sleep until its own deadline
    }
    rearm = false;
    auto now = Clk::now();
    try {
      if (chain.has_unsigned() && now >= chain.last_checkpoint_time() + opt.checkpoint_interval && !state.failed())
        checkpoint_locked(false);
    } catch (const std::exception& e) {
      state.fail(e.what());
      set_durable_locked(false, "failed: " + state.error);
    }
    if (state.full) {
      report_durability(lk);  // the kernel stalls execs before anything else is tried
      reserve_step(lk, now);
      if (Clk::now() >= state.retry_at) {
        if (held.records() > 0)
          sync_locked(lk);
        else
          state.full = false;  // only an fsync failed, with nothing to write again
      }
    } else if (held.records() > 0 &&
               (held.records() >= opt.fsync_max_records || now >= last_sync + opt.fsync_interval)) {
      sync_locked(lk);
    }
    if (!state.full && !state.failed() && held.dropped() > 0) {
      emit_dropped_gap_locked();
      sync_locked(lk);
    }
    if (!state.full && !state.durable) {
      now = Clk::now();
      reserve_step(lk, now);
      if (state.can_be_durable(reserve.enabled()) && held.records() == 0) set_durable_locked(true);
    }
  }
  report_durability(lk);
}

}  // namespace execgate
