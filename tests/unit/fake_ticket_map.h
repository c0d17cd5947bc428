// A fake of the kernel's ticket map (TicketMap, include/gate/gate.h) for unit tests:
// a std::map, plus what the kernel would do on an exec (take a use).
#pragma once

#include <map>

#include "gate/gate.h"

namespace execgate::test {

class FakeTicketMap final : public TicketMap {
 public:
  void put_ticket(const InodeKey& key, const eg_ticket& value) override { entries[key] = value; }
  bool delete_ticket(const InodeKey& key) override { return entries.erase(key) > 0; }
  std::optional<eg_ticket> get_ticket(const InodeKey& key) const override {
    auto it = entries.find(key);
    if (it == entries.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::pair<InodeKey, eg_ticket>> tickets() const override { return {entries.begin(), entries.end()}; }

  // An exec of the file: the kernel takes a use of a limited entry (bpf/lib/decision.h).
  // Returns whether the exec took the entry's last use.
  bool exec(const InodeKey& key) {
    eg_ticket& t = entries.at(key);
    if (!(t.flags & EG_TF_LIMITED_USES)) return false;
    return --t.uses_left == 0;
  }

  std::map<InodeKey, eg_ticket> entries;
};

}  // namespace execgate::test
