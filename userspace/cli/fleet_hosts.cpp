// The hosts under <prefix>/hosts/, read and judged (fleet_hosts.h).
#include "fleet_hosts.h"

#include <set>

#include "execgate/error.h"
#include "fleet/etcd_json.h"

namespace execgate::cli::fleet_verbs {

std::vector<std::string> list_hosts(fleet::EtcdClient& etcd, const fleet::FleetLayout& layout) {
  std::set<std::string> ids;
  const std::string base = layout.hosts(), end = fleet::prefix_end(base);
  std::string from = base;
  for (;;) {
    const fleet::RangeResult r = etcd.range(from, end, 0, 1, true);
    if (r.kvs.empty()) break;
    const std::string rest = r.kvs.front().key.substr(base.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string::npos) {  // a key right under hosts/: not a host's
      from = r.kvs.front().key + std::string(1, '\0');
      continue;
    }
    const std::string id = rest.substr(0, slash);
    ids.insert(id);
    from = fleet::prefix_end(layout.host_dir(id));  // past this host's subtree
  }
  // an approved host is listed (and waited for) whatever its subtree holds
  for (const auto& kv : etcd.range_prefix(layout.approvals()).kvs) ids.insert(kv.key.substr(layout.approvals().size()));
  return {ids.begin(), ids.end()};
}

namespace {

std::optional<std::string> value_of(fleet::EtcdClient& etcd, const std::string& key) {
  const fleet::RangeResult r = etcd.range(key);
  if (r.kvs.empty()) return std::nullopt;
  return r.kvs.front().value;
}

}  // namespace

HostView read_host(fleet::EtcdClient& etcd, const fleet::FleetLayout& layout, const std::string& id) {
  HostView h;
  h.host = id;
  h.pub = value_of(etcd, layout.pub(id));
  h.approval = value_of(etcd, layout.approval(id));
  h.ack_text = value_of(etcd, layout.ack(id));
  const std::string dir = layout.checkpoints(id);
  const fleet::RangeResult newest = etcd.newest(dir, fleet::prefix_end(dir));
  h.checkpoints_published = newest.count;
  if (!newest.kvs.empty()) {
    const std::string key = newest.kvs.front().key;
    h.checkpoint_key_seq = layout.checkpoint_seq(id, key).value_or(0);
    h.checkpoint_text = value_of(etcd, key);
  }
  return h;
}

void judge(HostView& h, const std::vector<PublicKey>& issuers, std::int64_t now, std::int64_t stale_after) {
  if (!fleet::valid_machine_id(h.host)) h.notes.push_back("not a machine id");
  std::optional<PublicKey> pub;
  if (!h.pub) {
    h.notes.push_back("no pub");
  } else {
    try {
      pub = parse_public_key_file(*h.pub, "pub");
      h.key_id = pub->key_id();
    } catch (const Error& e) {
      h.notes.push_back(std::string("pub does not parse: ") + e.what());
    }
  }
  // The approval binds the host to the key it names, whatever the host enrolls later: an
  // approved host stays counted on (waited for), and only acks under that key count.
  if (!h.approval) {
    h.notes.push_back("not approved");
  } else {
    try {
      std::string signer;
      const fleet::HostApproval a = fleet::verify_host_approval(*h.approval, issuers, &signer);
      if (a.host != h.host) {
        h.notes.push_back("the approval is for host " + a.host);
      } else {
        h.key = parse_public_key_file(a.key, "approval key");
        h.approved = true;
        h.approved_by = signer;
        if (pub && *pub != *h.key)
          h.notes.push_back("enrolled key " + h.key_id + " is not the approved " + h.key->key_id() +
                            ": approve it again");
        h.key_id = h.key->key_id();
      }
    } catch (const Error& e) {
      h.notes.push_back(std::string("approval does not verify: ") + e.what());
    }
  }
  const std::optional<PublicKey> ack_key = h.approved ? h.key : pub;
  if (!h.ack_text) {
    if (h.approved) h.notes.push_back("no ack");
  } else if (ack_key) {
    try {
      fleet::FleetAck a = fleet::verify_ack(*h.ack_text, *ack_key);
      if (a.host != h.host)
        h.notes.push_back("the ack names host " + a.host);
      else
        h.ack = a;
    } catch (const Error& e) {
      h.notes.push_back("ack does not verify against key " + ack_key->key_id() + ": " + e.what());
    }
  }
  h.counted = h.approved && h.ack.has_value();
  if (h.ack && !h.counted) h.notes.push_back("ack not counted");
  if (!h.approved) return;
  if (!h.checkpoint_text) {
    if (h.counted && h.ack->audit_seq > 0) h.notes.push_back("no checkpoint published");
    return;
  }
  try {
    h.checkpoint = verify_outside_checkpoint(*h.checkpoint_text, h.checkpoint_key_seq, {*h.key});
  } catch (const Error& e) {
    h.notes.push_back(std::string("published ") + e.what());
    return;
  }
  // the log went on past it, and no newer one for longer than the sync would wait
  if (h.counted && static_cast<std::uint64_t>(h.ack->audit_seq) > h.checkpoint->seq &&
      now - h.checkpoint->time > stale_after)
    h.notes.push_back("no checkpoint published for " + std::to_string(now - h.checkpoint->time) + " s (audit seq " +
                      std::to_string(h.ack->audit_seq) + ")");
}

std::string join_notes(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

}  // namespace execgate::cli::fleet_verbs
