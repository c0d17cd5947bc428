#include "crypto/blake2b.h"

#include <sodium.h>

#include <string>

#include "execgate/error.h"
#include "execgate/keys.h"

namespace execgate {

Blake2b256 blake2b_256(std::span<const std::uint8_t> data) {
  ensure_sodium();
  Blake2b256 h{};
  crypto_generichash(h.data(), h.size(), data.data(), data.size(), nullptr, 0);
  return h;
}

Blake2b256 blake2b_256_keyed(std::span<const std::uint8_t> key, std::string_view text) {
  ensure_sodium();
  if (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX)
    throw Error(ErrorKind::usage, "BLAKE2b key of " + std::to_string(key.size()) + " bytes (16 to 64 expected)");
  Blake2b256 h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), key.data(),
                     key.size());
  return h;
}

}  // namespace execgate
