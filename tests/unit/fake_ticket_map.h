// A fake of the kernel's ticket map (TicketMap, include/gate/gate.h) for unit tests:
// a std::map, plus what the kernel would do on an exec (take a use).
#pragma once

#include <map>

#include "gate/gate.h"

namespace execgate::test {

class FakeTicketMap final : public TicketMap {
 public:
  void put_ticket(const InodeKey& key, const KernelTicket& value) override { entries[key] = value; }
  bool delete_ticket(const InodeKey& key) override { return entries.erase(key) > 0; }
  std::optional<KernelTicket> get_ticket(const InodeKey& key) const override {
    auto it = entries.find(key);
    if (it == entries.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::pair<InodeKey, KernelTicket>> tickets() const override { return {entries.begin(), entries.end()}; }

  // An exec of the file: the kernel takes a use of a limited entry (bpf/lib/decision.h).
  // Returns whether the exec took the entry's last use.
  bool exec(const InodeKey& key) {
    KernelTicket& t = entries.at(key);
    if (!t.uses_left) return false;
    return --*t.uses_left == 0;
  }

  std::map<InodeKey, KernelTicket> entries;
};

}  // namespace execgate::test
