// The hash chain of the audit log (docs/audit.md "Record format", "Checkpoints"): each
// record gets its seq, time and prev, is hashed and appended to the commit buffer as its
// stored line; checkpoints sign the chain head. An existing log is continued from its last
// checkpoint, the records after it verified first. Not thread-safe: the writer guards it
// with its append mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "execgate/audit.h"
#include "execgate/keys.h"

namespace execgate::audit_detail {

class AuditChain {
 public:
  using Clock = std::chrono::steady_clock;

  // key: the signing key (nullopt: no checkpoints, a chain only); every: checkpoint_every.
  AuditChain(std::optional<SecretKey> key, std::uint64_t every);

  // Appends the stored line of `rec` (seq, time and prev set; hash last; '\n') to out and
  // counts it toward the next checkpoint. Returns its seq.
  std::uint64_t append(std::string& out, const nlohmann::json& rec);
  // Appends a checkpoint signing the chain head (`final` at close). Needs a key.
  void checkpoint(std::string& out, bool final_cp);
  // checkpoint_every records since the last checkpoint: one goes before the next record.
  bool checkpoint_due() const { return key_ && since_cp_ >= every_; }
  // Records a checkpoint would sign (never without a key).
  bool has_unsigned() const { return key_ && since_cp_ > 0; }
  std::uint64_t since_checkpoint() const { return since_cp_; }
  Clock::time_point last_checkpoint_time() const { return last_cp_time_; }
  // The time-based checkpoint counts from `t` (open()).
  void set_last_checkpoint_time(Clock::time_point t) { last_cp_time_ = t; }

  // Continues the chain after `lines` (the stored lines of `path`, without '\n'), starting
  // at the last checkpoint (its signature covers everything before it): each record's
  // hash, seq and prev continuity, and that checkpoint's signature when it was made with
  // this key. Throws Error(verification) when they do not chain.
  void resume(const std::vector<std::string_view>& lines, const std::string& path);

  std::uint64_t last_seq() const { return next_seq_ - 1; }  // 0 = the log is empty
  std::uint64_t next_seq() const { return next_seq_; }
  const std::string& head() const { return prev_; }  // hash of last_seq (genesis prev when empty)
  const std::string& key_id() const { return key_id_; }  // empty = not signing
  std::uint64_t records_written() const { return records_written_; }  // by this writer, checkpoints included
  std::uint64_t checkpoints() const { return checkpoints_; }

  // The newest checkpoints, oldest first: the last one resume() found and those written
  // since, at most kRecentCheckpoints. Each is its seq and stored line (without '\n'), which
  // the writer's status() gives once it is on disk (the fleet publishes it).
  struct CheckpointLine {
    std::uint64_t seq = 0;
    std::string line;
  };
  static constexpr std::size_t kRecentCheckpoints = 8;
  const std::deque<CheckpointLine>& recent_checkpoints() const { return recent_cps_; }

 private:
  std::uint64_t emit(std::string& out, const nlohmann::json& rec);
  std::string_view now_rfc3339();

  std::optional<SecretKey> key_;
  std::string key_id_;
  std::uint64_t every_;
  std::uint64_t next_seq_ = 1;
  std::string prev_{kAuditGenesisPrev};
  std::uint64_t since_cp_ = 0;  // records after the last checkpoint
  Clock::time_point last_cp_time_ = Clock::now();
  std::uint64_t records_written_ = 0, checkpoints_ = 0;
  std::deque<CheckpointLine> recent_cps_;
  // time stamp cache
  std::int64_t cached_sec_ = -1;
  std::string cached_prefix_;  // "YYYY-MM-DDTHH:MM:SS."
  char time_buf_[40] = {};
};

}  // namespace execgate::audit_detail
