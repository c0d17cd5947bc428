// BLAKE2b-256 (libsodium crypto_generichash): the audit log's record hash, and keyed, the
// state directory's seal (userspace/daemon/state_seal.h).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace execgate {

using Blake2b256 = std::array<std::uint8_t, 32>;

Blake2b256 blake2b_256(std::span<const std::uint8_t> data);
inline Blake2b256 blake2b_256(std::string_view text) {
  return blake2b_256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// Keyed BLAKE2b-256 (a MAC); KEY is 16 to 64 bytes.
Blake2b256 blake2b_256_keyed(std::span<const std::uint8_t> key, std::string_view text);

}  // namespace execgate
