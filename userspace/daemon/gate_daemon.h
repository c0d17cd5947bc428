// The daemon's core: installs verified tickets into the kernel maps, applies revocations,
// expires and spends tickets, reconciles state with the kernel, and turns kernel events
// into audit records. Thread-safe: the control server and the event thread call in.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "authority.h"
#include "execgate/audit.h"
#include "execgate/gate.h"
#include "execgate/policy.h"
#include "state_store.h"
#include "subject_resolver.h"

namespace execgate {

struct DaemonPaths {
  std::string config;
  std::string state_dir = "/var/lib/execgate";
  std::string socket = "/run/execgate/execgated.sock";
  std::string pin_dir = kDefaultPinDir;
};

class GateDaemon {
 public:
  GateDaemon(Policy policy, DaemonPaths paths, Gate& gate, AuditLog& audit, const Clock& clock);

  // Applies the policy to the kernel (config, scope, baseline, loaders) and reconciles
  // the ticket map with the state directory both ways. Throws on corrupted state.
  void start();

  nlohmann::json handle(const nlohmann::json& request, std::uint32_t peer_uid);
  nlohmann::json submit(const std::string& envelope, const std::string& source);
  nlohmann::json tickets_json() const;
  nlohmann::json status_json() const;

  // Periodic: expire, notice spent uses, persist uses, report kernel event losses.
  void sweep();
  // SIGHUP: new policy; tickets whose issuer is gone are uninstalled.
  void reload(Policy policy);
  void on_event(const eg_event& ev);
  void note_drops();

  const Policy& policy() const { return policy_; }

 private:
  struct Installed {
    TicketBody body;
    std::string envelope;
    std::string issuer;  // issuer name
    std::string key_id;
    std::vector<ResolvedSubject> subjects;
    std::optional<std::int64_t> uses_left;
    bool spent = false;
  };

  void apply_policy();
  eg_config kernel_config() const;
  void pin_baseline();
  std::map<InodeKey, std::uint8_t> protected_inodes(std::set<std::pair<InodeKey, std::string>>& reserved) const;
  void install_locked(const std::string& id, Installed inst);
  void uninstall_locked(const std::string& id, const std::string& event, const std::string& reason);
  nlohmann::json revoke_locked(const VerifiedDocument& doc, const std::string& issuer);
  void audit_ticket(const std::string& event, const std::string& id, const std::string& reason,
                    nlohmann::json extra = nlohmann::json::object());
  std::int64_t kernel_uses_left(const Installed& inst) const;

  mutable std::mutex mu_;
  Policy policy_;
  DaemonPaths paths_;
  Gate& gate_;
  AuditLog& audit_;
  const Clock& clock_;
  StateStore store_;
  std::string machine_id_;
  std::unique_ptr<Authority> authority_;
  StateSnapshot state_;                        // tombstones / spent (installed mirrored below)
  std::map<std::string, Installed> installed_;  // by ticket id
  // (dev, ino) -> path for files the daemon installed or pinned: the kernel leaves the
  // path out of events it allowed through them. Own lock: the event thread must never
  // wait for a submit that is hashing files.
  mutable std::mutex paths_mu_;
  std::map<InodeKey, std::string> ticket_paths_, baseline_paths_;
  void index_ticket_paths_locked();
  std::string known_path(const InodeKey& key) const;
  std::vector<CgroupRef> scopes_;  // eg_config.scopes[] slots (scope_slots.h); id 0: an empty slot
  std::atomic<std::uint64_t> drops_reported_{0};
  std::size_t baseline_files_ = 0;
  std::size_t baseline_refused_ = 0;  // not pinned: writable by a user other than root
  std::int64_t started_at_ = 0;
};

}  // namespace execgate
