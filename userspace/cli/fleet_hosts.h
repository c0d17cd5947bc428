// Internal to the CLI: the hosts as `execgate fleet status` and `execgate audit verify
// --fleet` read and judge them. An operator's approval (under <prefix>/approvals/, which no
// host can write) binds a host to one audit key; its ack and its published checkpoints
// count only when they verify against that key: etcd is transport, and anyone who can
// write there could write them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "execgate/audit.h"
#include "execgate/keys.h"
#include "fleet/etcd_client.h"
#include "fleet/layout.h"
#include "fleet/statements.h"

namespace execgate::cli::fleet_verbs {

struct HostView {
  std::string host;
  std::optional<std::string> pub, approval, ack_text;
  std::optional<std::string> checkpoint_text;  // the newest published checkpoint
  std::uint64_t checkpoint_key_seq = 0;        // ... the seq its key names
  std::int64_t checkpoints_published = 0;      // keys under checkpoints/
  std::string key_id;                          // the approved key's id, else the pub's ("": none)
  std::optional<PublicKey> key;                // the key the approval binds to the host
  bool approved = false;                       // an issuer's approval of this host that verifies
  std::string approved_by;                     // the issuer key id that signed it
  std::optional<fleet::FleetAck> ack;          // verified against the approved key
  std::optional<OutsideCheckpoint> checkpoint;  // verified against the approved key
  bool counted = false;                        // approved and its ack verified
  std::vector<std::string> notes;              // why not approved / not counted / stale
};

// The machine ids under <prefix>/hosts/ (one read of a single key per host: the hosts'
// tickets and checkpoints are skipped over, never read) and under <prefix>/approvals/.
std::vector<std::string> list_hosts(fleet::EtcdClient& etcd, const fleet::FleetLayout& layout);
// One host's pub, approval, ack and newest published checkpoint.
HostView read_host(fleet::EtcdClient& etcd, const fleet::FleetLayout& layout, const std::string& id);
// Judges it against the operator keys: approved, ack verified, checkpoint verified; a
// checkpoint older than stale_after seconds while its ack shows a log that went on is
// noted as stale (a host that stopped publishing).
void judge(HostView& h, const std::vector<PublicKey>& issuers, std::int64_t now, std::int64_t stale_after);

std::string join_notes(const std::vector<std::string>& v);

}  // namespace execgate::cli::fleet_verbs
