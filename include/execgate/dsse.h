// DSSE envelope (https://github.com/secure-systems-lab/dsse, protocol v1) as used by
// execgate: exactly one signature, keyid = execgate key id, standard padded base64.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace execgate::dsse {

inline constexpr std::size_t kMaxEnvelopeBytes = 64 * 1024;

struct Envelope {
  std::string payload_type;
  std::string payload;  // decoded payload bytes (exactly what was signed)
  std::string keyid;    // 16 lower-case hex
  std::array<std::uint8_t, 64> sig{};
};

// Pre-Authentication Encoding:
//   "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
// LEN = ASCII decimal byte length, no leading zeros.
std::string pae(std::string_view payload_type, std::string_view payload);

// {"payload":"<b64>","payloadType":"...","signatures":[{"keyid":"...","sig":"<b64>"}]}
// (keys in this order, no whitespace, trailing newline not included).
std::string encode(const Envelope& env);

// Strict parse: at most kMaxEnvelopeBytes, a JSON object with exactly the keys payloadType
// (string), payload (canonical standard base64), signatures (array of exactly one object
// with exactly keyid (16 lower-case hex) and sig (canonical base64 of 64 bytes)); duplicate
// keys are rejected. Does not look at the payload type value. Throws MalformedError.
Envelope decode(std::string_view json);

}  // namespace execgate::dsse
