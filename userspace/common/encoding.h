// Hex and base64 (standard alphabet, padded) helpers; strict decoders throw
// Error(parse) naming what was expected.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace execgate {

using Bytes = std::vector<std::uint8_t>;

std::string hex_encode(std::span<const std::uint8_t> data);
// Lower- or upper-case hex; throws Error(parse) on odd length or a non-hex digit.
Bytes hex_decode(std::string_view hex);
// True when s is exactly `len` lower-case hex digits.
bool is_lower_hex(std::string_view s, std::size_t len) noexcept;

std::string base64_encode(std::span<const std::uint8_t> data);
// Strict RFC 4648 base64 with padding; throws Error(parse) on anything else.
Bytes base64_decode(std::string_view b64);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace execgate
