// Checkpoint signatures: Ed25519 over a domain-separated (seq_head, head) message.
#include "execgate/audit.h"
#include "common/encoding.h"
#include "execgate/error.h"

namespace execgate {

std::vector<std::uint8_t> audit_checkpoint_message(std::uint64_t seq_head, std::string_view head_hex) {
  if (!is_lower_hex(head_hex, 64)) throw Error(ErrorKind::parse, "checkpoint head is not 64 lower-case hex digits");
  std::vector<std::uint8_t> msg(kAuditCheckpointDomain.begin(), kAuditCheckpointDomain.end());
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<std::uint8_t>(seq_head >> (8 * i)));
  Bytes head = hex_decode(head_hex);
  msg.insert(msg.end(), head.begin(), head.end());
  return msg;
}

std::string sign_audit_checkpoint(std::uint64_t seq_head, std::string_view head_hex, const SecretKey& key) {
  Ed25519Signature sig = sign_detached(audit_checkpoint_message(seq_head, head_hex), key);
  return base64_encode(sig);
}

bool verify_audit_checkpoint(std::uint64_t seq_head, std::string_view head_hex, std::string_view sig_b64,
                             const PublicKey& key) noexcept {
  try {
    Bytes raw = base64_decode(sig_b64);
    if (raw.size() != 64) return false;
    Ed25519Signature sig{};
    std::copy(raw.begin(), raw.end(), sig.begin());
    return verify_detached(audit_checkpoint_message(seq_head, head_hex), sig, key);
  } catch (...) {
    return false;
  }
}

}  // namespace execgate
