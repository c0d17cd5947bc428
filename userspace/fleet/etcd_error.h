// The errors of the etcd client (etcd_client.h) and of the gateway's JSON (etcd_json.h):
// one typed exception whose kind says what a caller can do about it (retry elsewhere,
// fix the credentials, re-read from a newer revision, report a bug), and whose message
// names the endpoint, the request and etcd's own words.
#pragma once

#include <string>
#include <string_view>

#include "execgate/error.h"

namespace execgate::fleet {

enum class EtcdErrorKind {
  unavailable,  // connect failure, timeout, TLS handshake, 5xx, a watch stream that ended
  auth,         // bad user or password, invalid or expired token, no credentials
  permission,   // authenticated, but the user's roles do not grant the key
  compacted,    // the revision asked for has been compacted away
  protocol,     // a response that is not what the v3 gateway sends, or a request etcd rejected
  canceled,     // etcd canceled a watch for another reason
};

// What the kind is, for messages ("permission denied", ...).
std::string_view to_string(EtcdErrorKind kind) noexcept;

class EtcdError : public Error {
 public:
  // server_message: etcd's own message ("etcdserver: permission denied"), empty when the
  // failure is not etcd's answer (a connect error, a malformed response).
  EtcdError(EtcdErrorKind kind, std::string message, std::string server_message = {})
      : Error(base_kind(kind), std::move(message)), kind_(kind), server_message_(std::move(server_message)) {}

  // Hides Error::kind(): the etcd kind; the base's is still there through an Error&.
  EtcdErrorKind kind() const noexcept { return kind_; }
  const std::string& server_message() const noexcept { return server_message_; }

 private:
  static ErrorKind base_kind(EtcdErrorKind kind) noexcept {
    switch (kind) {
      case EtcdErrorKind::auth:
      case EtcdErrorKind::permission: return ErrorKind::verification;
      case EtcdErrorKind::protocol: return ErrorKind::parse;
      default: return ErrorKind::io;
    }
  }

  EtcdErrorKind kind_;
  std::string server_message_;
};

// The kind of one of etcd's errors, from its gRPC status code and message (the gateway
// passes both through): "etcdserver: mvcc: required revision has been compacted" is
// compacted, "etcdserver: permission denied" permission, "invalid auth token", "user name
// is empty", "authentication failed" auth; Unavailable / DeadlineExceeded (and the
// messages of a leaderless or overloaded server) unavailable; anything else protocol.
EtcdErrorKind classify_etcd_error(int grpc_code, std::string_view message) noexcept;

// True when etcd refused the token itself (invalid or expired, or issued before an auth
// change): the client authenticates again once and retries.
bool is_token_rejected(std::string_view message) noexcept;

}  // namespace execgate::fleet
