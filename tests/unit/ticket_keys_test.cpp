// Key files: format, round trip, strict parsing, permission refusal.
#include <sys/stat.h>

#include <fstream>

#include "common/fs.h"
#include "ticket_test_util.h"

namespace execgate {
namespace {

using test::TempDir;

TEST(KeyFiles, RoundTripAndExactFormat) {
  TempDir dir;
  KeyPair kp = generate_keypair();
  save_keypair(kp, dir.file("ops"));
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("ops.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.file("ops.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  std::string pub_text = read_file(dir.file("ops.pub"), 4096);
  EXPECT_EQ(pub_text, "execgate public key ed25519 " + kp.pub.key_id() + "\n" + base64_encode(kp.pub.bytes) + "\n");
  std::string key_text = read_file(dir.file("ops.key"), 4096);
  EXPECT_EQ(key_text, "execgate secret key ed25519 " + kp.pub.key_id() + "\n" + base64_encode(kp.secret.bytes()) + "\n");

  EXPECT_EQ(load_public_key(dir.file("ops.pub")), kp.pub);
  SecretKey sk = load_secret_key(dir.file("ops.key"));
  EXPECT_EQ(sk.bytes(), kp.secret.bytes());
  EXPECT_EQ(sk.key_id(), kp.pub.key_id());
}

TEST(KeyFiles, RefusesToOverwriteUnlessAsked) {
  TempDir dir;
  save_keypair(generate_keypair(), dir.file("ops"));
  EXPECT_THROW(save_keypair(generate_keypair(), dir.file("ops")), Error);
  KeyPair kp2 = generate_keypair();
  save_keypair(kp2, dir.file("ops"), /*overwrite=*/true);
  EXPECT_EQ(load_public_key(dir.file("ops.pub")), kp2.pub);
}

TEST(KeyFiles, SecretKeyReadableByOthersIsRefusedWithChmodHint) {
  TempDir dir;
  save_keypair(generate_keypair(), dir.file("ops"));
  for (mode_t mode : {0640, 0604, 0620, 0602, 0644, 0660}) {
    ASSERT_EQ(::chmod(dir.file("ops.key").c_str(), mode), 0);
    try {
      load_secret_key(dir.file("ops.key"));
      ADD_FAILURE() << "mode " << std::oct << mode << " accepted";
    } catch (const KeyFileError& e) {
      EXPECT_NE(std::string(e.what()).find("chmod 600 " + dir.file("ops.key")), std::string::npos) << e.what();
    }
  }
  ASSERT_EQ(::chmod(dir.file("ops.key").c_str(), 0400), 0);
  EXPECT_NO_THROW(load_secret_key(dir.file("ops.key")));
}

TEST(KeyFiles, MissingFileIsNotFound) {
  TempDir dir;
  try {
    load_public_key(dir.file("nope.pub"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
}

TEST(KeyFiles, StrictParsing) {
  KeyPair kp = test::fixed_keypair(7);
  const std::string good = format_public_key_file(kp.pub);
  EXPECT_EQ(parse_public_key_file(good, "x"), kp.pub);
  // Final newline is optional.
  EXPECT_EQ(parse_public_key_file(good.substr(0, good.size() - 1), "x"), kp.pub);
  const std::string b64 = base64_encode(kp.pub.bytes);
  const std::string id = kp.pub.key_id();
  const std::string bad[] = {
      "",
      "execgate public key " + id,                                   // no key line
      "execgate public key " + id + "\n",                           // empty key line
      "execgate secret key " + id + "\n" + b64 + "\n",              // wrong header
      "execgate public key " + id + "\r\n" + b64 + "\n",            // CRLF
      "execgate public key " + id + "\n" + b64 + "\n\n",            // extra line
      "execgate public key " + id + "\n" + b64 + "\nextra\n",       // extra line
      "execgate public key 0000000000000000\n" + b64 + "\n",        // key id mismatch
      "execgate public key " + id + "\n" + b64.substr(4) + "\n",    // truncated key
      "execgate public key " + id + "\n" + "!!!!" + b64.substr(4),  // not base64
      " execgate public key " + id + "\n" + b64 + "\n",             // leading space
      std::string(600, 'a'),                                        // too big
  };
  for (const auto& text : bad) EXPECT_THROW(parse_public_key_file(text, "x"), KeyFileError) << text;
  // Files from before algorithm tags are Ed25519 keys; other algorithms are refused by name.
  EXPECT_EQ(parse_public_key_file("execgate public key " + id + "\n" + b64 + "\n", "x"), kp.pub);
  try {
    parse_public_key_file("execgate public key rsa " + id + "\n" + b64 + "\n", "x");
    ADD_FAILURE() << "an unknown algorithm tag was accepted";
  } catch (const KeyFileError& e) {
    EXPECT_NE(std::string(e.what()).find("\"rsa\" is not supported"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_public_key_file("execgate public key ed25519  " + id + "\n" + b64 + "\n", "x"), KeyFileError);
  // A public key is not a secret key and vice versa.
  EXPECT_THROW(parse_secret_key_file(good, "x"), KeyFileError);
  EXPECT_THROW(parse_public_key_file(format_secret_key_file(kp.secret), "x"), KeyFileError);
}

TEST(KeyFiles, InconsistentSecretKeyIsRefused) {
  KeyPair kp = test::fixed_keypair(7);
  auto raw = kp.secret.bytes();
  raw[40] ^= 1;  // public half no longer matches the seed
  SecretKey broken(raw);
  std::string text = "execgate secret key " + broken.key_id() + "\n" + base64_encode(raw) + "\n";
  EXPECT_THROW(parse_secret_key_file(text, "x"), KeyFileError);
}

}  // namespace
}  // namespace execgate
