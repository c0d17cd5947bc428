// Helpers shared by the ticket_*_test.cpp files.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "execgate/dsse.h"
#include "common/encoding.h"
#include "execgate/ticket.h"

namespace execgate::test {

inline constexpr std::int64_t kT0 = 1'800'000'000;  // 2027-01-15

inline Sha256Digest digest_of(std::uint8_t fill) {
  Sha256Digest d{};
  d.fill(fill);
  d[0] = 0x01;
  return d;
}

// A ticket with every field set to a non-default value.
inline TicketBody full_ticket() {
  TicketBody b;
  b.id = "0123456789abcdef0123456789abcdef";
  b.issued_at = kT0 - 10;
  b.not_before = kT0;
  b.not_after = kT0 + 3600;
  b.subjects = {{digest_of(0xaa), std::string("/usr/bin/true")}, {digest_of(0xbb), std::nullopt}};
  b.hosts = {"3d1219c7c4c5404aaa1f6d2a48adfda4", "*"};
  b.uids = {0, 1000};
  b.max_uses = 3;
  b.parent = "fedcba9876543210fedcba9876543210";
  b.initiator = "alice";
  b.purpose = "deploy \"v2\" \xc3\xa9";
  b.policy = "ci";
  return b;
}

inline RevocationBody full_revocation() {
  RevocationBody r;
  r.id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  r.revoked = {"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"};
  r.issued_at = kT0 + 5;
  r.reason = "key compromise";
  return r;
}

inline KeyPair fixed_keypair(std::uint8_t fill) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(fill);
  return keypair_from_seed(seed);
}

// Signs an arbitrary payload (possibly invalid) into an envelope with key.
inline std::string sign_raw(std::string_view payload_type, std::string_view payload, const SecretKey& key) {
  return sign_envelope(payload_type, std::string(payload), key);
}

// Expects fn() to throw VerificationError with the given reason; returns its message.
template <typename Fn>
std::string expect_reason(Fn&& fn, const std::string& reason) {
  try {
    fn();
  } catch (const VerificationError& e) {
    EXPECT_EQ(e.reason(), reason) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected VerificationError(" << reason << "), got other exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected VerificationError(" << reason << "), nothing thrown";
  return {};
}

// A fresh directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "execgate-ticket-test.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace execgate::test
