#include "state_seal.h"

#include <sodium.h>

#include "common/encoding.h"
#include "common/fs.h"
#include "crypto/blake2b.h"
#include "execgate/error.h"
#include "execgate/keys.h"

namespace execgate {

StateSeal::StateSeal(const std::array<std::uint8_t, 32>& key) : key_(key) {
  key_id_ = hex_encode(blake2b_256_keyed(key_, "execgate state key id")).substr(0, 16);
}

StateSeal StateSeal::load(const std::string& path) {
  std::string text = read_file(path, 256);
  if (text.size() != 65 || text.back() != '\n' || !is_lower_hex(std::string_view(text).substr(0, 64), 64))
    throw Error(ErrorKind::validation, path + ": not a state key (expected one line of 64 lower-case hex digits)");
  const Bytes raw = hex_decode(std::string_view(text).substr(0, 64));
  std::array<std::uint8_t, 32> key{};
  std::copy(raw.begin(), raw.end(), key.begin());
  return StateSeal(key);
}

StateSeal StateSeal::create(const std::string& path) {
  ensure_sodium();
  std::array<std::uint8_t, 32> key{};
  randombytes_buf(key.data(), key.size());
  write_file_atomic(path, hex_encode(key) + "\n", 0600);
  return StateSeal(key);
}

// What is sealed: every member of the record, one per line, the envelope last (it is the
// only one that could hold a newline, and nothing follows it). A record from the fleet
// seals its key too (v2): turning it into a local one would free it from the freshness
// deadline. A local record keeps v1, so records sealed before the fleet still verify.
std::string StateSeal::seal(const std::string& id, const InstalledRecord& rec) const {
  const bool fleet = !rec.fleet_key.empty();
  const std::string text = std::string(fleet ? "execgate installed record v2\n" : "execgate installed record v1\n") +
                           id + "\n" + std::to_string(rec.installed_at) + "\n" +
                           (rec.uses_left ? std::to_string(*rec.uses_left) : std::string("null")) + "\n" +
                           (fleet ? rec.fleet_key + "\n" : std::string()) + rec.envelope;
  return hex_encode(blake2b_256_keyed(key_, text));
}

bool StateSeal::verifies(const std::string& id, const InstalledRecord& rec) const {
  const std::string expected = seal(id, rec);
  return rec.seal.size() == expected.size() &&
         sodium_memcmp(rec.seal.data(), expected.data(), expected.size()) == 0;
}

}  // namespace execgate
