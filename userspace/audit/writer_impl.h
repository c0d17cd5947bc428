// AuditLog::Impl: the writer's pieces and the locks around them (docs/audit.md "Writer,
// group commit and crash semantics"). writer.cpp holds the appends, commits and rotation;
// group_commit.cpp the thread that commits in the background.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "chain.h"
#include "disk_reserve.h"
#include "durability.h"
#include "execgate/audit.h"
#include "held_records.h"
#include "live_file.h"

namespace execgate {

struct AuditLog::Impl {
  using Clk = std::chrono::steady_clock;

  Impl(const AuditOptions& options, std::optional<SecretKey> key);

  const AuditOptions opt;

  // ---- guarded by mu ----
  mutable std::mutex mu;
  std::condition_variable wake;   // the group-commit thread
  bool rearm = false;             // a first pending record or checkpoint-due: recompute the deadline
  std::condition_variable space;  // back-pressured appenders, flush() waiters
  bool stop = false, closed = false;
  audit_detail::AuditChain chain;   // seq, prev, checkpoints
  audit_detail::HeldRecords held;   // appended, not yet on disk
  audit_detail::Durability state;   // failed, disk full, reserve whole, durable
  std::uint64_t file_bytes = 0;     // bytes of the live file, including held
  std::uint64_t file_first_seq = 1;
  Clk::time_point last_sync = Clk::now();
  std::uint64_t rotations = 0, fsyncs = 0, durable_seq = 0;

  // ---- guarded by io (taken while holding mu, then mu may be released) ----
  mutable std::mutex io;
  audit_detail::LiveFile file;

  // made and given up by open() and the group-commit thread only (its I/O with mu released)
  const audit_detail::DiskReserve reserve;
  std::thread flusher;

  // ---- writer.cpp: caller holds mu ----
  // A record into the held records (its line from the chain), counted toward the live file.
  std::uint64_t emit_locked(const nlohmann::json& rec);
  void checkpoint_locked(bool final_cp);
  // Before appending a record: rotate, or checkpoint when checkpoint_every is reached.
  void before_append_locked(std::unique_lock<std::mutex>& lk);
  // A record of the writer's own (gap) outside append(): checkpoint rule, then the record.
  void emit_own_locked(const nlohmann::json& rec);
  // The gap for records dropped while the disk was full, before the next record.
  void emit_dropped_gap_locked();
  void set_durable_locked(bool d, std::string why = {});
  // After a failed batch whose bytes were put back in front of the held records.
  void write_failed_locked(const audit_detail::BatchWrite& r);
  void sync_locked(std::unique_lock<std::mutex>& lk);
  bool sync_holding_locked();
  void rotate_locked();

  // ---- group_commit.cpp: the group-commit thread ----
  void start_flusher();
  void flusher_loop();
  void report_durability(std::unique_lock<std::mutex>& lk);
  void reserve_step(std::unique_lock<std::mutex>& lk, Clk::time_point now);
};

}  // namespace execgate
