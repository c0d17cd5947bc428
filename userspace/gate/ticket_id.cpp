// Ticket ids as the kernel keeps them (16 bytes) and as people read them (32 hex digits).
#include <algorithm>

#include "common/encoding.h"
#include "gate/gate_types.h"

namespace execgate {

std::string hex_id(const TicketId& id) { return hex_encode(std::span<const std::uint8_t>(id.data(), id.size())); }

TicketId ticket_id(const std::string& hex) {
  TicketId id{};
  if (hex.size() != 2 * id.size() || !is_lower_hex(hex, hex.size())) return id;
  const Bytes b = hex_decode(hex);
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

}  // namespace execgate
