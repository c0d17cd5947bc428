// Ed25519 keys (libsodium) and their file format (docs/tickets.md "Key files").
//
//   NAME.pub:  "execgate public key ed25519 <keyid>\n" + base64(32-byte public key) + "\n"
//   NAME.key:  "execgate secret key ed25519 <keyid>\n" + base64(64-byte libsodium secret key) + "\n"
//              (written 0600; refused when readable/writable by group or others)
//   Files without the algorithm tag ("execgate public key <keyid>", written before tags
//   existed) are read as Ed25519 keys; any other tag is refused.
//
// key id = lower-case hex of the first 8 bytes of SHA-256(raw 32-byte public key).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "execgate/crypto_errors.h"

namespace execgate {

// Calls sodium_init() once (thread-safe); throws Error(runtime) if it fails.
void ensure_sodium();

// Key id of a raw public key: 16 lower-case hex digits.
std::string key_id_of(std::span<const std::uint8_t, 32> public_key);

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  std::string key_id() const;
  bool operator==(const PublicKey&) const = default;
};

// libsodium's 64-byte Ed25519 secret key (32-byte seed || 32-byte public key).
// Wiped from memory on destruction.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(const std::array<std::uint8_t, 64>& bytes) : bytes_(bytes) {}
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  const std::array<std::uint8_t, 64>& bytes() const noexcept { return bytes_; }
  PublicKey public_key() const;
  std::string key_id() const { return public_key().key_id(); }

 private:
  std::array<std::uint8_t, 64> bytes_{};
};

struct KeyPair {
  PublicKey pub;
  SecretKey secret;
};

// A fresh random key pair.
KeyPair generate_keypair();
// Deterministic key pair from a 32-byte seed (RFC 8032 test vectors, tests).
KeyPair keypair_from_seed(std::span<const std::uint8_t, 32> seed);

using Ed25519Signature = std::array<std::uint8_t, 64>;
Ed25519Signature sign_detached(std::span<const std::uint8_t> message, const SecretKey& key);
bool verify_detached(std::span<const std::uint8_t> message, const Ed25519Signature& sig,
                     const PublicKey& key) noexcept;

// Key file text (exact format above).
std::string format_public_key_file(const PublicKey& key);
std::string format_secret_key_file(const SecretKey& key);
// Strict parsers of that text; `name` is used in error messages. Throw KeyFileError.
PublicKey parse_public_key_file(std::string_view text, const std::string& name);
SecretKey parse_secret_key_file(std::string_view text, const std::string& name);

// Load from disk. load_secret_key refuses (KeyFileError, message says `chmod 600 FILE`)
// a file whose mode grants any permission to group or others. Missing file -> IoError
// (ErrorKind::not_found).
PublicKey load_public_key(const std::string& path);
SecretKey load_secret_key(const std::string& path);

// Writes base.key (0600) and base.pub (0644) atomically. Unless overwrite is true, refuses
// (Error(io)) when either file already exists.
void save_keypair(const KeyPair& kp, const std::string& base, bool overwrite = false);

}  // namespace execgate
