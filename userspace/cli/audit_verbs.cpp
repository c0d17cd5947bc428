// audit verify / audit tail (docs/audit.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "audit_fleet.h"
#include "cli.h"
#include "execgate/audit.h"
#include "execgate/error.h"
#include "execgate/names.h"
#include "common/fs.h"

namespace execgate::cli {

namespace {

std::string scalar(const nlohmann::json& v) {
  if (v.is_string()) return printable(v.get_ref<const std::string&>());
  if (v.is_null()) return "-";
  return printable(v.dump());
}

// One readable line for a record (raw line passed through when it is not JSON).
std::string render(std::string_view line) {
  nlohmann::json r = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (r.is_discarded() || !r.is_object()) return "?? " + printable(line);
  auto get = [&](const char* k) { return r.contains(k) ? scalar(r[k]) : std::string("-"); };
  std::string out = get("time") + "  #" + get("seq") + "  ";
  const std::string event = r.value("event", "?");
  const auto kind = parse_event(event);
  if (kind == EventKind::exec || kind == EventKind::access) {
    if (kind == EventKind::access) out += event + " " + get("hook") + "  ";
    out += get("verdict") + "  " + get("reason") + "  pid=" + get("pid") + " ppid=" + get("ppid") + " uid=" +
           get("uid") + " comm=" + get("comm") + "  " + get("path") + "  ticket=" + get("ticket");
    return out;
  }
  out += printable(event);
  static const char* kSkip[] = {"time", "seq", "event", "prev", "hash", "sig"};
  for (auto& [k, v] : r.items()) {
    bool skip = false;
    for (const char* s : kSkip) skip = skip || k == s;
    if (!skip) out += "  " + printable(k) + "=" + scalar(v);
  }
  return out;
}

void emit(std::string_view line, bool json) {
  if (json)
    std::cout << line << "\n";
  else
    std::cout << render(line) << "\n";
}

struct TailOpts {
  std::string log = kDefaultAuditPath;
  bool follow = false;
  std::size_t lines = 10;
};

int run_tail(const TailOpts& o, bool json) {
  const std::string live = audit_live_path(o.log);
  // Last N complete lines across the newest files.
  auto files = audit_log_files(o.log);
  std::deque<std::string> last;
  for (auto it = files.rbegin(); it != files.rend() && last.size() < o.lines; ++it) {
    std::string data = read_file(*it, std::size_t{1} << 32);
    std::size_t end = data.rfind('\n');
    if (end == std::string::npos) continue;
    std::deque<std::string> mine;
    std::size_t pos = end;
    while (last.size() + mine.size() < o.lines) {
      std::size_t start = pos == 0 ? std::string::npos : data.rfind('\n', pos - 1);
      std::size_t b = start == std::string::npos ? 0 : start + 1;
      mine.push_front(data.substr(b, pos - b));
      if (start == std::string::npos) break;
      pos = start;
    }
    last.insert(last.begin(), mine.begin(), mine.end());
  }
  if (files.empty() && !o.follow) throw Error(ErrorKind::not_found, live + ": no audit log found");
  for (const auto& l : last) emit(l, json);
  std::cout.flush();
  if (!o.follow) return 0;

  // Follow: read from the current end of the live file. On rotation (inode changed) drain
  // the old file, print the rotated files that appeared since (several rotations may
  // happen between polls), then continue with the new live file from its start. Records
  // are deduplicated by seq.
  std::uint64_t last_seq = 0;
  auto seq_of = [](std::string_view line) -> std::uint64_t {
    nlohmann::json r = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (r.is_object() && r.contains("seq") && r["seq"].is_number_unsigned()) return r["seq"].get<std::uint64_t>();
    return 0;
  };
  for (const auto& l : last) last_seq = std::max(last_seq, seq_of(l));
  auto emit_new = [&](std::string_view line) {
    std::uint64_t s = seq_of(line);
    if (s != 0 && s <= last_seq) return;
    if (s != 0) last_seq = s;
    emit(line, json);
  };
  UniqueFd fd;
  ino_t ino = 0;
  std::string partial;
  auto open_live = [&](bool at_end) {
    fd.reset(::open(live.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    partial.clear();
    if (!fd) return;
    struct stat st {};
    ::fstat(fd.get(), &st);
    ino = st.st_ino;
    if (at_end) ::lseek(fd.get(), 0, SEEK_END);
  };
  auto drain = [&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n <= 0) break;
      partial.append(buf, static_cast<std::size_t>(n));
      std::size_t p;
      while ((p = partial.find('\n')) != std::string::npos) {
        emit_new(std::string_view(partial).substr(0, p));
        partial.erase(0, p + 1);
      }
    }
    std::cout.flush();
  };
  auto catch_up_rotated = [&] {
    for (const auto& f : audit_log_files(o.log)) {
      if (f == live || f.size() < 20) continue;
      std::uint64_t first = std::strtoull(f.substr(f.size() - 20).c_str(), nullptr, 10);
      if (first <= last_seq) continue;
      std::string data = read_file(f, std::size_t{1} << 32);
      std::size_t pos = 0, nl;
      while ((nl = data.find('\n', pos)) != std::string::npos) {
        emit_new(std::string_view(data).substr(pos, nl - pos));
        pos = nl + 1;
      }
    }
    std::cout.flush();
  };
  open_live(true);
  for (;;) {
    if (fd) drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    struct stat st {};
    if (::stat(live.c_str(), &st) != 0) continue;  // between rename and re-create
    if (!fd || st.st_ino != ino) {
      if (fd) drain();
      catch_up_rotated();
      open_live(false);
    }
  }
}

struct VerifyOpts {
  std::string log = kDefaultAuditPath;
  std::vector<std::string> pubs;
  bool strict = false;
  bool allow_pruned = false;
  std::string expect_head;  // SEQ:HASH
  bool fleet = false;        // and the checkpoints this host published
  std::string host, machine_id = "/etc/machine-id";
  fleet_verbs::ConnectionOptions conn;
};

int run_verify(const VerifyOpts& o, bool json) {
  std::vector<PublicKey> keys;
  for (const auto& p : o.pubs) keys.push_back(load_public_key(p));
  if (keys.empty() && !o.fleet)
    throw Error(ErrorKind::usage, "audit verify: --pub NAME.pub is required (or --fleet: the host's approved key)");
  AuditVerifyOptions vo;
  vo.require_final_checkpoint = o.strict;
  vo.allow_pruned_start = o.allow_pruned;
  if (!o.expect_head.empty()) {
    const auto colon = o.expect_head.find(':');
    const std::string seq = o.expect_head.substr(0, colon);
    const std::string hash = colon == std::string::npos ? "" : o.expect_head.substr(colon + 1);
    bool digits = !seq.empty() && seq.size() <= 19;
    for (char c : seq) digits = digits && c >= '0' && c <= '9';
    if (!digits || std::stoull(seq) == 0 || hash.size() != 64 ||
        hash.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw Error(ErrorKind::usage, "--expect-head: expected SEQ:HASH (seq >= 1, 64 lower-case hex)");
    vo.expect_heads[std::stoull(seq)] = {hash, "--expect-head"};
  }
  std::optional<fleet_verbs::PublishedHeads> published;
  if (o.fleet) {
    const std::string host = o.host.empty() ? read_machine_id(o.machine_id) : o.host;
    published = fleet_verbs::published_heads(o.conn, host);
    if (std::find(keys.begin(), keys.end(), published->key) == keys.end()) keys.push_back(published->key);
    for (const auto& [seq, head] : published->heads) {
      const auto [it, fresh] = vo.expect_heads.insert({seq, head});
      if (!fresh && it->second.hash != head.hash)
        throw Error(ErrorKind::verification, "--expect-head " + std::to_string(seq) + " differs from the " + head.from);
    }
  }
  AuditVerifyResult r = verify_audit(o.log, keys, vo);
  if (json) {
    nlohmann::json j = r.to_json();
    std::vector<std::string> ids;
    for (const auto& k : keys) ids.push_back(k.key_id());
    j["key_ids"] = ids;
    if (published)
      j["fleet"] = {{"host", published->host},           {"key_id", published->key.key_id()},
                    {"approved_by", published->approved_by}, {"checkpoints", published->checkpoints},
                    {"first_seq", published->first_seq},  {"last_seq", published->last_seq}};
    std::cout << j.dump(2) << "\n";
  } else if (r.ok) {
    std::cout << "OK: " << r.records << " records (seq " << r.first_seq << ".." << r.last_seq << ") in "
              << r.files.size() << " file(s), " << r.checkpoints << " valid checkpoint(s), signed through seq "
              << r.last_signed_seq << "\n";
    for (const auto& k : keys) std::cout << "key id: " << k.key_id() << "\n";
    if (published)
      std::cout << "fleet: host " << published->host << " published " << published->checkpoints
                << " checkpoint(s) (seq " << published->first_seq << ".." << published->last_seq << "), key "
                << published->key.key_id() << " approved by " << published->approved_by
                << ": the log holds every one\n";
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
  } else {
    std::cout << "BROKEN at seq " << (r.first_bad_seq ? std::to_string(*r.first_bad_seq) : "?") << ": " << r.reason
              << "\n  at " << r.file << ":" << r.line << "\n";
    if (r.untrusted_from)
      std::cout << "  records from seq " << *r.untrusted_from << " on are not covered by a valid signature\n";
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
  }
  return r.ok ? 0 : static_cast<int>(ExitCode::denied);
}

}  // namespace

void add_audit_verbs(CLI::App& app, Cli& cli) {
  auto* audit = app.add_subcommand("audit", "verify or read the audit log");
  audit->require_subcommand(1);

  auto vo = std::make_shared<VerifyOpts>();
  auto* verify = audit->add_subcommand("verify", "check the hash chain and signed checkpoints; exit 3 when broken");
  verify->add_option("log", vo->log, "audit log file or directory")->capture_default_str();
  verify->add_option("--pub", vo->pubs,
                     "audit signing public key NAME.pub (repeat for rotated keys; with --fleet, the approved key is added)")
      ->allow_extra_args(false);
  verify->add_flag("--strict", vo->strict, "the log must end with a checkpoint (closed logs)");
  verify->add_flag("--allow-pruned", vo->allow_pruned, "accept a log whose oldest files were removed");
  verify->add_option("--expect-head", vo->expect_head,
                     "SEQ:HASH known from elsewhere (shipped checkpoint); detects truncation of the tail");
  verify->add_flag("--fleet", vo->fleet,
                   "and the checkpoints this host published to the fleet's etcd (docs/fleet.md): each must be in the log");
  verify->add_option("--host", vo->host, "with --fleet: the host's machine id (default: --machine-id's)");
  verify->add_option("--machine-id", vo->machine_id, "with --fleet: this host's machine id file")->capture_default_str();
  fleet_verbs::add_connection_options(*verify, vo->conn);
  verify->callback([&cli, vo] { cli.action = [&cli, vo] { return run_verify(*vo, cli.json); }; });

  auto to = std::make_shared<TailOpts>();
  auto* tail = audit->add_subcommand("tail", "print recent audit records readably");
  tail->add_option("log", to->log, "audit log file or directory")->capture_default_str();
  tail->add_flag("-f,--follow", to->follow, "keep printing new records (follows rotation)");
  tail->add_option("-n,--lines", to->lines, "number of records to print first")->capture_default_str();
  tail->callback([&cli, to] { cli.action = [&cli, to] { return run_tail(*to, cli.json); }; });
}

}  // namespace execgate::cli
