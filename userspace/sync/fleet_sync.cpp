#include "sync/fleet_sync.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <thread>

#include "common/fs.h"
#include "execgate/error.h"
#include "fleet/etcd_json.h"

namespace execgate::sync {
using nlohmann::json;

namespace {

void log(const std::string& msg) { std::fprintf(stderr, "execgate-sync: %s\n", msg.c_str()); }

// Sleeps up to d, in steps that notice stop.
void nap(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(100)));
}

}  // namespace

FleetSync::FleetSync(SyncOptions options, fleet::EtcdClient& watch_client, fleet::EtcdClient& read_client,
                     DaemonPort& daemon)
    : opts_(std::move(options)),
      watch_client_(watch_client),
      read_client_(read_client),
      daemon_(daemon),
      ranges_(opts_.layout.watched()),
      seen_(ranges_.size()) {
  try {
    const json j = json::parse(read_file(opts_.state_file, 4096));
    persisted_ = j.at("revision").get<std::int64_t>();
  } catch (const IoError& e) {
    if (e.kind() != ErrorKind::not_found) throw;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::validation, opts_.state_file + ": corrupted sync state: " + e.what());
  }
  for (auto& r : seen_) r.seen = persisted_;
  applied_ = persisted_;
}

std::int64_t FleetSync::applied() const {
  std::lock_guard lk(mu_);
  return applied_;
}

std::int64_t FleetSync::resume_from() const {
  std::lock_guard lk(mu_);
  std::int64_t low = seen_.front().seen;
  for (const auto& r : seen_) low = std::min(low, r.seen);
  return low;
}

std::string FleetSync::last_error() const {
  std::lock_guard lk(mu_);
  return contact_error_.empty() ? watch_error_ : contact_error_;
}

void FleetSync::note_error(std::string& slot, const std::string& what) {
  std::lock_guard lk(mu_);
  if (what != slot && !what.empty()) log(what);
  slot = what;
}

void FleetSync::persist() {
  const std::int64_t r = resume_from();
  if (r == persisted_) return;
  write_file_atomic(opts_.state_file, json{{"revision", r}}.dump() + "\n", 0600);
  persisted_ = r;
}

void FleetSync::apply_put(std::size_t range, const std::string& key, const std::string& value, std::int64_t mod) {
  const json reply = daemon_.submit(value, key);  // throws: the event is applied again at the resume
  const bool installed = reply.value("result", "") != "refused";
  ++(installed ? counters_.submitted : counters_.refused);
  if (!installed)
    log("refused " + key + ": " + reply.value("reason", std::string("?")) + ": " + reply.value("detail", std::string()));
  std::lock_guard lk(mu_);
  seen_[range].keys[key] = mod;
  seen_[range].top = std::max(seen_[range].top, mod);
}

void FleetSync::forget(const std::string& key) {
  daemon_.forget(key);
  ++counters_.forgotten;
}

void FleetSync::apply_delete(std::size_t range, const std::string& key) {
  forget(key);
  std::lock_guard lk(mu_);
  if (seen_[range].keys.erase(key)) seen_[range].top_stale = true;
}

std::int64_t FleetSync::Range::newest() {
  if (top_stale) {
    top = 0;
    for (const auto& [k, m] : keys) top = std::max(top, m);
    top_stale = false;
  }
  return top;
}

void FleetSync::full_read() {
  ++counters_.full_reads;
  std::vector<fleet::RangeResult> read(ranges_.size());
  std::int64_t at = 0;
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    read[i] = watch_client_.range_prefix(ranges_[i], at);
    if (!at) at = read[i].revision;
  }
  std::set<std::string> present;
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    {
      std::lock_guard lk(mu_);
      seen_[i].keys.clear();
      seen_[i].top = 0;
      seen_[i].top_stale = false;
    }
    for (const auto& kv : read[i].kvs) {
      apply_put(i, kv.key, kv.value, kv.mod_revision);
      present.insert(kv.key);
    }
  }
  // what the daemon holds from keys etcd no longer has (deleted while this host was away,
  // or before a compaction): deletion only narrows
  const std::string prefix = opts_.layout.prefix + "/";
  for (const auto& key : daemon_.fleet_keys())
    if (key.starts_with(prefix) && !present.count(key)) forget(key);
  {
    std::lock_guard lk(mu_);
    for (auto& r : seen_) r.seen = at;
    applied_ = std::max(applied_, at);
    events_ = true;
  }
  persist();
  wake_.notify_all();
}

void FleetSync::watch_once(const std::atomic<bool>& stop) {
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const auto& r : ranges_) ranges.emplace_back(r, fleet::prefix_end(r));
  watch_client_.watch(ranges, resume_from() + 1, [&](std::size_t i, const fleet::WatchResponse& w) {
    note_error(watch_error_, "");  // the watch runs
    if (w.events.empty()) {
      // a progress notification: nothing in this range up to the revision (minus one:
      // etcd 3.4.23 may send it before an event of that very revision)
      if (w.progress()) {
        std::lock_guard lk(mu_);
        seen_[i].seen = std::max(seen_[i].seen, w.revision - 1);
      }
      return !stop;
    }
    for (const auto& ev : w.events) {
      if (ev.type == fleet::WatchEvent::Type::put) apply_put(i, ev.kv.key, ev.kv.value, ev.kv.mod_revision);
      else apply_delete(i, ev.kv.key);
      std::lock_guard lk(mu_);
      seen_[i].seen = std::max(seen_[i].seen, ev.kv.mod_revision);
    }
    persist();
    {
      std::lock_guard lk(mu_);
      events_ = true;
    }
    wake_.notify_all();
    return !stop;
  }, stop);
}

bool FleetSync::contact_once() {
  {
    // cleared before the reads: events the watch applies meanwhile wake the next contact
    std::lock_guard lk(mu_);
    events_ = false;
  }
  try {
    std::vector<fleet::RangeResult> newest(ranges_.size());
    std::int64_t at = 0;
    for (std::size_t i = 0; i < ranges_.size(); ++i) {
      newest[i] = read_client_.newest(ranges_[i], fleet::prefix_end(ranges_[i]), at);
      if (!at) at = newest[i].revision;
    }
    std::int64_t applied = 0;
    {
      std::lock_guard lk(mu_);
      bool caught_up = true;
      for (std::size_t i = 0; i < ranges_.size(); ++i) {
        const std::int64_t theirs = newest[i].kvs.empty() ? 0 : newest[i].kvs.front().mod_revision;
        caught_up = caught_up && newest[i].count == static_cast<std::int64_t>(seen_[i].keys.size()) &&
                    theirs == seen_[i].newest();
      }
      if (caught_up) {
        applied_ = std::max(applied_, at);
        for (auto& r : seen_) r.seen = std::max(r.seen, at);
      }
      applied = applied_;
    }
    persist();
    const json reply = daemon_.contact(applied);
    ++counters_.contacts;
    if (reply.contains("ack") && reply["ack"].is_string()) {
      read_client_.put(opts_.layout.ack(opts_.layout.host), reply["ack"].get<std::string>());
      ++counters_.acks;
    }
    if (reply.contains("audit_checkpoint") && reply["audit_checkpoint"].is_string()) {
      try {  // the contact was made whether or not this works
        publish_checkpoint(reply["audit_checkpoint"].get<std::string>());
        note_error(publish_error_, "");
      } catch (const std::exception& e) {
        note_error(publish_error_, std::string("checkpoint not published: ") + e.what());
      }
    }
    note_error(contact_error_, "");
    return true;
  } catch (const std::exception& e) {
    ++counters_.contact_failures;
    note_error(contact_error_, std::string("no contact: ") + e.what());
    return false;
  }
}

void FleetSync::publish_checkpoint(const std::string& line) {
  std::uint64_t seq = 0;
  try {
    seq = json::parse(line).at("seq").get<std::uint64_t>();
  } catch (const json::exception& e) {
    throw Error(ErrorKind::parse, std::string("the daemon's checkpoint does not parse: ") + e.what());
  }
  const auto now = std::chrono::steady_clock::now();
  if (seq <= published_seq_ || (published_seq_ != 0 && now - published_at_ < opts_.publish_every)) return;
  const std::string key = opts_.layout.checkpoint(opts_.layout.host, seq);
  if (read_client_.create(key, line)) {
    ++counters_.checkpoints;
  } else {
    // published before (a restart): the same line, or a log that diverged from what was
    // published, which `execgate audit verify --fleet` reports; never overwritten
    const auto there = read_client_.range(key);
    if (there.kvs.empty() || there.kvs.front().value != line) {
      ++counters_.checkpoint_conflicts;
      log(key + " holds another checkpoint than the log's seq " + std::to_string(seq) +
          ": the audit log diverged from what it published (execgate audit verify --fleet)");
    }
  }
  published_seq_ = seq;
  published_at_ = now;
}

void FleetSync::contact_loop(const std::atomic<bool>& stop) {
  while (!stop) {
    contact_once();
    std::unique_lock lk(mu_);
    wake_.wait_for(lk, opts_.contact_every, [&] { return events_ || stop; });
  }
}

void FleetSync::run(const std::atomic<bool>& stop) {
  std::thread contacts([&] { contact_loop(stop); });
  bool need_full = resume_from() == 0;
  auto backoff = opts_.backoff_first;
  while (!stop) {
    try {
      if (need_full) full_read();
      need_full = false;
      backoff = opts_.backoff_first;
      watch_once(stop);
    } catch (const fleet::EtcdError& e) {
      ++counters_.watch_failures;
      if (e.kind() == fleet::EtcdErrorKind::compacted) {
        note_error(watch_error_, std::string("the watch's revision was compacted: reading everything again (") + e.what() + ")");
        need_full = true;
        continue;
      }
      note_error(watch_error_, std::string("watch: ") + e.what());
      nap(backoff, stop);
      backoff = std::min(backoff * 2, opts_.backoff_max);
    } catch (const std::exception& e) {  // the daemon unreachable, a state file not written
      ++counters_.watch_failures;
      note_error(watch_error_, std::string("watch: ") + e.what());
      nap(backoff, stop);
      backoff = std::min(backoff * 2, opts_.backoff_max);
    }
  }
  wake_.notify_all();
  contacts.join();
}

}  // namespace execgate::sync
