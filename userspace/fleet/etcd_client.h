// A client of etcd's v3 API over its JSON gateway (HTTP/1.1, libcurl): the keys, the
// create-only transaction and the watches the fleet's publishing and hosts need, with
// user/password auth, TLS (a CA to verify etcd, an optional client certificate) and
// failover between endpoints. Request bodies and parsing are etcd_json.h's; every
// failure is an EtcdError naming the endpoint and the request.
//
// Not safe for concurrent use: one thread at a time (a watch in one thread and puts in
// another need two clients).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fleet/etcd_error.h"
#include "fleet/etcd_json.h"

namespace execgate::fleet {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379" or "https://..."
  std::string user, password;          // empty user: no auth
  // TLS: the CA that verifies etcd's certificate (empty: the system's); a client
  // certificate and its key (optional, for --client-cert-auth). Peer and host are always
  // verified.
  std::string ca_file, cert_file, key_file;
  // Each unary request, and connecting a watch stream (an open watch has no deadline).
  std::chrono::milliseconds timeout{5000};
};

class EtcdClient {
 public:
  // Throws EtcdError(protocol) when there is no endpoint or one is not http(s)://.
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The keys in [key, range_end) (empty range_end: key alone) at revision (0: the newest),
  // at most limit (0: all); linearizable.
  RangeResult range(const std::string& key, const std::string& range_end = "", std::int64_t revision = 0,
                    std::int64_t limit = 0, bool keys_only = false);
  // The range's newest key (keys only) and its count of keys, at revision (0: the newest),
  // linearizable: what execgate-sync compares with what it applied.
  RangeResult newest(const std::string& key, const std::string& range_end, std::int64_t revision = 0);
  // Every key under prefix, read in pages (range_page_limit) all at the revision of the
  // first (or `revision`): one consistent snapshot however many pages.
  RangeResult range_prefix(const std::string& prefix, std::int64_t revision = 0);
  std::int64_t put(const std::string& key, const std::string& value);  // the header revision
  // Puts key only if it does not exist (a txn comparing its create_revision with 0);
  // false when it exists.
  bool create(const std::string& key, const std::string& value);
  std::int64_t remove(const std::string& key);  // one key; the header revision
  std::int64_t remove_prefix(const std::string& prefix);
  std::int64_t compact(std::int64_t revision);  // physical: done when it returns (tests)

  // Watches every range (key, range_end; empty range_end: the key alone) from
  // start_revision (0: from now), one stream per range (curl multi, this thread), with
  // progress_notify. Calls on_message(index of the range, response) for every message of
  // every stream (created, events, progress) in each stream's order. Returns when
  // on_message returns false or stop becomes true (checked at least every 200 ms). Throws
  // EtcdError: unavailable when a stream ends or fails, compacted when etcd cancels a
  // watch whose start was compacted, permission / auth / canceled when etcd cancels it
  // for another reason; the caller resumes from the last revision it saw + 1.
  //
  // Progress requests: the gateway reads a request body to its end before it answers
  // (measured with etcd 3.4), so over HTTP/1.1 nothing can be sent on a stream once it
  // runs and {"progress_request":{}} cannot be asked for; the watches rely on
  // progress_notify (etcd's --experimental-watch-progress-notify-interval, 10 min by
  // default).
  void watch(const std::vector<std::pair<std::string, std::string>>& ranges, std::int64_t start_revision,
             const std::function<bool(std::size_t, const WatchResponse&)>& on_message, const std::atomic<bool>& stop);

  // The endpoint the last request went to (the one that worked), e.g. "https://10.0.0.1:2379".
  const std::string& current_endpoint() const noexcept;

  // Keys per page of range_prefix.
  static constexpr std::int64_t range_page_limit = 500;
  // The largest response body (or watch message) accepted: a protocol error beyond.
  static constexpr std::size_t max_response_bytes = 64u << 20;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace execgate::fleet
