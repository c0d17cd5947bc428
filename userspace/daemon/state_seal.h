// The state directory's seal: a host key only execgated reads (<state-dir>/state.key, 0600,
// closed to the scope even for reading) and a keyed BLAKE2b-256 over every installed
// record. A record without a valid seal was not written by this host's execgated: copied
// from another host or another installation, or planted by hand. The key's id is named in
// every daemon_start audit record, so a state directory swapped for another (or for an
// empty one) is recognised at the next start (docs/daemon.md, "State directory").
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "state_store.h"

namespace execgate {

class StateSeal {
 public:
  // Reads the key at PATH; Error(validation) naming the file when it is anything but one
  // line of 64 lower-case hex digits.
  static StateSeal load(const std::string& path);
  // A new random key written atomically at PATH (0600).
  static StateSeal create(const std::string& path);

  // 16 lower-case hex digits that name the key (not a secret: a hash of it).
  const std::string& key_id() const { return key_id_; }
  // The seal of installed/<ID>.json holding REC (every field but the seal itself).
  std::string seal(const std::string& id, const InstalledRecord& rec) const;
  bool verifies(const std::string& id, const InstalledRecord& rec) const;

 private:
  explicit StateSeal(const std::array<std::uint8_t, 32>& key);
  std::array<std::uint8_t, 32> key_{};
  std::string key_id_;
};

}  // namespace execgate
