// Known-answer tests: Ed25519 (RFC 8032 section 7.1, tests 1-3), SHA-256 (FIPS 180-2
// examples), DSSE PAE (DSSE protocol spec example).
#include <gtest/gtest.h>

#include <string>

#include "execgate/dsse.h"
#include "common/encoding.h"
#include "execgate/keys.h"
#include "execgate/sha256.h"

namespace execgate {
namespace {

struct Rfc8032Vector {
  const char* secret;  // 32-byte seed
  const char* pub;
  const char* message;
  const char* signature;
};

constexpr Rfc8032Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

class Rfc8032 : public ::testing::TestWithParam<Rfc8032Vector> {};

TEST_P(Rfc8032, SignFromSeedMatchesExactly) {
  const auto& v = GetParam();
  Bytes seed = hex_decode(v.secret);
  ASSERT_EQ(seed.size(), 32u);
  KeyPair kp = keypair_from_seed(std::span<const std::uint8_t, 32>(seed.data(), 32));
  EXPECT_EQ(hex_encode(kp.pub.bytes), v.pub);
  Bytes msg = hex_decode(v.message);
  Ed25519Signature sig = sign_detached(msg, kp.secret);
  EXPECT_EQ(hex_encode(sig), v.signature);
  EXPECT_TRUE(verify_detached(msg, sig, kp.pub));
  sig[0] ^= 1;
  EXPECT_FALSE(verify_detached(msg, sig, kp.pub));
}

INSTANTIATE_TEST_SUITE_P(Section7_1, Rfc8032, ::testing::ValuesIn(kRfc8032));

TEST(Sha256Kat, Empty) {
  EXPECT_EQ(hex_encode(sha256_bytes({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Kat, Abc) {
  EXPECT_EQ(hex_encode(sha256_bytes(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Kat, OneMillionA) {
  std::string a(1'000'000, 'a');
  EXPECT_EQ(hex_encode(sha256_bytes(as_bytes(a))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(DssePae, SpecExample) {
  // From the DSSE protocol specification.
  EXPECT_EQ(dsse::pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(DssePae, EmptyAndBinary) {
  EXPECT_EQ(dsse::pae("", ""), "DSSEv1 0  0 ");
  using namespace std::string_literals;
  EXPECT_EQ(dsse::pae("t", "\0\xff"s), "DSSEv1 1 t 2 \0\xff"s);
}

TEST(KeyId, IsFirstEightBytesOfSha256OfPublicKey) {
  Bytes pub = hex_decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  PublicKey pk;
  std::copy(pub.begin(), pub.end(), pk.bytes.begin());
  std::string full = hex_encode(sha256_bytes(pub));
  EXPECT_EQ(pk.key_id(), full.substr(0, 16));
  EXPECT_EQ(pk.key_id().size(), 16u);
}

}  // namespace
}  // namespace execgate
