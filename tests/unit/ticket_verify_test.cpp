// Signing and verification: round trips, tampering, keys, envelope damage, time.
#include <nlohmann/json.hpp>

#include "ticket_test_util.h"

namespace execgate {
namespace {

using nlohmann::json;
using test::expect_reason;
using test::fixed_keypair;
using test::full_revocation;
using test::full_ticket;
using test::kT0;

class VerifyTest : public ::testing::Test {
 protected:
  KeyPair issuer = fixed_keypair(1);
  KeyPair other = fixed_keypair(2);
  std::vector<PublicKey> trusted{other.pub, issuer.pub};

  VerifiedDocument verify(std::string_view env) { return verify_document(env, trusted); }
};

TEST_F(VerifyTest, TicketRoundTrip) {
  const TicketBody body = full_ticket();
  const std::string env = sign_ticket(body, issuer.secret);
  VerifiedDocument d = verify(env);
  EXPECT_EQ(d.kind, VerifiedDocument::Kind::ticket);
  ASSERT_TRUE(d.ticket);
  EXPECT_FALSE(d.revocation);
  EXPECT_EQ(*d.ticket, body);
  EXPECT_EQ(d.key_id, issuer.pub.key_id());
  EXPECT_EQ(d.envelope_json, env);
}

TEST_F(VerifyTest, MinimalTicketRoundTrip) {
  TicketBody body;
  body.id = new_ticket_id();
  body.not_before = 1;
  body.not_after = 2;
  body.subjects = {{test::digest_of(3), std::nullopt}};
  body.hosts = {"*"};
  VerifiedDocument d = verify(sign_ticket(body, issuer.secret));
  ASSERT_TRUE(d.ticket);
  EXPECT_EQ(*d.ticket, body);
}

TEST_F(VerifyTest, RevocationRoundTrip) {
  const RevocationBody body = full_revocation();
  const std::string env = sign_revocation(body, issuer.secret);
  VerifiedDocument d = verify(env);
  EXPECT_EQ(d.kind, VerifiedDocument::Kind::revocation);
  ASSERT_TRUE(d.revocation);
  EXPECT_FALSE(d.ticket);
  EXPECT_EQ(*d.revocation, body);
}

TEST_F(VerifyTest, EnvelopeShapeMatchesContract) {
  const json j = json::parse(sign_ticket(full_ticket(), issuer.secret));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["payloadType"], "application/vnd.execgate.ticket.v1+json");
  EXPECT_TRUE(j["payload"].is_string());
  ASSERT_EQ(j["signatures"].size(), 1u);
  EXPECT_EQ(j["signatures"][0]["keyid"], issuer.pub.key_id());
  EXPECT_EQ(base64_decode(j["signatures"][0]["sig"].get<std::string>()).size(), 64u);
  const json r = json::parse(sign_revocation(full_revocation(), issuer.secret));
  EXPECT_EQ(r["payloadType"], "application/vnd.execgate.revocation.v1+json");
}

TEST_F(VerifyTest, SignatureIsOverPaeOfExactPayload) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  const dsse::Envelope e = dsse::decode(env);
  EXPECT_TRUE(verify_detached(as_bytes(dsse::pae(e.payload_type, e.payload)), e.sig, issuer.pub));
  EXPECT_FALSE(verify_detached(as_bytes(e.payload), e.sig, issuer.pub));
}

TEST_F(VerifyTest, SigningIsDeterministic) {
  EXPECT_EQ(sign_ticket(full_ticket(), issuer.secret), sign_ticket(full_ticket(), issuer.secret));
  EXPECT_EQ(sign_revocation(full_revocation(), issuer.secret), sign_revocation(full_revocation(), issuer.secret));
}

// Re-encodes env with its payload JSON changed by fn, keeping the original signature.
std::string tamper_payload(const std::string& env, const std::function<void(json&)>& fn) {
  dsse::Envelope e = dsse::decode(env);
  json body = json::parse(e.payload);
  fn(body);
  e.payload = body.dump();
  return dsse::encode(e);
}

void mutate(json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty() || s == "*") s = "3d1219c7c4c5404aaa1f6d2a48adfda5";
    else s[0] = s[0] == '0' ? '1' : '0';
    v = s;
  } else if (v.is_number_unsigned() || v.is_number_integer()) {
    v = v.get<std::int64_t>() + 1;
  } else if (v.is_array()) {
    ASSERT_FALSE(v.empty());
    mutate(v[0]);
  } else if (v.is_object()) {
    ASSERT_TRUE(v.contains("sha256"));
    mutate(v["sha256"]);
  } else {
    FAIL() << "unexpected JSON type " << v.dump();
  }
}

TEST_F(VerifyTest, EveryTicketFieldTamperedIsBadSignature) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  const json body = json::parse(dsse::decode(env).payload);
  const std::vector<std::string> all = {"id",    "issued_at", "not_before", "not_after", "subjects", "hosts",
                                        "uids",  "max_uses",  "parent",     "initiator", "purpose",  "policy"};
  ASSERT_EQ(body.size(), all.size()) << body.dump();
  for (const auto& field : all) {
    SCOPED_TRACE(field);
    ASSERT_TRUE(body.contains(field));
    std::string bad = tamper_payload(env, [&](json& j) { mutate(j[field]); });
    ASSERT_NE(bad, env);
    expect_reason([&] { verify(bad); }, "bad_signature");
    // Removing the field is tampering too.
    bad = tamper_payload(env, [&](json& j) { j.erase(field); });
    expect_reason([&] { verify(bad); }, "bad_signature");
  }
  // So is adding a subject path or an extra subject.
  expect_reason([&] { verify(tamper_payload(env, [](json& j) { j["subjects"][1]["path"] = "/bin/sh"; })); },
                "bad_signature");
  expect_reason([&] { verify(tamper_payload(env, [](json& j) { j["subjects"].push_back(j["subjects"][0]); })); },
                "bad_signature");
}

TEST_F(VerifyTest, EveryRevocationFieldTamperedIsBadSignature) {
  const std::string env = sign_revocation(full_revocation(), issuer.secret);
  for (const char* field : {"id", "revoked", "issued_at", "reason"}) {
    SCOPED_TRACE(field);
    expect_reason([&] { verify(tamper_payload(env, [&](json& j) { mutate(j[field]); })); }, "bad_signature");
  }
}

TEST_F(VerifyTest, EveryPayloadBitFlipFails) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  const dsse::Envelope e = dsse::decode(env);
  for (std::size_t i = 0; i < e.payload.size(); ++i) {
    for (int bit : {0, 7}) {
      dsse::Envelope t = e;
      t.payload[i] = static_cast<char>(t.payload[i] ^ (1 << bit));
      EXPECT_THROW(verify(dsse::encode(t)), VerificationError) << "byte " << i;
    }
  }
  for (std::size_t i = 0; i < e.sig.size(); ++i) {
    dsse::Envelope t = e;
    t.sig[i] ^= 0x20;
    expect_reason([&] { verify(dsse::encode(t)); }, "bad_signature");
  }
}

TEST_F(VerifyTest, EverySingleCharacterOfTheEnvelopeChangedFails) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  for (std::size_t i = 0; i < env.size(); ++i) {
    for (char repl : {'A', '0', '"'}) {
      if (env[i] == repl) continue;
      std::string bad = env;
      bad[i] = repl;
      EXPECT_THROW(verify(bad), VerificationError) << "offset " << i << " -> " << repl;
    }
  }
}

TEST_F(VerifyTest, WrongKeyIsUntrustedIssuer) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  const std::vector<PublicKey> only_other{other.pub};
  std::string msg = expect_reason([&] { verify_document(env, only_other); }, "untrusted_issuer");
  EXPECT_NE(msg.find(issuer.pub.key_id()), std::string::npos);
  expect_reason([&] { verify_document(env, {}); }, "untrusted_issuer");
}

TEST_F(VerifyTest, KeyIdOfTrustedKeyButSignedByAnotherIsBadSignature) {
  const KeyPair rogue = fixed_keypair(9);
  dsse::Envelope e = dsse::decode(sign_ticket(full_ticket(), rogue.secret));
  e.keyid = issuer.pub.key_id();  // claims to be the trusted issuer
  expect_reason([&] { verify(dsse::encode(e)); }, "bad_signature");
}

TEST_F(VerifyTest, ChangedKeyIdIsUntrustedOrMalformed) {
  dsse::Envelope e = dsse::decode(sign_ticket(full_ticket(), issuer.secret));
  e.keyid[0] = e.keyid[0] == 'a' ? 'b' : 'a';
  expect_reason([&] { verify(dsse::encode(e)); }, "untrusted_issuer");
  e.keyid[0] = 'X';
  expect_reason([&] { verify(dsse::encode(e)); }, "malformed");
}

TEST_F(VerifyTest, WrongPayloadType) {
  dsse::Envelope e = dsse::decode(sign_ticket(full_ticket(), issuer.secret));
  e.payload_type = "application/vnd.in-toto+json";
  std::string msg = expect_reason([&] { verify(dsse::encode(e)); }, "malformed");
  EXPECT_NE(msg.find("payloadType"), std::string::npos) << msg;
  // A ticket signed as a ticket but presented as a revocation: PAE differs.
  e.payload_type = std::string(kRevocationPayloadType);
  expect_reason([&] { verify(dsse::encode(e)); }, "bad_signature");
  // A validly signed document of an unknown type is still refused.
  expect_reason([&] { verify(test::sign_raw("text/plain", "hi", issuer.secret)); }, "malformed");
}

TEST_F(VerifyTest, TruncatedEnvelopeIsMalformed) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  for (std::size_t n = 0; n < env.size(); ++n)
    expect_reason([&] { verify(std::string_view(env).substr(0, n)); }, "malformed");
}

TEST_F(VerifyTest, TruncatedOrNonBase64Payload) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  json j = json::parse(env);
  std::string p = j["payload"];
  // Truncated to a shorter, still valid base64 string: signature no longer matches.
  j["payload"] = p.substr(0, (p.size() / 2) / 4 * 4);
  expect_reason([&] { verify(j.dump()); }, "bad_signature");
  // Not base64 / not padded / URL-safe alphabet / whitespace.
  for (std::string bad : {p.substr(0, p.size() - 1), "!!" + p.substr(2), p + "=", p.substr(0, 4) + "\n" + p.substr(4),
                          std::string("-_-_")}) {
    j["payload"] = bad;
    std::string msg = expect_reason([&] { verify(j.dump()); }, "malformed");
    EXPECT_NE(msg.find("'payload'"), std::string::npos) << msg;
  }
  // Non-canonical padding bits.
  j["payload"] = "QR==";
  expect_reason([&] { verify(j.dump()); }, "malformed");
  j["payload"] = "";
  expect_reason([&] { verify(j.dump()); }, "bad_signature");
}

TEST_F(VerifyTest, MalformedEnvelopes) {
  const std::string env = sign_ticket(full_ticket(), issuer.secret);
  const json good = json::parse(env);
  std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& j) { j["extra"] = 1; }, "unknown field 'extra'"},
      {[](json& j) { j.erase("signatures"); }, "'signatures'"},
      {[](json& j) { j.erase("payload"); }, "'payload'"},
      {[](json& j) { j.erase("payloadType"); }, "'payloadType'"},
      {[](json& j) { j["payloadType"] = 5; }, "'payloadType'"},
      {[](json& j) { j["payload"] = nullptr; }, "'payload'"},
      {[](json& j) { j["signatures"] = json::array(); }, "'signatures'"},
      {[](json& j) { j["signatures"].push_back(j["signatures"][0]); }, "'signatures'"},
      {[](json& j) { j["signatures"] = json::object(); }, "'signatures'"},
      {[](json& j) { j["signatures"][0] = "x"; }, "signatures[0]"},
      {[](json& j) { j["signatures"][0]["extra"] = 1; }, "signatures[0].extra"},
      {[](json& j) { j["signatures"][0].erase("keyid"); }, "signatures[0].keyid"},
      {[](json& j) { j["signatures"][0]["keyid"] = "ABCDEF0123456789"; }, "signatures[0].keyid"},
      {[](json& j) { j["signatures"][0]["keyid"] = "abcdef01234567"; }, "signatures[0].keyid"},
      {[](json& j) { j["signatures"][0]["sig"] = "AAAA"; }, "signatures[0].sig"},
      {[](json& j) { j["signatures"][0]["sig"] = 12; }, "signatures[0].sig"},
  };
  for (auto& [fn, expect] : cases) {
    json j = good;
    fn(j);
    std::string msg = expect_reason([&] { verify(j.dump()); }, "malformed");
    EXPECT_NE(msg.find(expect), std::string::npos) << msg;
  }
  for (std::string bad : {std::string(""), std::string("null"), std::string("[]"), std::string("\"x\""),
                          std::string("{"), std::string("{\"payload\":1,\"payload\":2}"), env + "x",
                          std::string("\xff\xfe"), std::string(70000, ' ') + env,
                          std::string(1000, '[') + std::string(1000, ']')}) {
    expect_reason([&] { verify(bad); }, "malformed");
  }
  // Duplicate keys are refused, even when the values agree.
  std::string dup = env;
  dup.insert(1, "\"payloadType\":\"application/vnd.execgate.ticket.v1+json\",");
  std::string msg = expect_reason([&] { verify(dup); }, "malformed");
  EXPECT_NE(msg.find("duplicate"), std::string::npos) << msg;
  // Whitespace around a valid envelope (e.g. the trailing newline of a file) is fine.
  EXPECT_NO_THROW(verify(" \n" + env + "\n"));
}

TEST_F(VerifyTest, ValidityWindow) {
  const TicketBody body = full_ticket();  // [kT0, kT0 + 3600)
  FixedClock clock(kT0 - 1);
  expect_reason([&] { check_validity(body, clock); }, "not_yet_valid");
  clock.set(kT0);
  EXPECT_NO_THROW(check_validity(body, clock));
  clock.set(kT0 + 3599);
  EXPECT_NO_THROW(check_validity(body, clock));
  clock.set(kT0 + 3600);
  expect_reason([&] { check_validity(body, clock); }, "expired");
  clock.set(INT64_MAX);
  expect_reason([&] { check_validity(body, clock); }, "expired");
  clock.set(INT64_MIN);
  expect_reason([&] { check_validity(body, clock); }, "not_yet_valid");
}

TEST_F(VerifyTest, VerifyDoesNotCheckTime) {
  TicketBody body = full_ticket();
  body.not_before = 1;
  body.not_after = 2;  // long expired
  EXPECT_NO_THROW(verify(sign_ticket(body, issuer.secret)));
}

TEST(VerificationError, IsAnErrorOfKindVerification) {
  VerificationError e(RefusalReason::expired, "x");
  const Error& base = e;
  EXPECT_EQ(base.kind(), ErrorKind::verification);
  EXPECT_EQ(e.reason(), "expired");
  EXPECT_TRUE(e.refusal() == RefusalReason::expired);
  EXPECT_EQ(exit_code_for(base), ExitCode::denied);
}

}  // namespace
}  // namespace execgate
