// AuditLog: thread-safe appends, group commit, checkpoints, rotation and resume
// (docs/audit.md "Writer").
#include <pthread.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "crypto/blake2b.h"
#include "execgate/audit.h"
#include "common/encoding.h"
#include "execgate/error.h"
#include "execgate/names.h"
#include "common/fs.h"
#include "internal.h"

namespace execgate {

namespace fs = std::filesystem;
using Clk = std::chrono::steady_clock;

namespace {
// Appenders wait (back-pressure) when this much is buffered and not yet written.
constexpr std::size_t kMaxPendingBytes = 16u << 20;
}  // namespace

struct AuditLog::Impl {
  AuditOptions opt;
  std::optional<SecretKey> key;
  std::string key_id;

  // ---- chain state and pending buffer: guarded by mu ----
  mutable std::mutex mu;
  std::condition_variable wake;   // flusher
  bool rearm = false;             // a first pending record or checkpoint-due: recompute the deadline
  std::condition_variable space;  // back-pressured appenders, flush() waiters
  std::uint64_t next_seq = 1;
  std::string prev{kAuditGenesisPrev};
  std::uint64_t since_cp = 0;  // records after the last checkpoint
  Clk::time_point last_cp_time = Clk::now();
  std::string pending;
  std::size_t pending_records = 0;
  std::uint64_t file_bytes = 0;  // bytes of the live file, including pending
  std::uint64_t file_first_seq = 1;
  bool stop = false, closed = false;
  std::string error;  // sticky write failure (not ENOSPC/EDQUOT)
  Clk::time_point last_sync = Clk::now();
  // ---- the disk full (docs/audit.md "When the disk is full"): guarded by mu ----
  bool writing = false;          // a batch is being written with mu released (one at a time)
  std::size_t inflight = 0;      // its bytes
  bool full = false;             // the last write failed with ENOSPC/EDQUOT: pending is held
  std::string full_error;
  Clk::time_point retry_at = Clk::now();  // next write retry (full) or reserve attempt
  bool durable = true;           // what status()/the callback say
  std::string stall_detail;
  bool reported_durable = true;  // what the callback was last told (the flusher's)
  std::uint64_t dropped = 0;     // dropped and not yet in a gap record
  std::uint64_t dropped_total = 0;
  // the reserve file: made and given up by open() and the flusher thread only (its I/O
  // with mu released); reserve_ok guarded by mu
  bool reserve_ok = false;
  std::string reserve_path;
  // time stamp cache
  std::int64_t cached_sec = -1;
  std::string cached_prefix;  // "YYYY-MM-DDTHH:MM:SS."

  // ---- file: guarded by io (taken while holding mu, then mu may be released) ----
  mutable std::mutex io;
  UniqueFd fd;
  bool append_only = false;
  std::string append_only_detail;

  // ---- statistics (guarded by mu) ----
  std::uint64_t records_written = 0, checkpoints = 0, rotations = 0, fsyncs = 0, durable_seq = 0;

  std::thread flusher;

  // --------------------------------------------------------------------------------------
  // Writes the RFC 3339 time into time_buf (30 chars) and returns it.
  char time_buf[40] = {};
  std::string_view now_rfc3339() {
    struct timespec ts {};
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
      cached_sec = ts.tv_sec;
      cached_prefix = format_audit_time(ts.tv_sec, 0);
      cached_prefix.resize(cached_prefix.size() - 10);  // drop "000000000Z"
    }
    std::memcpy(time_buf, cached_prefix.data(), cached_prefix.size());
    char* p = time_buf + cached_prefix.size();
    long ns = ts.tv_nsec;
    for (int i = 8; i >= 0; --i, ns /= 10) p[i] = static_cast<char>('0' + ns % 10);
    p[9] = 'Z';
    return {time_buf, cached_prefix.size() + 10};
  }

  void check_failed_locked() const {
    if (!error.empty()) throw Error(ErrorKind::io, "audit log unavailable: " + error);
  }

  // Sets seq/time/prev, hashes, buffers. Caller holds mu.
  std::uint64_t emit_locked(const nlohmann::json& rec) {
    const std::uint64_t seq = next_seq;
    // Serialize straight into the pending buffer (byte-identical to audit_canonical of the
    // record with seq/time/prev set), hash that region, then turn the closing '}' into
    // ,"hash":"<hex>"}\n.
    const std::string_view time = now_rfc3339();
    const std::size_t before = pending.size();
    append_audit_canonical(pending, rec, seq, time, prev);
    const Blake2b256 digest = blake2b_256(std::string_view(pending).substr(before));
    pending.pop_back();
    pending.append(",\"hash\":\"");
    static constexpr char kHex[] = "0123456789abcdef";
    const std::size_t hpos = pending.size();
    pending.resize(hpos + 64);
    for (int i = 0; i < 32; ++i) {
      pending[hpos + 2 * i] = kHex[digest[i] >> 4];
      pending[hpos + 2 * i + 1] = kHex[digest[i] & 0xf];
    }
    prev.assign(pending, hpos, 64);
    pending.append("\"}\n");
    file_bytes += pending.size() - before;
    ++pending_records;
    ++records_written;
    next_seq = seq + 1;
    return seq;
  }

  void checkpoint_locked(bool final_cp) {
    nlohmann::json rec = {{"event", name(EventKind::checkpoint)},
                          {"key_id", key_id},
                          {"head", prev},
                          {"seq_head", next_seq - 1},
                          {"every", opt.checkpoint_every},
                          {"sig", sign_audit_checkpoint(next_seq - 1, prev, *key)}};
    if (final_cp) rec["final"] = true;
    emit_locked(rec);
    since_cp = 0;
    ++checkpoints;
    last_cp_time = Clk::now();
  }

  // Before appending a record: rotate, or checkpoint when checkpoint_every is reached.
  // Rotation waits for a batch in flight and is put off while the disk is full.
  void before_append_locked(std::unique_lock<std::mutex>& lk) {
    while (file_bytes >= opt.rotate_bytes && next_seq > file_first_seq && !full && error.empty()) {
      if (writing) {
        space.wait(lk);
        continue;
      }
      rotate_locked();
      break;
    }
    if (key && since_cp >= opt.checkpoint_every) checkpoint_locked(false);
  }

  // A record of the writer's own (gap) outside append(): checkpoint rule, then the record.
  void emit_own_locked(const nlohmann::json& rec) {
    if (key && since_cp >= opt.checkpoint_every) checkpoint_locked(false);
    emit_locked(rec);
    ++since_cp;
  }

  // The gap for records dropped while the disk was full, before the next record.
  void emit_dropped_gap_locked() {
    if (dropped == 0) return;
    const std::uint64_t n = dropped;
    dropped = 0;
    emit_own_locked({{"event", name(EventKind::gap)},
                     {"reason", name(RecordReason::disk_full)},
                     {"count", n},
                     {"detail", std::to_string(n) + " records dropped: the audit log's file system was full and " +
                                    std::to_string(opt.max_held_bytes) + " bytes of records were held in memory"}});
  }

  void set_durable_locked(bool d, std::string why = {}) {
    durable = d;
    stall_detail = d ? std::string() : std::move(why);
    if (d != reported_durable) wake.notify_one();
  }

  // ---- the file I/O of a batch ----------------------------------------------------------
  struct WriteResult {
    int err = 0;             // 0 = written and fsynced
    bool permanent = false;  // the file could not be put back as it was
    std::string what;
  };
  // Writes buf at the end of the live file and fdatasyncs it; on failure truncates the file
  // back to its size before the write, so no torn record is left. Caller holds io.
  WriteResult write_batch_io_locked(std::string_view buf) {
    WriteResult r;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      r.err = errno;
      r.permanent = true;
      r.what = opt.path + ": fstat failed: " + std::strerror(r.err);
      return r;
    }
    std::size_t off = 0;
    while (off < buf.size()) {
      const long n = opt.write_syscall ? opt.write_syscall(fd.get(), buf.data() + off, buf.size() - off)
                                       : static_cast<long>(::write(fd.get(), buf.data() + off, buf.size() - off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        r.err = n < 0 ? errno : EIO;
        r.what = opt.path + ": write failed: " + std::strerror(r.err);
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    if (r.err == 0 && ::fdatasync(fd.get()) != 0) {
      r.err = errno;
      r.what = opt.path + ": fsync failed: " + std::strerror(r.err);
    }
    if (r.err == 0) return r;
    // Put the file back as it was (the records are kept in memory and written again).
    struct stat now {};
    if (::fstat(fd.get(), &now) == 0 && now.st_size == st.st_size) return r;
    if (append_only) audit_detail::set_append_only(fd.get(), false);
    const int t = ::ftruncate(fd.get(), st.st_size) == 0 ? 0 : errno;
    if (append_only) audit_detail::set_append_only(fd.get(), true);
    if (t != 0) {
      r.permanent = true;
      r.what += std::string("; cannot truncate the partial batch: ") + std::strerror(t);
    }
    return r;
  }

  static bool is_disk_full(int e) { return e == ENOSPC || e == EDQUOT; }

  // After a failed batch whose bytes were put back in front of pending. Caller holds mu.
  void write_failed_locked(const WriteResult& r) {
    if (is_disk_full(r.err) && !r.permanent) {
      full = true;
      full_error = r.what;
      // with the reserve still there, the flusher gives it up and writes again at once
      retry_at = reserve_ok ? Clk::now() : Clk::now() + opt.retry_interval;
      set_durable_locked(false, "disk full: " + r.what);
    } else {
      if (error.empty()) error = r.what;
      set_durable_locked(false, "failed: " + error);
    }
  }

  // ---- the reserve -----------------------------------------------------------------------
  // Makes <log>.reserve whole (reserve_bytes allocated). On failure removes it (a partial
  // reserve would only take space from the log) and returns false.
  bool make_reserve(std::string* why) {
    UniqueFd rfd(::open(reserve_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
    int e = 0;
    if (!rfd) {
      e = errno;
    } else {
      ::fchmod(rfd.get(), 0600);
      e = ::posix_fallocate(rfd.get(), 0, static_cast<off_t>(opt.reserve_bytes));
      if (e == 0 && ::fdatasync(rfd.get()) != 0) e = errno;
    }
    if (e == 0) return true;
    *why = reserve_path + ": cannot reserve " + std::to_string(opt.reserve_bytes) + " bytes: " + std::strerror(e);
    rfd.reset();
    ::unlink(reserve_path.c_str());
    return false;
  }
  void release_reserve() { ::unlink(reserve_path.c_str()); }

  // Takes the pending buffer and writes + fsyncs it. Called with mu held via lk; mu is
  // released during the I/O (one batch at a time: `writing`). A batch that fails goes back
  // in front of pending (order and chain kept) and the file is put back as it was.
  void sync_locked(std::unique_lock<std::mutex>& lk) {
    if (pending.empty() || !error.empty() || writing) return;
    std::string buf;
    buf.swap(pending);
    const std::size_t nrec = pending_records;
    const std::uint64_t upto = next_seq - 1;
    pending_records = 0;
    writing = true;
    inflight = buf.size();
    std::unique_lock<std::mutex> iol(io);
    lk.unlock();
    const WriteResult r = write_batch_io_locked(buf);
    iol.unlock();
    lk.lock();
    writing = false;
    inflight = 0;
    if (r.err != 0) {
      buf.append(pending);
      pending.swap(buf);
      pending_records += nrec;
      write_failed_locked(r);
    } else {
      ++fsyncs;
      durable_seq = std::max(durable_seq, upto);
      full = false;
      full_error.clear();
    }
    last_sync = Clk::now();
    space.notify_all();
    if (pending_records > 0 || !durable) {
      rearm = true;  // the flusher skipped its deadline while this batch was in flight
      wake.notify_one();
    }
  }

  // Writes pending + fsync while holding mu (rotation/close: nothing may interleave).
  // Returns false when the disk is full (pending kept); throws on any other failure.
  bool sync_holding_locked() {
    std::lock_guard<std::mutex> iol(io);
    const WriteResult r = write_batch_io_locked(pending);
    if (r.err != 0) {
      write_failed_locked(r);
      if (!error.empty()) throw IoError(opt.path, r.err, r.what);
      return false;
    }
    pending.clear();
    pending_records = 0;
    full = false;
    full_error.clear();
    ++fsyncs;
    durable_seq = next_seq - 1;
    last_sync = Clk::now();
    space.notify_all();
    return true;
  }

  void rotate_locked() {
    if (key && since_cp > 0) checkpoint_locked(false);
    try {
      if (!sync_holding_locked()) return;  // the disk full: rotate once writes work again
      std::lock_guard<std::mutex> iol(io);
      const std::string rotated = audit_rotated_name(opt.path, file_first_seq);
      // rename(2) of an FS_APPEND_FL file is refused: clear the flag, rename, set it again.
      if (append_only) audit_detail::set_append_only(fd.get(), false);
      if (::rename(opt.path.c_str(), rotated.c_str()) != 0) {
        int e = errno;
        if (append_only) audit_detail::set_append_only(fd.get(), true);
        throw IoError(opt.path, e, "cannot rename to " + rotated);
      }
      if (append_only) audit_detail::set_append_only(fd.get(), true);
      open_file_io_locked();
      audit_detail::fsync_parent_dir(opt.path);
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
      throw;
    }
    file_bytes = 0;
    file_first_seq = next_seq;
    ++rotations;
  }

  // Opens (creating) the live file for appending and tries FS_APPEND_FL. Caller holds io
  // (or is single-threaded during open).
  void open_file_io_locked() {
    UniqueFd nfd(::open(opt.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640));
    if (!nfd) throw IoError(opt.path, errno, "cannot open audit log");
    fd = std::move(nfd);
    append_only = false;
    append_only_detail.clear();
    if (opt.try_append_only) {
      int e = audit_detail::set_append_only(fd.get(), true);
      if (e == 0)
        append_only = true;
      else
        append_only_detail = std::string("FS_APPEND_FL not set: ") + std::strerror(e) +
                             (e == EPERM ? " (needs CAP_LINUX_IMMUTABLE)" : e == ENOTTY || e == EOPNOTSUPP ? " (file system does not support it)" : "");
    } else {
      append_only_detail = "disabled by configuration";
    }
  }

  // Tells on_durability what `durable` is now, mu released around the call. Flusher only.
  void report_durability(std::unique_lock<std::mutex>& lk) {
    while (reported_durable != durable) {
      const bool d = durable;
      reported_durable = d;
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
  void reserve_step(std::unique_lock<std::mutex>& lk, Clk::time_point now) {
    if (opt.reserve_bytes == 0 || !error.empty()) return;
    if (full && reserve_ok) {
      // Execs are already denied (durable is false, reported above); the reserve's space
      // lets the held records and the record of the full disk reach the log.
      reserve_ok = false;
      lk.unlock();
      release_reserve();
      lk.lock();
      emit_own_locked({{"event", name(EventKind::gap)},
                       {"reason", name(RecordReason::disk_full)},
                       {"count", 0},
                       {"detail", "the audit log's file system is full (" + full_error +
                                      "); records are held in memory and retried; with [audit] required execs in "
                                      "the scope are denied " + std::string(name(Reason::audit_unavailable)) +
                                      " until the reserve " + reserve_path + " can be made whole again"}});
      retry_at = now;  // write at once
      return;
    }
    if (!full && !reserve_ok && pending_records == 0 && !writing && now >= retry_at) {
      lk.unlock();
      std::string why;
      const bool ok = make_reserve(&why);
      lk.lock();
      reserve_ok = ok;
      if (!ok) {
        retry_at = Clk::now() + opt.retry_interval;
        if (durable) set_durable_locked(false, why);
        else stall_detail = why;
      }
    }
  }

  bool can_be_durable_locked() const {
    return error.empty() && !full && (reserve_ok || opt.reserve_bytes == 0);
  }

  void flusher_loop() {
    std::unique_lock<std::mutex> lk(mu);
    while (!stop) {
      report_durability(lk);
      if (stop) break;
      auto deadline = Clk::now() + std::chrono::hours(1);
      // a batch of another thread (flush()) in flight: its end sets rearm
      if (pending_records > 0 && !writing)
        deadline = std::min(deadline, full ? retry_at : last_sync + opt.fsync_interval);
      if (!durable && error.empty() && !writing) deadline = std::min(deadline, retry_at);
      if (key && since_cp > 0) deadline = std::min(deadline, last_cp_time + opt.checkpoint_interval);
      wake.wait_until(lk, deadline, [&] {
        return stop || rearm || (!full && !writing && pending_records >= opt.fsync_max_records) ||
               reported_durable != durable;
      });
      if (stop) break;
      if (reported_durable != durable) continue;
      if (rearm && (full || pending_records < opt.fsync_max_records) && Clk::now() < deadline) {
        rearm = false;
        continue;  // new work arrived while idle: sleep until its own deadline
      }
      rearm = false;
      auto now = Clk::now();
      try {
        if (key && since_cp > 0 && now >= last_cp_time + opt.checkpoint_interval && error.empty())
          checkpoint_locked(false);
      } catch (const std::exception& e) {
        if (error.empty()) error = e.what();
        set_durable_locked(false, "failed: " + error);
      }
      if (full) {
        report_durability(lk);  // the kernel stalls execs before anything else is tried
        reserve_step(lk, now);
        if (Clk::now() >= retry_at) {
          if (pending_records > 0)
            sync_locked(lk);
          else
            full = false;  // only an fsync failed, with nothing to write again
        }
      } else if (pending_records > 0 &&
                 (pending_records >= opt.fsync_max_records || now >= last_sync + opt.fsync_interval)) {
        sync_locked(lk);
      }
      if (!full && error.empty() && dropped > 0) {
        emit_dropped_gap_locked();
        sync_locked(lk);
      }
      if (!full && !durable) {
        now = Clk::now();
        reserve_step(lk, now);
        if (can_be_durable_locked() && pending_records == 0) set_durable_locked(true);
      }
    }
    report_durability(lk);
  }

  // ---- resume ------------------------------------------------------------------------
  // Reads the live file (or, when it is missing/empty, the newest rotated file), truncates
  // a torn tail, re-verifies the records after the last checkpoint and sets next_seq/prev.
  // Returns the number of torn bytes removed.
  std::size_t resume() {
    std::size_t torn_bytes = 0;
    std::error_code ec;
    std::string data;
    if (fs::exists(opt.path, ec)) data = audit_detail::read_whole(opt.path);
    std::string_view torn;
    auto lines = audit_detail::split_lines(data, &torn);
    if (!torn.empty()) {
      torn_bytes = torn.size();
      // O_APPEND: an FS_APPEND_FL file cannot be opened for writing without it.
      UniqueFd tfd(::open(opt.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY));
      if (!tfd) throw IoError(opt.path, errno, "cannot open to truncate a torn record");
      bool was_append = false;
      audit_detail::get_append_only(tfd.get(), &was_append);
      if (was_append) audit_detail::set_append_only(tfd.get(), false);
      if (::ftruncate(tfd.get(), static_cast<off_t>(data.size() - torn.size())) != 0)
        throw IoError(opt.path, errno, "cannot truncate a torn record");
      if (::fsync(tfd.get()) != 0) throw IoError(opt.path, errno, "fsync failed");
      data.resize(data.size() - torn.size());
      lines = audit_detail::split_lines(data, &torn);
    }
    file_bytes = data.size();
    if (!lines.empty()) {
      resume_from_lines(lines, opt.path);
      nlohmann::json first;
      std::string why;
      if (!parse_audit_line(lines.front(), &first, &why))
        throw Error(ErrorKind::verification, opt.path + ": first record " + why);
      file_first_seq = first["seq"].get<std::uint64_t>();
      return torn_bytes;
    }
    // Empty live file: continue from the newest rotated file, if any.
    auto files = audit_log_files(opt.path);
    if (!files.empty() && files.back() == opt.path) files.pop_back();
    if (!files.empty()) {
      std::string rdata = audit_detail::read_whole(files.back());
      std::string_view rtorn;
      auto rlines = audit_detail::split_lines(rdata, &rtorn);
      if (!rtorn.empty() || rlines.empty())
        throw Error(ErrorKind::verification, files.back() + ": rotated audit file is truncated; refusing to continue");
      resume_from_lines(rlines, files.back());
    }
    file_first_seq = next_seq;
    return torn_bytes;
  }

  void resume_from_lines(const std::vector<std::string_view>& lines, const std::string& path) {
    // Start at the last checkpoint (its signature covers everything before it).
    const std::string checkpoint_member = "\"event\":\"" + std::string(name(EventKind::checkpoint)) + "\"";
    std::size_t start = 0;
    for (std::size_t i = lines.size(); i-- > 0;) {
      if (lines[i].find(checkpoint_member) != std::string_view::npos) {
        start = i;
        break;
      }
    }
    auto bad = [&](std::uint64_t line_no, const std::string& why) {
      throw Error(ErrorKind::verification, path + ":" + std::to_string(line_no) +
                                               ": existing audit log fails verification (" + why +
                                               "); refusing to append — move the log aside or run `execgate audit verify`");
    };
    bool have = false;
    std::string expect_prev;
    std::uint64_t expect_seq = 0;
    since_cp = 0;
    for (std::size_t i = start; i < lines.size(); ++i) {
      nlohmann::json rec;
      std::string why;
      if (!parse_audit_line(lines[i], &rec, &why)) bad(i + 1, "record " + why);
      if (!rec.contains("seq") || !rec["seq"].is_number_unsigned() || !rec.contains("prev") ||
          !rec["prev"].is_string() || !rec.contains("event") || !rec["event"].is_string())
        bad(i + 1, "record lacks seq/prev/event");
      const auto seq = rec["seq"].get<std::uint64_t>();
      const auto& prv = rec["prev"].get_ref<const std::string&>();
      if (have && (seq != expect_seq || prv != expect_prev)) bad(i + 1, "chain broken at seq " + std::to_string(seq));
      if (rec["event"].get_ref<const std::string&>() == name(EventKind::checkpoint)) {
        if (key && rec.value("key_id", "") == key_id &&
            !verify_audit_checkpoint(rec.value("seq_head", std::uint64_t{0}), rec.value("head", ""),
                                     rec.value("sig", ""), key->public_key()))
          bad(i + 1, "checkpoint signature invalid at seq " + std::to_string(seq));
        since_cp = 0;
      } else {
        ++since_cp;
      }
      have = true;
      expect_seq = seq + 1;
      expect_prev = rec["hash"].get<std::string>();
    }
    next_seq = expect_seq;
    prev = expect_prev;
  }
};

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<AuditLog> AuditLog::open(const AuditOptions& options) {
  ensure_sodium();
  if (options.path.empty()) throw Error(ErrorKind::usage, "audit log path is empty");
  if (options.checkpoint_every == 0) throw Error(ErrorKind::usage, "checkpoint_every must be at least 1");
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  if (impl->opt.fsync_max_records == 0) impl->opt.fsync_max_records = 1;
  if (!options.signing_key_path.empty()) {
    impl->key = load_secret_key(options.signing_key_path);
    impl->key_id = impl->key->key_id();
  }
  fs::path p(options.path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) throw IoError(p.parent_path().string(), ec.value(), "cannot create the audit directory");
  }
  const std::size_t torn = impl->resume();
  impl->durable_seq = impl->next_seq - 1;  // what is already in the files
  impl->open_file_io_locked();
  impl->last_sync = impl->last_cp_time = Clk::now();
  impl->reserve_path = options.path + ".reserve";
  if (impl->opt.reserve_bytes > 0) {
    std::string why;
    impl->reserve_ok = impl->make_reserve(&why);
    if (!impl->reserve_ok) {
      impl->durable = false;
      impl->stall_detail = why;
      impl->retry_at = Clk::now() + impl->opt.retry_interval;
    }
  }
  impl->reported_durable = impl->durable;
  if (impl->opt.on_durability) impl->opt.on_durability(impl->durable);
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(impl)));
  if (torn > 0)
    log->append_gap(1, RecordReason::torn_write,
                    "truncated " + std::to_string(torn) +
                        " bytes of a partially written record at the end of the log (crash mid-write); records "
                        "buffered in memory at the crash are also lost");
  Impl* im = log->impl_.get();
  im->flusher = std::thread([im] {
    ::pthread_setname_np(::pthread_self(), "eg-audit");  // ps -L, top -H
    im->flusher_loop();
  });
  if (torn > 0) log->flush();
  return log;
}

AuditLog::~AuditLog() {
  try {
    close();
  } catch (...) {
  }
}

std::uint64_t AuditLog::append(nlohmann::json fields) {
  if (!fields.is_object()) throw Error(ErrorKind::usage, "audit record must be a JSON object");
  auto eit = fields.find("event");
  const auto event = eit != fields.end() && eit->is_string() ? parse_event(eit->get_ref<const std::string&>())
                                                             : std::nullopt;
  if (!event) throw Error(ErrorKind::usage, "audit record needs an `event` from the contract");
  if (*event == EventKind::checkpoint)
    throw Error(ErrorKind::usage, "checkpoint records are written by the audit log itself");
  // One pass over the (sorted) members: reserved names, and which exec fields are present.
  static constexpr std::string_view kExecFields[] = {"comm", "dev",  "ino",    "lineage", "path",   "pid",
                                                     "ppid", "reason", "ticket", "uid",   "verdict"};
  const bool is_exec = *event == EventKind::exec || *event == EventKind::access;  // kernel decisions
  unsigned present = 0;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const std::string& k = it.key();
    if (k == "seq" || k == "prev" || k == "hash")
      throw Error(ErrorKind::usage, "seq, prev and hash are set by the audit log");
    if (is_exec)
      for (unsigned i = 0; i < std::size(kExecFields); ++i)
        if (kExecFields[i] == k) present |= 1u << i;
  }
  if (is_exec) {
    // exec records always carry the contract's decision fields (null when unknown).
    if (present != (1u << std::size(kExecFields)) - 1)
      for (unsigned i = 0; i < std::size(kExecFields); ++i)
        if (!(present & (1u << i))) fields[std::string(kExecFields[i])] = nullptr;
    const auto& v = fields["verdict"];
    if (!(v.is_string() && parse_verdict(v.get_ref<const std::string&>())))
      throw Error(ErrorKind::usage, "exec and access records need a verdict: " + names_text<Verdict>());
  }
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lk(im.mu);
  for (;;) {
    if (im.closed) throw Error(ErrorKind::usage, "audit log is closed");
    im.check_failed_locked();
    if (im.full && im.pending.size() + im.inflight >= im.opt.max_held_bytes) {
      ++im.dropped;  // counted in a gap record before the next record that is kept
      ++im.dropped_total;
      return 0;
    }
    if (im.full || im.pending.size() < kMaxPendingBytes) break;
    im.wake.notify_one();
    im.space.wait(lk, [&] { return im.pending.size() < kMaxPendingBytes || !im.error.empty() || im.closed || im.full; });
  }
  im.emit_dropped_gap_locked();
  im.before_append_locked(lk);
  const std::uint64_t seq = im.emit_locked(fields);
  ++im.since_cp;
  if (im.pending_records >= im.opt.fsync_max_records) {
    im.wake.notify_one();
  } else if (im.pending_records == 1 || im.since_cp == 1) {
    im.rearm = true;  // the flusher may be sleeping on a far deadline
    im.wake.notify_one();
  }
  return seq;
}

std::uint64_t AuditLog::append_gap(std::optional<std::uint64_t> count, RecordReason reason, std::string_view detail) {
  nlohmann::json rec = {{"event", name(EventKind::gap)}, {"reason", name(reason)}};
  rec["count"] = count ? nlohmann::json(*count) : nlohmann::json();
  if (!detail.empty()) rec["detail"] = detail;
  return append(std::move(rec));
}

void AuditLog::flush() {
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lk(im.mu);
  const std::uint64_t target = im.next_seq - 1;
  for (;;) {
    im.check_failed_locked();
    if (im.durable_seq >= target || im.fd.get() < 0) return;
    if (im.full)
      throw Error(ErrorKind::io, "audit log: records cannot be made durable now (" + im.full_error +
                                     "); they are held in memory and retried");
    if (im.writing)
      im.space.wait(lk);  // a batch the group-commit thread took before us is in flight
    else
      im.sync_locked(lk);
  }
}

void AuditLog::close() {
  Impl& im = *impl_;
  {
    std::unique_lock<std::mutex> lk(im.mu);
    if (im.closed) return;
    im.closed = true;
    im.stop = true;
    im.wake.notify_all();
    im.space.notify_all();
  }
  if (im.flusher.joinable()) im.flusher.join();
  std::unique_lock<std::mutex> lk(im.mu);
  im.space.wait(lk, [&] { return !im.writing; });  // a flush() of another thread
  if (!im.error.empty()) throw Error(ErrorKind::io, "audit log unavailable: " + im.error);
  im.emit_dropped_gap_locked();
  if (im.key && im.since_cp > 0) im.checkpoint_locked(true);
  if (!im.sync_holding_locked())
    throw Error(ErrorKind::io, "audit log: " + std::to_string(im.pending_records) +
                                   " records could not be written at close (" + im.full_error + ")");
  std::lock_guard<std::mutex> iol(im.io);
  im.fd.reset();
}

AuditStatus AuditLog::status() const {
  const Impl& im = *impl_;
  std::lock_guard<std::mutex> lk(im.mu);
  AuditStatus s;
  s.path = im.opt.path;
  s.records_written = im.records_written;
  s.last_seq = im.next_seq - 1;
  s.last_hash = im.prev;
  s.durable_seq = im.durable_seq;
  s.fsync_count = im.fsyncs;
  s.checkpoints = im.checkpoints;
  s.rotations = im.rotations;
  {
    std::lock_guard<std::mutex> iol(im.io);
    s.append_only = im.append_only;
    s.append_only_detail = im.append_only_detail;
  }
  s.key_id = im.key_id;
  s.failed = !im.error.empty();
  s.error = im.error;
  s.durable = im.durable;
  s.disk_full = im.full;
  s.held_records = im.pending_records;
  s.dropped_records = im.dropped_total;
  s.stall_detail = im.stall_detail;
  return s;
}

bool AuditLog::durable() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->durable;
}

}  // namespace execgate
