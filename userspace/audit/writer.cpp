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
  std::string error;  // sticky write failure
  Clk::time_point last_sync = Clk::now();
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
    nlohmann::json rec = {{"event", "checkpoint"},
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
  void before_append_locked() {
    if (file_bytes >= opt.rotate_bytes && next_seq > file_first_seq) rotate_locked();
    if (key && since_cp >= opt.checkpoint_every) checkpoint_locked(false);
  }

  // Takes the pending buffer and writes + fsyncs it. Called with mu held via lk; mu is
  // released during the I/O (io is acquired first, so batches hit the file in order).
  void sync_locked(std::unique_lock<std::mutex>& lk) {
    if (pending.empty() || !error.empty()) return;
    std::string buf;
    buf.swap(pending);
    const std::uint64_t upto = next_seq - 1;
    pending_records = 0;
    std::unique_lock<std::mutex> iol(io);
    lk.unlock();
    std::string err;
    try {
      write_all(fd.get(), buf, opt.path);
      if (::fdatasync(fd.get()) != 0) throw IoError(opt.path, errno, "fsync failed");
    } catch (const std::exception& e) {
      err = e.what();
    }
    iol.unlock();
    lk.lock();
    if (!err.empty()) {
      if (error.empty()) error = err;
    } else {
      ++fsyncs;
      durable_seq = std::max(durable_seq, upto);
    }
    last_sync = Clk::now();
    space.notify_all();
  }

  // Writes pending + fsync while holding mu (rotation/close: nothing may interleave).
  void sync_holding_locked() {
    std::lock_guard<std::mutex> iol(io);
    if (!pending.empty()) write_all(fd.get(), pending, opt.path);
    if (::fdatasync(fd.get()) != 0) throw IoError(opt.path, errno, "fsync failed");
    pending.clear();
    pending_records = 0;
    ++fsyncs;
    durable_seq = next_seq - 1;
    last_sync = Clk::now();
    space.notify_all();
  }

  void rotate_locked() {
    if (key && since_cp > 0) checkpoint_locked(false);
    try {
      sync_holding_locked();
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

  void flusher_loop() {
    std::unique_lock<std::mutex> lk(mu);
    while (!stop) {
      auto deadline = Clk::now() + std::chrono::hours(1);
      if (pending_records > 0) deadline = std::min(deadline, last_sync + opt.fsync_interval);
      if (key && since_cp > 0) deadline = std::min(deadline, last_cp_time + opt.checkpoint_interval);
      wake.wait_until(lk, deadline, [&] { return stop || rearm || pending_records >= opt.fsync_max_records; });
      if (stop) break;
      if (rearm && pending_records < opt.fsync_max_records && Clk::now() < deadline) {
        rearm = false;
        continue;  // new work arrived while idle: sleep until its own deadline
      }
      rearm = false;
      const auto now = Clk::now();
      try {
        if (key && since_cp > 0 && now >= last_cp_time + opt.checkpoint_interval && error.empty())
          checkpoint_locked(false);
      } catch (const std::exception& e) {
        if (error.empty()) error = e.what();
      }
      if (pending_records > 0 && (pending_records >= opt.fsync_max_records || now >= last_sync + opt.fsync_interval))
        sync_locked(lk);
    }
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
    std::size_t start = 0;
    for (std::size_t i = lines.size(); i-- > 0;) {
      if (lines[i].find("\"event\":\"checkpoint\"") != std::string_view::npos) {
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
      if (rec["event"] == "checkpoint") {
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
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(impl)));
  if (torn > 0)
    log->append_gap(1, "torn_write",
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
  if (eit == fields.end() || !eit->is_string() || !is_audit_event(eit->get_ref<const std::string&>()))
    throw Error(ErrorKind::usage, "audit record needs an `event` from the contract");
  if (*eit == "checkpoint") throw Error(ErrorKind::usage, "checkpoint records are written by the audit log itself");
  // One pass over the (sorted) members: reserved names, and which exec fields are present.
  static constexpr std::string_view kExecFields[] = {"comm", "dev",  "ino",    "lineage", "path",   "pid",
                                                     "ppid", "reason", "ticket", "uid",   "verdict"};
  const bool is_exec = *eit == "exec" || *eit == "access";  // kernel decisions
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
    if (!(v.is_string() && (v == "allow" || v == "deny" || v == "monitor_deny")))
      throw Error(ErrorKind::usage, "exec and access records need verdict allow, deny or monitor_deny");
  }
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lk(im.mu);
  if (im.closed) throw Error(ErrorKind::usage, "audit log is closed");
  im.check_failed_locked();
  if (im.pending.size() >= kMaxPendingBytes) {
    im.wake.notify_one();
    im.space.wait(lk, [&] { return im.pending.size() < kMaxPendingBytes || !im.error.empty() || im.closed; });
    im.check_failed_locked();
    if (im.closed) throw Error(ErrorKind::usage, "audit log is closed");
  }
  im.before_append_locked();
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

std::uint64_t AuditLog::append_gap(std::optional<std::uint64_t> count, std::string_view reason,
                                   std::string_view detail) {
  nlohmann::json rec = {{"event", "gap"}, {"reason", reason}};
  rec["count"] = count ? nlohmann::json(*count) : nlohmann::json();
  if (!detail.empty()) rec["detail"] = detail;
  return append(std::move(rec));
}

void AuditLog::flush() {
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lk(im.mu);
  im.check_failed_locked();
  const std::uint64_t target = im.next_seq - 1;
  im.sync_locked(lk);
  // A batch the group-commit thread took before us may still be in flight.
  im.space.wait(lk, [&] { return im.durable_seq >= target || !im.error.empty() || im.fd.get() < 0; });
  im.check_failed_locked();
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
  if (!im.error.empty()) throw Error(ErrorKind::io, "audit log unavailable: " + im.error);
  if (im.key && im.since_cp > 0) im.checkpoint_locked(true);
  im.sync_holding_locked();
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
  return s;
}

}  // namespace execgate
