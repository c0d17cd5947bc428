// Kernel events to audit records (docs/audit.md): the event thread's only job. It never
// waits for the daemon's lock: the paths it names files by and the tickets whose last use
// it saw have locks of their own.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "gate/gate.h"
#include "execgate/policy.h"

namespace execgate {

class EventRecorder {
 public:
  using AuditSink = std::function<void(nlohmann::json)>;
  explicit EventRecorder(AuditSink audit) : audit_(std::move(audit)) {}

  // One kernel event -> one `exec` or `access` record. An exec that took a ticket's last
  // use is remembered for take_last_uses().
  void record(const eg_event& ev);
  // The tickets whose last use was seen since the last call (the control thread spends them).
  std::set<std::string> take_last_uses();

  // Paths of the files the daemon installed or pinned, by (dev, ino): the kernel leaves
  // the path out of events it allowed through them.
  void set_ticket_paths(std::map<InodeKey, std::string> paths);
  void set_baseline_paths(std::map<InodeKey, std::string> paths);

 private:
  std::string known_path(const InodeKey& key) const;

  AuditSink audit_;
  mutable std::mutex paths_mu_;
  std::map<InodeKey, std::string> ticket_paths_, baseline_paths_;
  std::mutex last_use_mu_;
  std::set<std::string> last_use_;
};

}  // namespace execgate
