#include "crypto/blake2b.h"

#include <sodium.h>

#include "execgate/keys.h"

namespace execgate {

Blake2b256 blake2b_256(std::span<const std::uint8_t> data) {
  ensure_sodium();
  Blake2b256 h{};
  crypto_generichash(h.data(), h.size(), data.data(), data.size(), nullptr, 0);
  return h;
}

}  // namespace execgate
