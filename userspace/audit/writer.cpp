// AuditLog: thread-safe appends, group commit, checkpoints, rotation and resume
// (docs/audit.md "Writer"). The pieces: chain.h (seq, prev, checkpoints), held_records.h
// (records not yet on disk), live_file.h (the file and its batches), durability.h and
// disk_reserve.h (the disk full), resume.h (open() of an existing log); the background
// commits are group_commit.cpp's.
#include <algorithm>
#include <filesystem>
#include <optional>

#include "execgate/error.h"
#include "execgate/names.h"
#include "resume.h"
#include "writer_impl.h"

namespace execgate {

namespace fs = std::filesystem;
using Clk = AuditLog::Impl::Clk;

namespace {
// Appenders wait (back-pressure) when this much is buffered and not yet written.
constexpr std::size_t kMaxPendingBytes = 16u << 20;

AuditOptions normalized(AuditOptions o) {
  if (o.fsync_max_records == 0) o.fsync_max_records = 1;
  return o;
}
}  // namespace

AuditLog::Impl::Impl(const AuditOptions& options, std::optional<SecretKey> key)
    : opt(normalized(options)),
      chain(std::move(key), opt.checkpoint_every),
      file(opt.path, opt.try_append_only, opt.write_syscall),
      reserve(opt.path + ".reserve", opt.reserve_bytes) {}

std::uint64_t AuditLog::Impl::emit_locked(const nlohmann::json& rec) {
  std::uint64_t seq = 0;
  file_bytes += held.add([&](std::string& buf) { seq = chain.append(buf, rec); });
  return seq;
}

void AuditLog::Impl::checkpoint_locked(bool final_cp) {
  file_bytes += held.add([&](std::string& buf) { chain.checkpoint(buf, final_cp); });
}

// Rotation waits for a batch in flight and is put off while the disk is full.
void AuditLog::Impl::before_append_locked(std::unique_lock<std::mutex>& lk) {
  while (file_bytes >= opt.rotate_bytes && chain.next_seq() > file_first_seq && !state.full && !state.failed()) {
    if (held.writing()) {
      space.wait(lk);
      continue;
    }
    rotate_locked();
    break;
  }
  if (chain.checkpoint_due()) checkpoint_locked(false);
}

void AuditLog::Impl::emit_own_locked(const nlohmann::json& rec) {
  if (chain.checkpoint_due()) checkpoint_locked(false);
  emit_locked(rec);
}

void AuditLog::Impl::emit_dropped_gap_locked() {
  if (nlohmann::json gap = held.take_dropped_gap(opt.max_held_bytes); !gap.is_null()) emit_own_locked(gap);
}

void AuditLog::Impl::set_durable_locked(bool d, std::string why) {
  if (state.set_durable(d, std::move(why))) wake.notify_one();
}

void AuditLog::Impl::write_failed_locked(const audit_detail::BatchWrite& r) {
  if (state.write_failed(r, opt.retry_interval)) wake.notify_one();
}

// Takes the held records and writes + fsyncs them. Called with mu held via lk; mu is
// released during the I/O (one batch at a time: held.writing()). A batch that fails goes
// back in front of the held records (order and chain kept) and the file is put back as it
// was.
void AuditLog::Impl::sync_locked(std::unique_lock<std::mutex>& lk) {
  if (held.empty() || state.failed() || held.writing()) return;
  audit_detail::HeldRecords::Batch batch = held.take();
  const std::uint64_t upto = chain.last_seq();
  std::unique_lock<std::mutex> iol(io);
  lk.unlock();
  const audit_detail::BatchWrite r = file.write(batch.bytes);
  iol.unlock();
  lk.lock();
  if (r.err != 0) {
    held.put_back(std::move(batch));
    write_failed_locked(r);
  } else {
    held.written();
    ++fsyncs;
    durable_seq = std::max(durable_seq, upto);
    state.written();
  }
  last_sync = Clk::now();
  space.notify_all();
  if (held.records() > 0 || !state.durable) {
    rearm = true;  // the flusher skipped its deadline while this batch was in flight
    wake.notify_one();
  }
}

// Writes the held records + fsync while holding mu (rotation/close: nothing may
// interleave). Returns false when the disk is full (records kept); throws on any other
// failure.
bool AuditLog::Impl::sync_holding_locked() {
  std::lock_guard<std::mutex> iol(io);
  const audit_detail::BatchWrite r = file.write(held.bytes());
  if (r.err != 0) {
    write_failed_locked(r);
    if (state.failed()) throw IoError(opt.path, r.err, r.what);
    return false;
  }
  held.clear();
  state.written();
  ++fsyncs;
  durable_seq = chain.last_seq();
  last_sync = Clk::now();
  space.notify_all();
  return true;
}

void AuditLog::Impl::rotate_locked() {
  if (chain.has_unsigned()) checkpoint_locked(false);
  try {
    if (!sync_holding_locked()) return;  // the disk full: rotate once writes work again
    std::lock_guard<std::mutex> iol(io);
    file.rotate_to(audit_rotated_name(opt.path, file_first_seq));
  } catch (const std::exception& e) {
    state.fail(e.what());
    throw;
  }
  file_bytes = 0;
  file_first_seq = chain.next_seq();
  ++rotations;
}

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<AuditLog> AuditLog::open(const AuditOptions& options) {
  ensure_sodium();
  if (options.path.empty()) throw Error(ErrorKind::usage, "audit log path is empty");
  if (options.checkpoint_every == 0) throw Error(ErrorKind::usage, "checkpoint_every must be at least 1");
  std::optional<SecretKey> key;
  if (!options.signing_key_path.empty()) key = load_secret_key(options.signing_key_path);
  auto impl = std::make_unique<Impl>(options, std::move(key));
  fs::path p(options.path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) throw IoError(p.parent_path().string(), ec.value(), "cannot create the audit directory");
  }
  const audit_detail::ResumedLog resumed = audit_detail::resume_log(impl->opt.path, impl->chain);
  impl->file_bytes = resumed.file_bytes;
  impl->file_first_seq = resumed.file_first_seq;
  const std::size_t torn = resumed.torn_bytes;
  impl->durable_seq = impl->chain.last_seq();  // what is already in the files
  impl->file.open();
  const Clk::time_point now = Clk::now();
  impl->last_sync = now;
  impl->chain.set_last_checkpoint_time(now);
  audit_detail::Durability& state = impl->state;
  if (impl->reserve.enabled()) {
    const std::optional<std::string> why = impl->reserve.make();
    state.reserve_whole = !why;
    if (why) {
      state.durable = false;
      state.stall_detail = *why;
      state.retry_at = Clk::now() + impl->opt.retry_interval;
    }
  }
  state.reported_durable = state.durable;
  if (impl->opt.on_durability) impl->opt.on_durability(state.durable);
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(impl)));
  if (torn > 0)
    log->append_gap(1, RecordReason::torn_write,
                    "truncated " + std::to_string(torn) +
                        " bytes of a partially written record at the end of the log (crash mid-write); records "
                        "buffered in memory at the crash are also lost");
  log->impl_->start_flusher();
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
    im.state.check_failed();
    if (im.state.full && im.held.held_bytes() >= im.opt.max_held_bytes) {
      im.held.drop();  // counted in a gap record before the next record that is kept
      return 0;
    }
    if (im.state.full || im.held.buffered_bytes() < kMaxPendingBytes) break;
    im.wake.notify_one();
    im.space.wait(lk, [&] {
      return im.held.buffered_bytes() < kMaxPendingBytes || im.state.failed() || im.closed || im.state.full;
    });
  }
  im.emit_dropped_gap_locked();
  im.before_append_locked(lk);
  const std::uint64_t seq = im.emit_locked(fields);
  if (im.held.records() >= im.opt.fsync_max_records) {
    im.wake.notify_one();
  } else if (im.held.records() == 1 || im.chain.since_checkpoint() == 1) {
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
  const std::uint64_t target = im.chain.last_seq();
  for (;;) {
    im.state.check_failed();
    if (im.durable_seq >= target || !im.file.is_open()) return;
    if (im.state.full)
      throw Error(ErrorKind::io, "audit log: records cannot be made durable now (" + im.state.full_error +
                                     "); they are held in memory and retried");
    if (im.held.writing())
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
  im.space.wait(lk, [&] { return !im.held.writing(); });  // a flush() of another thread
  im.state.check_failed();
  im.emit_dropped_gap_locked();
  if (im.chain.has_unsigned()) im.checkpoint_locked(true);
  if (!im.sync_holding_locked())
    throw Error(ErrorKind::io, "audit log: " + std::to_string(im.held.records()) +
                                   " records could not be written at close (" + im.state.full_error + ")");
  std::lock_guard<std::mutex> iol(im.io);
  im.file.close();
}

AuditStatus AuditLog::status() const {
  const Impl& im = *impl_;
  std::lock_guard<std::mutex> lk(im.mu);
  AuditStatus s;
  s.path = im.opt.path;
  s.records_written = im.chain.records_written();
  s.last_seq = im.chain.last_seq();
  s.last_hash = im.chain.head();
  s.durable_seq = im.durable_seq;
  s.fsync_count = im.fsyncs;
  s.checkpoints = im.chain.checkpoints();
  const auto& recent = im.chain.recent_checkpoints();
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    if (it->seq > im.durable_seq) continue;
    s.checkpoint_seq = it->seq;
    s.checkpoint_line = it->line;
    break;
  }
  s.rotations = im.rotations;
  {
    std::lock_guard<std::mutex> iol(im.io);
    s.append_only = im.file.append_only();
    s.append_only_detail = im.file.append_only_detail();
  }
  s.key_id = im.chain.key_id();
  s.failed = im.state.failed();
  s.error = im.state.error;
  s.durable = im.state.durable;
  s.disk_full = im.state.full;
  s.held_records = im.held.records();
  s.dropped_records = im.held.dropped_total();
  s.stall_detail = im.state.stall_detail;
  return s;
}

bool AuditLog::durable() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->state.durable;
}

}  // namespace execgate
