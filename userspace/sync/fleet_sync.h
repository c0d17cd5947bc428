// execgate-sync's work (docs/fleet.md "execgate-sync"): etcd's tickets and revocations for
// this host brought into execgated, kept current, and confirmed.
//
//   watch thread   a full read at one revision (at the first start, and after etcd
//                  compacted past the revision it had), then a watch of the three ranges
//                  from the revision it persisted: each put is a fleet_submit, each delete
//                  a fleet_forget, in etcd's order. A value that fails verification is
//                  refused and audited by the daemon, and the watch goes on. On a lost
//                  connection: backoff, then the watch resumes where it was.
//   contact thread every contact interval, and at once after events: a linearizable read
//                  of each range's newest key and count at one revision X. When they match
//                  what the watch applied, everything up to X is applied. Either way the
//                  read is a confirmed contact: fleet_contact(applied), and the signed
//                  acknowledgement the daemon answers is written to hosts/<id>/ack. No read,
//                  no contact: the daemon's deadline runs. The newest signed audit
//                  checkpoint the daemon answers is published, at most every
//                  publish_every, to hosts/<id>/checkpoints/<seq> in a create-only
//                  transaction: what is published is never overwritten.
//
// The revision is persisted in the state file only once what precedes it was applied.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "execgate/defaults.h"
#include "fleet/etcd_client.h"
#include "fleet/layout.h"
#include "sync/daemon_port.h"

namespace execgate::sync {

struct SyncOptions {
  fleet::FleetLayout layout;
  std::string state_file;                        // {"revision": R}
  std::chrono::milliseconds contact_every{10000};  // at most max_silence / 4
  std::chrono::milliseconds backoff_first{500}, backoff_max{30000};
  std::chrono::milliseconds publish_every{kDefaultFleetPublishIntervalSeconds * 1000};
};

// What the sync did, for the logs and the tests.
struct SyncCounters {
  std::atomic<std::uint64_t> submitted{0}, refused{0}, forgotten{0}, full_reads{0}, contacts{0}, acks{0},
      watch_failures{0}, contact_failures{0}, checkpoints{0}, checkpoint_conflicts{0};
};

class FleetSync {
 public:
  // Two clients: one for the watch thread, one for the contact thread (a client is one
  // thread's).
  FleetSync(SyncOptions options, fleet::EtcdClient& watch_client, fleet::EtcdClient& read_client, DaemonPort& daemon);
  // Both threads, until stop becomes true.
  void run(const std::atomic<bool>& stop);

  // The pieces run() is made of (the tests call them one by one):
  // a full read at one revision, applied, and the keys etcd no longer has forgotten.
  void full_read();
  // The watch from resume_from() + 1 until stop; throws what the client throws.
  void watch_once(const std::atomic<bool>& stop);
  // One read of the ranges' newest keys, the contact and the ack; false when etcd or the
  // daemon could not be reached.
  bool contact_once();

  std::int64_t applied() const;   // everything up to it applied (0: nothing yet)
  std::int64_t resume_from() const;  // the watch's next revision - 1
  const SyncCounters& counters() const { return counters_; }
  std::string last_error() const;  // the contact's, else the watch's

 private:
  struct Range {
    std::map<std::string, std::int64_t> keys;  // key -> mod_revision, as applied
    std::int64_t seen = 0;                     // the stream's events applied up to here
    std::int64_t top = 0;                      // the newest mod_revision in keys
    bool top_stale = false;                    // a key was erased: top is found again
    std::int64_t newest();
  };
  void apply_put(std::size_t range, const std::string& key, const std::string& value, std::int64_t mod);
  void apply_delete(std::size_t range, const std::string& key);
  void forget(const std::string& key);  // the daemon's ticket of a key etcd no longer has
  // The daemon's newest checkpoint line, published when it is new and publish_every passed.
  void publish_checkpoint(const std::string& line);
  void persist();
  void contact_loop(const std::atomic<bool>& stop);
  // The watch's and the contact's last error, each logged once when it changes.
  void note_error(std::string& slot, const std::string& what);

  SyncOptions opts_;
  fleet::EtcdClient& watch_client_;
  fleet::EtcdClient& read_client_;
  DaemonPort& daemon_;
  std::vector<std::string> ranges_;

  mutable std::mutex mu_;
  std::vector<Range> seen_;
  std::int64_t applied_ = 0;
  std::int64_t persisted_ = 0;
  std::string watch_error_, contact_error_, publish_error_;
  std::condition_variable wake_;
  bool events_ = false;  // events applied since the last contact

  // the contact thread's
  std::uint64_t published_seq_ = 0;
  std::chrono::steady_clock::time_point published_at_{};

  SyncCounters counters_;
};

}  // namespace execgate::sync
