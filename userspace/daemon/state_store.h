// The daemon's persistent state under the state dir: installed envelopes, revocation
// tombstones and the spent set. Every file is written atomically (temp, fsync, rename,
// fsync dir); a corrupted or unreadable file stops the daemon naming the file. Installed
// records carry the host key's seal (state_seal.h) once the daemon has set one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace execgate {

struct InstalledRecord {
  std::string envelope;                  // the signed envelope exactly as submitted
  std::optional<std::int64_t> uses_left; // last known, for tickets with max_uses
  std::int64_t installed_at = 0;
  std::string seal;                      // as read: the host key's MAC of the fields above ("" when none)
  // Set at start-up when the record is not one this host's execgated wrote (no seal, or
  // one that does not verify): why, for the refusal (state_history.h, authenticate_installed).
  std::optional<std::string> unrecognised;
  // The fleet key it came from (docs/fleet.md): "" when submitted on this host. Sealed.
  std::string fleet_key;
};

class StateSeal;

struct StateSnapshot {
  std::map<std::string, InstalledRecord> installed;  // by ticket id
  std::map<std::string, std::string> tombstones;     // ticket id -> revocation id
  std::map<std::string, std::string> spent;          // ticket id -> sha256 of its envelope
};

class StateStore {
 public:
  explicit StateStore(std::string dir);  // creates the layout (0700)
  const std::string& dir() const { return dir_; }
  // From now on every installed record written carries SEAL's MAC (nullptr: none).
  void set_seal(const StateSeal* seal) { seal_ = seal; }
  std::string key_path() const { return dir_ + "/state.key"; }

  StateSnapshot load() const;  // throws Error(validation) naming the bad file
  void put_installed(const std::string& id, const InstalledRecord& rec);
  void remove_installed(const std::string& id);
  void put_tombstone(const std::string& ticket_id, const std::string& revocation_id);
  void put_spent(const std::string& ticket_id, const std::string& envelope_digest);
  std::string installed_path(const std::string& id) const { return path("installed", id); }
  std::string tombstone_path(const std::string& id) const { return path("tombstones", id); }
  std::string spent_path(const std::string& id) const { return path("spent", id); }

 private:
  std::string path(const char* sub, const std::string& id) const;
  std::string dir_;
  const StateSeal* seal_ = nullptr;
};

}  // namespace execgate
