// Tamper-evident audit log (docs/audit.md): JSON Lines, a BLAKE2b-256 hash chain over
// canonical record bytes, periodic Ed25519-signed checkpoints, group commit, size-based
// rotation, and an offline verifier.
#pragma once

#include "execgate/defaults.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "execgate/keys.h"
#include "execgate/names.h"

namespace execgate {

// prev of the first record of a new log: 64 zeros.
inline constexpr std::string_view kAuditGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";
// Domain separation prefix of the checkpoint signature (29 bytes, includes the NUL).
inline constexpr std::string_view kAuditCheckpointDomain{"execgate-audit-checkpoint-v1\0", 29};

// The event names of the contract (EventKind, execgate/names.h).
bool is_audit_event(std::string_view event) noexcept;

struct AuditOptions {
  std::string path;              // live file, e.g. /var/log/execgate/audit.jsonl
  std::string signing_key_path;  // Ed25519 NAME.key; empty = no checkpoints (chain only)
  std::uint64_t checkpoint_every = 1000;  // records between checkpoints (>= 1)
  std::chrono::milliseconds checkpoint_interval{5000};  // and at least this often
  std::chrono::milliseconds fsync_interval{10};          // group commit window
  std::size_t fsync_max_records = 1000;                  // or this many pending records
  std::uint64_t rotate_bytes = 64ull << 20;              // rotate when the file exceeds this
  bool try_append_only = true;  // set FS_APPEND_FL (needs CAP_LINUX_IMMUTABLE)

  // When the disk is full (docs/audit.md "When the disk is full"):
  // a file "<path>.reserve" of this many bytes (fallocated, 0600) is kept beside the log and
  // given up when a write fails with ENOSPC/EDQUOT, so the held records and a `gap` record
  // (reason disk_full) still reach the disk; the log counts as durable again only once the
  // reserve could be made whole again. 0 = no reserve.
  std::uint64_t reserve_bytes = 2ull << 20;
  // Records held in memory while writes fail with ENOSPC/EDQUOT (retried every
  // retry_interval); beyond this, records are dropped and counted, and a `gap` record
  // (reason disk_full) with the exact count goes in before the next record once writing
  // works again.
  std::size_t max_held_bytes = 64u << 20;
  std::chrono::milliseconds retry_interval{500};
  // Called with false as soon as records cannot be made durable (a failed write/fsync, the
  // reserve given up or missing) and with true once they can again; once by open() with the
  // starting state. Called without the writer's locks, from open() and the writer's thread
  // (never concurrently); must not call flush() or close().
  std::function<void(bool durable)> on_durability;
  // Test seam: write(2) of the live file (empty = ::write).
  std::function<long(int fd, const void* data, std::size_t size)> write_syscall;
};

struct AuditStatus {
  std::string path;
  std::uint64_t records_written = 0;  // by this AuditLog (includes checkpoints and gaps)
  std::uint64_t last_seq = 0;         // 0 = the log is empty
  std::string last_hash;              // hash of record last_seq (genesis prev when empty)
  std::uint64_t durable_seq = 0;      // highest seq written and fsynced
  std::uint64_t fsync_count = 0;
  std::uint64_t checkpoints = 0;      // written by this AuditLog
  // The newest checkpoint on disk (its seq <= durable_seq), as its stored line without the
  // newline: what a host publishes to the fleet (docs/fleet.md "Published checkpoints").
  // 0 / empty: none since open() and none in the live file it resumed.
  std::uint64_t checkpoint_seq = 0;
  std::string checkpoint_line;
  std::uint64_t rotations = 0;
  bool append_only = false;           // FS_APPEND_FL is set on the live file
  std::string append_only_detail;     // why not, when it is not
  std::string key_id;                 // signing key id; empty = not signing
  bool failed = false;                // a write/fsync failed; append() now throws
  std::string error;
  // false while records cannot be made durable: writes failing with ENOSPC/EDQUOT (records
  // held in memory and retried), the reserve not whole, or failed
  bool durable = true;
  bool disk_full = false;              // the last write failed with ENOSPC/EDQUOT
  std::uint64_t held_records = 0;      // appended, not yet on disk
  std::uint64_t dropped_records = 0;   // dropped beyond max_held_bytes (each in a gap count)
  std::string stall_detail;            // why durable is false
};

// Thread-safe writer. append() formats, hashes and buffers a record; a background thread
// writes + fsyncs pending records every fsync_interval (or at fsync_max_records) and writes
// checkpoints. Records are on disk after flush()/close() or the next group commit.
class AuditLog {
 public:
  // Creates the log (and its directory) or resumes an existing one: a partial last line
  // (crash mid-write) is truncated and recorded as a `gap` record; the records after the
  // last checkpoint are re-verified (hash chain, and the checkpoint signature when the
  // key matches) before anything is appended. Throws Error(verification) when the
  // existing tail is inconsistent, IoError on I/O failure, KeyFileError for a bad key.
  static std::unique_ptr<AuditLog> open(const AuditOptions& options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // `fields` must be an object with a string `event` from the contract other than
  // "checkpoint"; `seq`, `prev` and `hash` must not be set (Error(usage)); `time` is always
  // set by the writer. Returns the record's seq, or 0 when the record was dropped (the disk
  // full and max_held_bytes held: counted in a later `gap`). Throws Error(io) after a write
  // failure other than ENOSPC/EDQUOT.
  std::uint64_t append(nlohmann::json fields);
  // A `gap` record: `count` lost kernel events (nullopt = unknown) and why.
  std::uint64_t append_gap(std::optional<std::uint64_t> count, RecordReason reason, std::string_view detail = {});
  // Writes and fsyncs everything appended so far before returning. Throws Error(io) when
  // that cannot be done now (the disk full: the records stay held and are retried).
  void flush();
  // Final checkpoint (when signing and there are unsigned records) + fsync; stops the
  // background thread. Idempotent; also run by the destructor (errors swallowed there).
  void close();
  AuditStatus status() const;
  // status().durable
  bool durable() const;

  struct Impl;

 private:
  explicit AuditLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- record format (record.cpp) -------------------------------------------------------

// Canonical bytes of a record: the object without `hash`, keys sorted byte-wise, compact
// nlohmann dump (no whitespace, non-ASCII as UTF-8, invalid UTF-8 replaced by U+FFFD).
std::string audit_canonical(const nlohmann::json& record_without_hash);
// Appends audit_canonical(fields + {"seq": seq, "time": time, "prev": prev}) to out without
// copying or modifying `fields` (any `time` member in fields is replaced; fields must not
// contain seq/prev). The writer's fast path; byte-identical to audit_canonical.
void append_audit_canonical(std::string& out, const nlohmann::json& fields, std::uint64_t seq,
                            std::string_view time, std::string_view prev);
// BLAKE2b-256 (crypto_generichash, no key) of canonical bytes, lower-case hex.
std::string audit_hash_hex(std::string_view canonical);
// The stored line for canonical bytes and their hash: canonical with the closing '}'
// replaced by ,"hash":"<hex>"} and a trailing '\n'.
std::string audit_line(std::string_view canonical, std::string_view hash_hex);
// RFC 3339 UTC with nanoseconds: 2024-05-01T12:34:56.123456789Z
std::string format_audit_time(std::int64_t unix_seconds, long nanoseconds);
// The unix seconds of a `time` in that form (fraction ignored); nullopt when it is not one.
std::optional<std::int64_t> parse_audit_time(std::string_view time);

// Parses and checks one stored line (without its '\n'): valid JSON object, canonical
// encoding, `hash` equals the hash of its canonical bytes. On failure returns false and
// sets *why; on success fills *record (including hash).
bool parse_audit_line(std::string_view line, nlohmann::json* record, std::string* why);

// ---- checkpoints (checkpoint.cpp) ------------------------------------------------------

// Signed message: kAuditCheckpointDomain || seq_head (8 bytes big-endian) || head (32 raw
// bytes decoded from hex). Throws Error(parse) on a malformed head.
std::vector<std::uint8_t> audit_checkpoint_message(std::uint64_t seq_head, std::string_view head_hex);
// base64 signature of the checkpoint message.
std::string sign_audit_checkpoint(std::uint64_t seq_head, std::string_view head_hex, const SecretKey& key);
bool verify_audit_checkpoint(std::uint64_t seq_head, std::string_view head_hex, std::string_view sig_b64,
                             const PublicKey& key) noexcept;

// A checkpoint kept outside the log (a host's published checkpoint, docs/fleet.md
// "Published checkpoints"): the stored line of a checkpoint record (canonical, its hash
// right) whose seq is `seq`, signed by one of `keys`.
struct OutsideCheckpoint {
  std::uint64_t seq = 0, seq_head = 0;  // the checkpoint's seq; the record it signs
  std::string head;                     // hash of record seq_head (signed)
  std::string hash;                     // hash of the checkpoint record itself
  std::string key_id;
  std::int64_t time = 0;                // unix seconds of its `time`
};
// Throws Error(verification) naming what does not hold.
OutsideCheckpoint verify_outside_checkpoint(std::string_view line, std::uint64_t seq,
                                            const std::vector<PublicKey>& keys);

// ---- files and rotation (rotation.cpp) -------------------------------------------------

// Rotated file name for a live file: "<live>.<first seq, 20 digits zero-padded>".
std::string audit_rotated_name(const std::string& live_path, std::uint64_t first_seq);
// The live file for LOG or DIR: a directory means DIR/audit.jsonl.
std::string audit_live_path(const std::string& path_or_dir);
// All files of a log, oldest first: rotated files (sorted by first seq), then the live file
// when it exists.
std::vector<std::string> audit_log_files(const std::string& path_or_dir);

// ---- verifier (verify.cpp) -------------------------------------------------------------

struct AuditVerifyOptions {
  // A log whose last record is not a checkpoint is an error (closed logs), instead of a
  // warning "unsigned tail of N records" (a live log's newest records are not yet signed).
  bool require_final_checkpoint = false;
  // Accept a log whose oldest file does not start at seq 1 (old files pruned): the first
  // record's seq/prev are then taken on trust (warning).
  bool allow_pruned_start = false;
  // Heads known from outside the log (`--expect-head`, the checkpoints a host published to
  // the fleet, `status().last_hash`), by seq: the log must contain each record SEQ with that
  // hash. Detects truncation after the last checkpoint, and a log rewritten and re-signed
  // with the key on the host, which the log alone cannot. A head before the first record of
  // a pruned log (allow_pruned_start) is not checked (a warning).
  struct ExpectedHead {
    std::string hash;  // 64 lower-case hex
    std::string from;  // where it was known, for the messages ("--expect-head", ...)
  };
  std::map<std::uint64_t, ExpectedHead> expect_heads;
  // false: the hash chain, seq continuity and checkpoint placement only; no checkpoint
  // signature or key is checked and `keys` may be empty (a log whose key is not at hand:
  // anyone can rewrite such a chain consistently, so say so where it matters).
  bool check_signatures = true;
};

struct AuditVerifyResult {
  bool ok = false;
  std::vector<std::string> files;       // files examined, oldest first
  std::uint64_t records = 0;            // records that passed the chain checks
  std::uint64_t checkpoints = 0;        // valid checkpoints
  std::uint64_t first_seq = 0, last_seq = 0;
  std::string last_hash;
  std::uint64_t last_signed_seq = 0;    // seq_head of the last valid checkpoint
  std::uint64_t unsigned_tail = 0;      // records after the last valid checkpoint
  // When !ok: the seq position where verification failed (records before it chain
  // correctly), the reason, and where. untrusted_from: first seq not covered by a valid
  // signature (<= first_bad_seq).
  std::optional<std::uint64_t> first_bad_seq;
  std::optional<std::uint64_t> untrusted_from;
  std::string reason;
  std::string file;
  std::uint64_t line = 0;  // 1-based line in `file`
  std::vector<std::string> warnings;

  nlohmann::json to_json() const;
};

// Verifies every file of the log in order with any of `keys` (checkpoints signed by another
// key are errors). Throws only on I/O errors reading the files (and Error(not_found) when
// the log does not exist).
AuditVerifyResult verify_audit(const std::string& path_or_dir, const std::vector<PublicKey>& keys,
                               const AuditVerifyOptions& options = {});
inline AuditVerifyResult verify_audit(const std::string& path_or_dir, const PublicKey& key,
                                      const AuditVerifyOptions& options = {}) {
  return verify_audit(path_or_dir, std::vector<PublicKey>{key}, options);
}

}  // namespace execgate
