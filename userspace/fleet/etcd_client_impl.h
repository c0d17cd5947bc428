// EtcdClient's state, shared by its unary requests (etcd_client.cpp) and its watches
// (etcd_watch.cpp). Internal to execgate_fleet_etcd.
#pragma once

#include <string>
#include <string_view>

#include "fleet/curl_handle.h"
#include "fleet/etcd_client.h"

namespace execgate::fleet {

struct EtcdClient::Impl {
  EtcdOptions options;
  std::size_t current = 0;  // the endpoint that answered last: tried first
  std::string token;        // auth: the token of the last authenticate ("" before)
  detail::CurlEasy easy;    // reused by unary requests: keeps their connection alive

  // "etcd 127.0.0.1:2379: <what>", the start of every message about the endpoint.
  std::string context(std::size_t endpoint, std::string_view what) const;

  // POSTs body to path and returns the body of etcd's 200 answer. Tries the endpoints in
  // turn from `current` while they are unavailable; with auth, authenticates first when
  // there is no token, and again once when etcd rejects the token.
  std::string call(const char* path, const std::string& body, const std::string& what);
  // Authenticates with the options' user and password: token.
  void authenticate();

 private:
  std::string post_failover(const char* path, const std::string& body, const std::string& what, bool with_token);
  std::string post_once(std::size_t endpoint, const char* path, const std::string& body, const std::string& what,
                        bool with_token);
};

// Printable ASCII of a key (the rest as '?', long keys cut), quoted, for messages.
std::string shown_key(std::string_view key);

// e with context ("etcd 127.0.0.1:2379: range \"/a\"") in front of its message.
EtcdError with_context(const EtcdError& e, const std::string& context);

}  // namespace execgate::fleet
