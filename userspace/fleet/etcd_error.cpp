#include "fleet/etcd_error.h"

namespace execgate::fleet {

namespace {

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// gRPC status codes etcd answers with (google.golang.org/grpc/codes).
constexpr int grpc_deadline_exceeded = 4;
constexpr int grpc_permission_denied = 7;
constexpr int grpc_resource_exhausted = 8;
constexpr int grpc_unavailable = 14;
constexpr int grpc_unauthenticated = 16;

}  // namespace

std::string_view to_string(EtcdErrorKind kind) noexcept {
  switch (kind) {
    case EtcdErrorKind::unavailable: return "unavailable";
    case EtcdErrorKind::auth: return "authentication failed";
    case EtcdErrorKind::permission: return "permission denied";
    case EtcdErrorKind::compacted: return "revision compacted";
    case EtcdErrorKind::protocol: return "protocol error";
    case EtcdErrorKind::canceled: return "watch canceled";
  }
  return "error";
}

EtcdErrorKind classify_etcd_error(int grpc_code, std::string_view message) noexcept {
  if (contains(message, "required revision has been compacted")) return EtcdErrorKind::compacted;
  if (contains(message, "permission denied") || grpc_code == grpc_permission_denied) return EtcdErrorKind::permission;
  if (is_token_rejected(message) || contains(message, "user name is empty") ||
      contains(message, "authentication failed") || contains(message, "user name not found") ||
      contains(message, "authentication is not enabled") || grpc_code == grpc_unauthenticated)
    return EtcdErrorKind::auth;
  if (grpc_code == grpc_unavailable || grpc_code == grpc_deadline_exceeded || grpc_code == grpc_resource_exhausted ||
      contains(message, "no leader") || contains(message, "request timed out") ||
      contains(message, "too many requests") || contains(message, "leader changed"))
    return EtcdErrorKind::unavailable;
  return EtcdErrorKind::protocol;
}

bool is_token_rejected(std::string_view message) noexcept {
  return contains(message, "invalid auth token") || contains(message, "revision of auth store is old");
}

}  // namespace execgate::fleet
