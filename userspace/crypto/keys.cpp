// Ed25519 keys and key files (format in include/execgate/keys.h and docs/tickets.md).
#include "execgate/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "common/encoding.h"
#include "execgate/error.h"
#include "common/fs.h"
#include "execgate/sha256.h"
#include "execgate/crypto_errors.h"

namespace execgate {

namespace {
constexpr std::string_view kPubHeader = "execgate public key ";
constexpr std::string_view kSecHeader = "execgate secret key ";
// The algorithm tag after the header. Files written before tags existed carry none and
// are Ed25519 keys: read, never written.
constexpr std::string_view kAlgorithm = "ed25519";
constexpr std::size_t kMaxKeyFileBytes = 512;

struct KeyText {
  std::string key_id;
  Bytes raw;
};

// "<header>ed25519 <16 hex>\n<base64>\n" (final newline optional; "<header><16 hex>"
// from before algorithm tags). Nothing else is accepted.
KeyText parse_key_text(std::string_view text, std::string_view header, std::size_t raw_len,
                       const std::string& name) {
  const auto fail = [&](const std::string& what) -> KeyText {
    throw KeyFileError(name, what + " (expected \"" + std::string(header) + std::string(kAlgorithm) +
                                 " <16 hex>\" then one line of base64)");
  };
  if (text.size() > kMaxKeyFileBytes) fail("key file too large");
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) fail("missing header line");
  std::string_view line1 = text.substr(0, nl);
  std::string_view rest = text.substr(nl + 1);
  if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  if (line1.substr(0, header.size()) != header) fail("wrong header line");
  std::string_view id = line1.substr(header.size());
  if (const auto sp = id.find(' '); sp != std::string_view::npos) {
    if (id.substr(0, sp) != kAlgorithm)
      fail("key algorithm \"" + std::string(id.substr(0, sp)) + "\" is not supported (this execgate knows " +
           std::string(kAlgorithm) + ")");
    id.remove_prefix(sp + 1);
  }
  if (!is_lower_hex(id, 16)) fail("key id in header is not 16 lower-case hex digits");
  if (rest.find('\n') != std::string_view::npos) fail("unexpected extra lines");
  KeyText kt{std::string(id), {}};
  try {
    kt.raw = base64_decode(rest);
  } catch (const Error&) {
    fail("key line is not valid base64");
  }
  if (kt.raw.size() != raw_len)
    fail("key is " + std::to_string(kt.raw.size()) + " bytes, expected " + std::to_string(raw_len));
  return kt;
}
}  // namespace

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw Error(ErrorKind::io, "libsodium initialisation failed");
}

std::string key_id_of(std::span<const std::uint8_t, 32> public_key) {
  Sha256Digest d = sha256_bytes(public_key);
  return hex_encode(std::span<const std::uint8_t>(d.data(), 8));
}

std::string PublicKey::key_id() const { return key_id_of(bytes); }

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  std::copy(bytes_.begin() + 32, bytes_.end(), pk.bytes.begin());
  return pk;
}

KeyPair generate_keypair() {
  ensure_sodium();
  std::array<std::uint8_t, 64> sk{};
  PublicKey pk;
  if (crypto_sign_ed25519_keypair(pk.bytes.data(), sk.data()) != 0)
    throw Error(ErrorKind::io, "Ed25519 key generation failed");
  KeyPair kp{pk, SecretKey(sk)};
  sodium_memzero(sk.data(), sk.size());
  return kp;
}

KeyPair keypair_from_seed(std::span<const std::uint8_t, 32> seed) {
  ensure_sodium();
  std::array<std::uint8_t, 64> sk{};
  PublicKey pk;
  if (crypto_sign_ed25519_seed_keypair(pk.bytes.data(), sk.data(), seed.data()) != 0)
    throw Error(ErrorKind::io, "Ed25519 key derivation failed");
  KeyPair kp{pk, SecretKey(sk)};
  sodium_memzero(sk.data(), sk.size());
  return kp;
}

Ed25519Signature sign_detached(std::span<const std::uint8_t> message, const SecretKey& key) {
  ensure_sodium();
  Ed25519Signature sig{};
  if (crypto_sign_ed25519_detached(sig.data(), nullptr, message.data(), message.size(), key.bytes().data()) != 0)
    throw Error(ErrorKind::io, "Ed25519 signing failed");
  return sig;
}

bool verify_detached(std::span<const std::uint8_t> message, const Ed25519Signature& sig,
                     const PublicKey& key) noexcept {
  if (sodium_init() < 0) return false;  // cheap after the first call
  return crypto_sign_ed25519_verify_detached(sig.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

std::string format_public_key_file(const PublicKey& key) {
  return std::string(kPubHeader) + std::string(kAlgorithm) + " " + key.key_id() + "\n" + base64_encode(key.bytes) + "\n";
}

std::string format_secret_key_file(const SecretKey& key) {
  return std::string(kSecHeader) + std::string(kAlgorithm) + " " + key.key_id() + "\n" + base64_encode(key.bytes()) +
         "\n";
}

PublicKey parse_public_key_file(std::string_view text, const std::string& name) {
  KeyText kt = parse_key_text(text, kPubHeader, 32, name);
  PublicKey pk;
  std::copy(kt.raw.begin(), kt.raw.end(), pk.bytes.begin());
  if (pk.key_id() != kt.key_id)
    throw KeyFileError(name, "key id in header (" + kt.key_id + ") does not match the key (" + pk.key_id() + ")");
  return pk;
}

SecretKey parse_secret_key_file(std::string_view text, const std::string& name) {
  ensure_sodium();
  KeyText kt = parse_key_text(text, kSecHeader, 64, name);
  std::array<std::uint8_t, 64> raw{};
  std::copy(kt.raw.begin(), kt.raw.end(), raw.begin());
  sodium_memzero(kt.raw.data(), kt.raw.size());
  SecretKey sk(raw);
  // The second half must be the public key derived from the seed (first half).
  std::array<std::uint8_t, 32> derived{};
  std::array<std::uint8_t, 64> tmp{};
  crypto_sign_ed25519_seed_keypair(derived.data(), tmp.data(), raw.data());
  sodium_memzero(tmp.data(), tmp.size());
  sodium_memzero(raw.data(), raw.size());
  if (derived != sk.public_key().bytes)
    throw KeyFileError(name, "secret key is inconsistent (public half does not match the seed)");
  if (sk.key_id() != kt.key_id)
    throw KeyFileError(name, "key id in header (" + kt.key_id + ") does not match the key (" + sk.key_id() + ")");
  return sk;
}

PublicKey load_public_key(const std::string& path) {
  return parse_public_key_file(read_file(path, kMaxKeyFileBytes), path);
}

SecretKey load_secret_key(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) throw IoError(path, errno, "cannot open secret key");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw IoError(path, errno, "cannot stat");
  if (!S_ISREG(st.st_mode)) throw KeyFileError(path, "secret key is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw KeyFileError(path, std::string("secret key is accessible by group or others (mode ") + mode +
                                 "); run: chmod 600 " + path);
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes)) throw KeyFileError(path, "key file too large");
  std::string text(kMaxKeyFileBytes + 1, '\0');
  std::size_t len = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), text.data() + len, text.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path, errno, "read failed");
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
    if (len == text.size()) throw KeyFileError(path, "key file too large");
  }
  text.resize(len);
  SecretKey sk = parse_secret_key_file(text, path);
  sodium_memzero(text.data(), text.size());
  return sk;
}

void save_keypair(const KeyPair& kp, const std::string& base, bool overwrite) {
  const std::string key_path = base + ".key", pub_path = base + ".pub";
  if (!overwrite) {
    for (const auto& p : {key_path, pub_path}) {
      struct stat st {};
      if (::lstat(p.c_str(), &st) == 0)
        throw Error(ErrorKind::io, p + ": already exists; refusing to overwrite a key (use --force)");
    }
  }
  std::string sec = format_secret_key_file(kp.secret);
  try {
    write_file_atomic(key_path, sec, 0600);
  } catch (...) {
    sodium_memzero(sec.data(), sec.size());
    throw;
  }
  sodium_memzero(sec.data(), sec.size());
  write_file_atomic(pub_path, format_public_key_file(kp.pub), 0644);
}

}  // namespace execgate
