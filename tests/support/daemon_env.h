// One daemon's world with no kernel, for unit tests and the fleet bench: a temporary
// directory holding its state directory, audit log, policy directory, issuer keys, host id
// and the files its tickets name; a FakeGate, a FakeCgroups and a fixed clock. boot() starts
// a GateDaemon over it as execgated starts one; shut_down() then boot() is a restart (the
// pinned maps kept, or not: fresh_kernel()).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "execgate/audit.h"
#include "execgate/clock.h"
#include "execgate/keys.h"
#include "execgate/policy.h"
#include "fake_cgroups.h"
#include "fake_gate.h"
#include "fake_job_cgroups.h"
#include "gate_daemon.h"

namespace execgate::test {

class DaemonEnv {
 public:
  // The policy: enforce, one scope cgroup (/ci.slice), no baseline, the issuer "ops"
  // (its key made here), the audit log, the metrics file and the socket under the directory.
  DaemonEnv();
  ~DaemonEnv();
  DaemonEnv(const DaemonEnv&) = delete;
  DaemonEnv& operator=(const DaemonEnv&) = delete;

  // Starts a daemon as execgated does: open_state(), the daemon_start record naming the
  // state key, start(). Throws what they throw (then no daemon is running).
  GateDaemon& boot();
  // The daemon gone (as at a stop or a crash) and the audit log closed, then opened again.
  void shut_down();
  // A reboot: the pinned maps are gone (a new, empty FakeGate).
  void fresh_kernel();
  GateDaemon& daemon() { return *daemon_; }
  bool running() const { return daemon_ != nullptr; }
  FakeGate& gate() { return *gate_; }
  AuditLog& audit() { return *audit_; }

  // A new issuer trusted by the policy (its key made under the directory).
  const KeyPair& add_issuer(const std::string& name);
  const KeyPair& issuer(const std::string& name) const;

  // A file under files/ holding CONTENT (replaced when it exists); its inode as the kernel
  // names it.
  InodeKey make_file(const std::string& name, const std::string& content);
  std::string file_path(const std::string& name) const;
  InodeKey key_of(const std::string& name) const;

  // A ticket for the files (names under files/, hashed as they are now), valid from now - 10
  // for ttl seconds, for this host, signed by the issuer.
  struct TicketSpec {
    std::vector<std::string> files;
    std::int64_t ttl = 3600;
    std::uint64_t max_uses = 0;
    std::optional<std::string> parent;
    std::string issuer = "ops";
    std::vector<std::string> delegation;  // a delegate's ticket: its chain, root first
    const SecretKey* signer = nullptr;    // ... signed with the delegate's key
    std::vector<std::string> hosts;       // default: this host
    std::optional<std::string> job;       // bound to this job
    bool builder = false;
  };
  std::string issue(const TicketSpec& spec);
  std::string ticket(const std::vector<std::string>& files, std::int64_t ttl = 3600) {
    return issue(TicketSpec{files, ttl});
  }
  std::string revocation(const std::vector<std::string>& ticket_ids, const std::string& issuer_name = "ops");
  static std::string id_of(const std::string& envelope);

  // A submission as the control socket makes one (source "test"): the daemon's answer.
  nlohmann::json submit(const std::string& envelope);
  // The id of the ticket whose entry the kernel holds for KEY, pending or sealed ("": none).
  std::string holder(const InodeKey& key) const;

  // The audit log's records (flushed first), and whether one has this event, reason and ticket.
  std::vector<nlohmann::json> audit_records();
  bool audited(const std::string& event, const std::string& reason, const std::string& ticket_id = "");

  // A unique path for a temporary tree (removed with the environment).
  std::filesystem::path dir;
  FixedClock clock;
  FakeCgroups cgroups;
  FakeJobCgroups job_cgroups;
  Policy policy;
  DaemonPaths paths;
  std::string machine_id = "0123456789abcdef0123456789abcdef";

 private:
  AuditOptions audit_options() const;

  std::unique_ptr<FakeGate> gate_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<GateDaemon> daemon_;
  std::map<std::string, KeyPair> issuers_;
};

// Up to N regular files that no one but root can write, with distinct inodes (from
// /usr/bin, /bin, /usr/sbin): baseline pins any unit test may take, whatever its user.
std::vector<std::string> root_owned_files(std::size_t n);

}  // namespace execgate::test
