// Checkpoint signatures: Ed25519 over a domain-separated (seq_head, head) message.
#include "execgate/audit.h"
#include "common/encoding.h"
#include "execgate/error.h"
#include "execgate/names.h"

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

OutsideCheckpoint verify_outside_checkpoint(std::string_view line, std::uint64_t seq,
                                            const std::vector<PublicKey>& keys) {
  auto bad = [&](const std::string& why) {
    throw Error(ErrorKind::verification, "checkpoint " + std::to_string(seq) + ": " + why);
  };
  nlohmann::json rec;
  std::string why;
  if (!parse_audit_line(line, &rec, &why)) bad("not a stored audit record: " + why);
  auto u64 = [&](const char* field) {
    const auto it = rec.find(field);
    if (it == rec.end() || !it->is_number_unsigned()) bad(std::string("\"") + field + "\" is not a number");
    return it->get<std::uint64_t>();
  };
  auto str = [&](const char* field) {
    const auto it = rec.find(field);
    if (it == rec.end() || !it->is_string()) bad(std::string("\"") + field + "\" is not a string");
    return it->get<std::string>();
  };
  if (str("event") != name(EventKind::checkpoint)) bad("not a checkpoint record");
  OutsideCheckpoint c;
  c.seq = u64("seq");
  if (c.seq != seq) bad("the record is seq " + std::to_string(c.seq));
  c.seq_head = u64("seq_head");
  c.head = str("head");
  c.hash = str("hash");
  c.key_id = str("key_id");
  if (c.seq_head + 1 != c.seq || str("prev") != c.head) bad("head/seq_head do not name the preceding record");
  const auto t = parse_audit_time(str("time"));
  if (!t) bad("\"time\" is not an RFC 3339 time");
  c.time = *t;
  const std::string sig = str("sig");
  for (const auto& k : keys)
    if (k.key_id() == c.key_id) {
      if (!verify_audit_checkpoint(c.seq_head, c.head, sig, k)) bad("signature invalid (key " + c.key_id + ")");
      return c;
    }
  bad("signed by key " + c.key_id + ", not by the host's approved key");
  return c;
}

}  // namespace execgate
