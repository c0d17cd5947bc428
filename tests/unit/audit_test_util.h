// Helpers shared by the audit unit tests.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "execgate/audit.h"
#include "execgate/keys.h"

namespace execgate::audit_test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "execgate-audit-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    // Files may carry FS_APPEND_FL (tests run as root on a file system supporting it).
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(path_, ec)) {
      int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) continue;
      int flags = 0;
      if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_APPEND_FL)) {
        flags &= ~FS_APPEND_FL;
        ::ioctl(fd, FS_IOC_SETFLAGS, &flags);
      }
      ::close(fd);
    }
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

inline nlohmann::json rec(const std::string& line) { return nlohmann::json::parse(line); }

// Re-encodes a record after an edit with a correct hash (what an attacker without the
// signing key can do).
inline std::string rehash(nlohmann::json r) {
  r.erase("hash");
  std::string c = audit_canonical(r);
  std::string l = audit_line(c, audit_hash_hex(c));
  l.pop_back();
  return l;
}

// Recomputes prev/hash (and seq when renumber) of lines[from..] so the chain is consistent.
inline void rechain(std::vector<std::string>& lines, std::size_t from, bool renumber = false) {
  std::string prev = from == 0 ? std::string(kAuditGenesisPrev) : rec(lines[from - 1])["hash"].get<std::string>();
  std::uint64_t seq = from == 0 ? 1 : rec(lines[from - 1])["seq"].get<std::uint64_t>() + 1;
  for (std::size_t i = from; i < lines.size(); ++i) {
    auto r = rec(lines[i]);
    r["prev"] = prev;
    if (renumber) r["seq"] = seq++;
    lines[i] = rehash(r);
    prev = rec(lines[i])["hash"].get<std::string>();
  }
}

inline nlohmann::json exec_fields(int i) {
  return {{"event", "exec"},       {"verdict", i % 3 == 0 ? "deny" : "allow"},
          {"reason", i % 3 == 0 ? nlohmann::json("no_ticket") : nlohmann::json(nullptr)},
          {"pid", 1000 + i},       {"ppid", 1},
          {"uid", 0},              {"comm", "sh"},
          {"path", "/usr/bin/true"}, {"dev", 2049},
          {"ino", 123456 + i},     {"ticket", nullptr},
          {"lineage", nlohmann::json::array()}};
}

struct Keys {
  explicit Keys(const TempDir& dir, const std::string& name = "audit") {
    kp = generate_keypair();
    base = dir.file(name);
    save_keypair(kp, base);
  }
  KeyPair kp;
  std::string base;
  std::string key() const { return base + ".key"; }
  std::string pub() const { return base + ".pub"; }
};

// The log verified as `audit verify` does it at a clean stop: a final checkpoint required.
inline AuditVerifyResult verify_closed_log(const std::string& path, const Keys& keys) {
  AuditVerifyOptions strict;
  strict.require_final_checkpoint = true;
  return verify_audit(path, keys.kp.pub, strict);
}

inline AuditOptions test_options(const TempDir& dir, const Keys& keys) {
  AuditOptions o;
  o.path = dir.file("audit.jsonl");
  o.signing_key_path = keys.key();
  o.checkpoint_every = 10;
  o.checkpoint_interval = std::chrono::hours(1);  // deterministic: count-based only
  o.fsync_interval = std::chrono::milliseconds(5);
  o.try_append_only = false;  // tests edit the files; AuditWriter.AppendOnly covers the flag
  return o;
}

// Writes n exec records and closes (final checkpoint).
inline void write_log(const AuditOptions& o, int n, int start = 0) {
  auto log = AuditLog::open(o);
  for (int i = 0; i < n; ++i) log->append(exec_fields(start + i));
  log->close();
}

}  // namespace execgate::audit_test
