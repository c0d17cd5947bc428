// The heads a host published to the fleet (audit_fleet.h).
#include "audit_fleet.h"

#include <limits>

#include "execgate/error.h"
#include "fleet/etcd_client.h"
#include "fleet_hosts.h"

namespace execgate::cli::fleet_verbs {

PublishedHeads published_heads(const ConnectionOptions& conn, const std::string& host) {
  const Connection c = open_connection(conn);
  const std::vector<PublicKey> issuers = require_issuer_keys(c, "audit verify --fleet");
  fleet::EtcdClient etcd(c.etcd);
  HostView h = read_host(etcd, c.layout, host);
  judge(h, issuers, 0, std::numeric_limits<std::int64_t>::max());
  if (!h.approved)
    throw Error(ErrorKind::verification, "host " + host + " under " + c.layout.hosts() +
                                             " is not approved: " + join_notes(h.notes));
  PublishedHeads out{host, *h.key, h.approved_by};
  const std::string dir = c.layout.checkpoints(host);
  for (const auto& kv : etcd.range_prefix(dir).kvs) {
    const std::optional<std::uint64_t> seq = c.layout.checkpoint_seq(host, kv.key);
    if (!seq) throw Error(ErrorKind::verification, kv.key + ": not a checkpoint key (checkpoints/<seq>)");
    OutsideCheckpoint cp;
    try {
      cp = verify_outside_checkpoint(kv.value, *seq, {out.key});
    } catch (const Error& e) {
      throw Error(ErrorKind::verification, kv.key + ": " + e.what());
    }
    const std::string from = "published " + kv.key;
    for (const auto& [s, hash] : {std::pair{cp.seq_head, cp.head}, {cp.seq, cp.hash}}) {
      const auto [it, fresh] = out.heads.try_emplace(s, AuditVerifyOptions::ExpectedHead{hash, from});
      if (!fresh && it->second.hash != hash)
        throw Error(ErrorKind::verification, "the published checkpoints disagree on record " + std::to_string(s) +
                                                 ": " + it->second.from + " and " + from);
    }
    out.first_seq = out.checkpoints ? std::min(out.first_seq, *seq) : *seq;
    out.last_seq = std::max(out.last_seq, *seq);
    ++out.checkpoints;
  }
  if (!out.checkpoints) throw Error(ErrorKind::not_found, "host " + host + " published no checkpoint under " + dir);
  return out;
}

}  // namespace execgate::cli::fleet_verbs
