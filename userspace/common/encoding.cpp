#include "common/encoding.h"

#include <sodium.h>

#include "execgate/error.h"

namespace execgate {

std::string hex_encode(std::span<const std::uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Bytes hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) throw Error(ErrorKind::parse, "hex string has odd length " + std::to_string(hex.size()));
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error(ErrorKind::parse, "non-hex character at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

bool is_lower_hex(std::string_view s, std::size_t len) noexcept {
  if (s.size() != len) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string base64_encode(std::span<const std::uint8_t> data) {
  const std::size_t n = sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(n, '\0');
  sodium_bin2base64(out.data(), n, data.data(), data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(n - 1);  // drop the terminating NUL
  return out;
}

Bytes base64_decode(std::string_view b64) {
  Bytes out(b64.size() / 4 * 3 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (b64.size() % 4 != 0 ||
      sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size())
    throw Error(ErrorKind::parse, "invalid base64 (expected standard alphabet with '=' padding)");
  out.resize(len);
  return out;
}

}  // namespace execgate
