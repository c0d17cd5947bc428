// Helpers of the rollout tests: a synthetic audit log written by the project's own writer
// (records shaped like the daemon's), a fake host, candidate policies and tickets.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit_test_util.h"
#include "common/encoding.h"
#include "common/fs.h"
#include "execgate/policy.h"
#include "execgate/ticket.h"
#include "rollout/audit_reading.h"
#include "rollout/host_view.h"

namespace execgate::rollout_test {

using audit_test::TempDir;
using nlohmann::json;

inline constexpr std::uint64_t kGatedCgroup = 7001;  // resolves to /ci/job-1
inline constexpr std::uint64_t kOtherCgroup = 7002;  // resolves to /other
inline constexpr std::uint64_t kGoneCgroup = 7003;   // resolves to nothing
inline const std::string kMachine = "0123456789abcdef0123456789abcdef";

// An exec record as the daemon writes it (event_recorder.cpp).
inline json exec_record(const std::string& path, const std::string& verdict, const std::string& reason,
                        std::uint32_t pid = 100, std::uint32_t uid = 0, std::uint64_t cgroup = kGatedCgroup,
                        const std::string& hook = "exec", std::uint32_t ppid = 1) {
  return {{"event", "exec"},
          {"hook", hook},
          {"verdict", verdict},
          {"reason", reason},
          {"pid", pid},
          {"ppid", ppid},
          {"uid", uid},
          {"comm", path.empty() ? "sh" : path.substr(path.rfind('/') + 1)},
          {"path", path.empty() ? json(nullptr) : json(path)},
          {"dev", "8:1"},
          {"ino", 42},
          {"ticket", nullptr},
          {"lineage", json::array()},
          {"cgroup", cgroup},
          {"kernel_time_ns", 1'700'000'000'000'000'000}};
}

// The record with another inode.
inline json with_ino(json r, std::uint64_t ino) {
  r["ino"] = ino;
  return r;
}

// An executable mapping as the kernel records it: the file named only by its name.
inline json mapping_record(const std::string& name, std::uint64_t ino, const std::string& verdict,
                           const std::string& reason, std::uint32_t pid = 100) {
  json r = exec_record("/" + name, verdict, reason, pid, 0, kGatedCgroup, "mmap_exec");
  r["path"] = name;
  r["ino"] = ino;
  return r;
}

// A refusal of another operation (an `access` record).
inline json access_record(const std::string& hook, const std::string& reason, const std::string& capability = "") {
  json r = exec_record("", "monitor_deny", reason, 300, 0, kGatedCgroup, hook);
  r["event"] = "access";
  r["comm"] = "ip";
  if (!capability.empty()) r["capability"] = capability;
  return r;
}

// Writes the records (and whatever the daemon writes around them) with the audit writer.
inline std::string write_log(const TempDir& dir, const std::vector<json>& records, const std::string& signing_key = "") {
  AuditOptions o;
  o.path = dir.file("audit.jsonl");
  o.signing_key_path = signing_key;
  o.checkpoint_every = 5;
  o.fsync_interval = std::chrono::milliseconds(1);
  o.try_append_only = false;
  auto log = AuditLog::open(o);
  log->append({{"event", "daemon_start"}, {"reason", "fresh"}, {"detail", "policy p.toml, mode monitor"}});
  for (const auto& r : records) log->append(r);
  log->close();
  return o.path;
}

class FakeHost final : public HostView {
 public:
  std::map<std::string, HostFile> files;
  std::map<std::string, std::string> digests;  // path -> sha256 hex
  std::map<std::string, std::string> links;    // path -> the path it resolves to
  std::map<std::uint64_t, std::string> cgroups{{kGatedCgroup, "/ci/job-1"}, {kOtherCgroup, "/other"}};

  void root_file(const std::string& path, std::uint32_t mode = 0100755) { files[path] = HostFile{true, 0, mode}; }
  void user_file(const std::string& path, std::uint32_t uid = 1000) { files[path] = HostFile{true, uid, 0100755}; }

  std::optional<HostFile> stat(const std::string& path) const override {
    auto it = files.find(canonical(path));
    if (it == files.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> sha256(const std::string& path) const override {
    auto it = digests.find(canonical(path));
    if (it == digests.end()) return std::nullopt;
    return it->second;
  }
  std::string canonical(const std::string& path) const override {
    for (const auto& [from, to] : links)
      if (path == from || path.rfind(from + "/", 0) == 0) return to + path.substr(from.size());
    return path;
  }
  std::optional<std::string> cgroup_path(std::uint64_t id) const override {
    auto it = cgroups.find(id);
    if (it == cgroups.end()) return std::nullopt;
    return it->second;
  }
};

// An issuer key in dir (NAME.key, NAME.pub).
struct Issuer {
  Issuer(const TempDir& dir, const std::string& base) {
    kp = generate_keypair();
    save_keypair(kp, dir.file(base));
    pub = dir.file(base + ".pub");
  }
  std::string pub;
  KeyPair kp;
};

// A ticket for `paths` (digest of each: `digest_hex`), valid [now - 60, now + ttl).
inline TicketBody ticket_for(const std::vector<std::string>& paths, std::int64_t now, std::int64_t ttl = 3600,
                             const std::string& digest_hex = std::string(64, 'a')) {
  TicketBody t;
  t.id = new_ticket_id();
  t.issued_at = now - 60;
  t.not_before = now - 60;
  t.not_after = now + ttl;
  for (const auto& p : paths) {
    Subject s;
    Bytes raw = hex_decode(digest_hex);
    std::copy(raw.begin(), raw.end(), s.sha256.begin());
    s.path = p;
    t.subjects.push_back(s);
  }
  t.hosts = {kMachine};
  t.initiator = "test";
  t.purpose = "test";
  t.policy = "ci";
  return t;
}

inline void put_ticket(const TempDir& dir, const std::string& name, const TicketBody& t, const Issuer& by) {
  write_file_atomic(dir.file("tickets/" + name), sign_ticket(t, by.kp.secret), 0644);
}

// The candidate policy: mode, the /ci scope, /usr/bin as baseline, one issuer.
inline Policy candidate(const Issuer& ops, const std::string& mode = "enforce", const std::string& extra = "") {
  return parse_policy("name = \"ci\"\nmode = \"" + mode +
                          "\"\n[scope]\ncgroups = [\"/ci\"]\n" + extra +
                          "[baseline]\npaths = [\"/bin\"]\n[[issuer]]\nname = \"ops\"\npubkey = \"" + ops.pub +
                          "\"\nmax_ttl = \"1d\"\n",
                      "candidate.toml");
}

}  // namespace execgate::rollout_test
