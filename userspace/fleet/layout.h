// The fleet's keys in etcd under the policy's prefix (docs/fleet.md "Keys in etcd"): the
// tickets and revocations for every host, one host's own tickets, each host's subtree (its
// audit public key, its acknowledgement, its published audit checkpoints) and the
// operators' approvals of the hosts. A host watches the first three ranges only, never the other hosts'.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace execgate::fleet {

struct FleetLayout {
  std::string prefix;  // "/execgate"
  std::string host;    // this host's machine id ("" for the operator's tools)

  std::string tickets() const { return prefix + "/tickets/"; }
  std::string revocations() const { return prefix + "/revocations/"; }
  std::string hosts() const { return prefix + "/hosts/"; }
  std::string host_dir(const std::string& h) const { return hosts() + h + "/"; }
  std::string host_tickets(const std::string& h) const { return host_dir(h) + "tickets/"; }
  std::string pub(const std::string& h) const { return host_dir(h) + "pub"; }
  // approvals lie outside the hosts' subtrees: a host (whose etcd role writes its own
  // subtree) can neither delete nor replace its approval
  std::string approvals() const { return prefix + "/approvals/"; }
  std::string approval(const std::string& h) const { return approvals() + h; }
  std::string ack(const std::string& h) const { return host_dir(h) + "ack"; }
  std::string checkpoints(const std::string& h) const { return host_dir(h) + "checkpoints/"; }
  std::string checkpoint(const std::string& h, std::uint64_t seq) const { return checkpoints(h) + std::to_string(seq); }
  // The seq a key under checkpoints(h) names: a decimal >= 1 without leading zeros, else
  // nothing (not a key checkpoint() makes).
  std::optional<std::uint64_t> checkpoint_seq(const std::string& h, std::string_view key) const {
    const std::string dir = checkpoints(h);
    if (!key.starts_with(dir)) return std::nullopt;
    const std::string_view s = key.substr(dir.size());
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v == 0 || s[0] == '0') return std::nullopt;
    return v;
  }
  // What this host watches, in the order a full read applies them: revocations first (a
  // revoked ticket is never installed for a moment), then the tickets for every host,
  // then its own.
  std::vector<std::string> watched() const { return {revocations(), tickets(), host_tickets(host)}; }
};

}  // namespace execgate::fleet
