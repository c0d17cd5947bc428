// Body validation (every rule names its field), canonical serialization, durations.
#include <nlohmann/json.hpp>

#include "ticket_test_util.h"

namespace execgate {
namespace {

using nlohmann::json;
using test::expect_reason;
using test::full_ticket;

TEST(TicketBody, CanonicalSerializationIsExact) {
  TicketBody b;
  b.id = "0123456789abcdef0123456789abcdef";
  b.issued_at = 10;
  b.not_before = 11;
  b.not_after = 12;
  b.subjects = {{test::digest_of(0xaa), std::string("/bin/x")}};
  b.hosts = {"*"};
  b.initiator = "a\"b\n";
  const std::string d = hex_encode(b.subjects[0].sha256);
  EXPECT_EQ(serialize_ticket_body(b),
            R"({"hosts":["*"],"id":"0123456789abcdef0123456789abcdef","initiator":"a\"b\n","issued_at":10,)"
            R"("not_after":12,"not_before":11,"policy":"","purpose":"","subjects":[{"path":"/bin/x","sha256":")" +
                d + R"("}]})");
  b.uids = {5};
  b.max_uses = 1;
  b.parent = "fedcba9876543210fedcba9876543210";
  const std::string s = serialize_ticket_body(b);
  EXPECT_NE(s.find(R"("max_uses":1,)"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("parent":"fedcba9876543210fedcba9876543210",)"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("uids":[5])"), std::string::npos) << s;
}

TEST(TicketBody, ParseSerializeRoundTrip) {
  const TicketBody b = full_ticket();
  EXPECT_EQ(parse_ticket_body(serialize_ticket_body(b)), b);
  const RevocationBody r = test::full_revocation();
  EXPECT_EQ(parse_revocation_body(serialize_revocation_body(r)), r);
  EXPECT_EQ(serialize_revocation_body(r),
            R"({"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","issued_at":1800000005,"reason":"key compromise",)"
            R"("revoked":["0123456789abcdef0123456789abcdef","fedcba9876543210fedcba9876543210"]})");
}

TEST(TicketBody, OptionalFieldsMayBeAbsent) {
  const std::string minimal =
      R"({"id":"0123456789abcdef0123456789abcdef","issued_at":0,"not_before":0,"not_after":1,)"
      R"("subjects":[{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}],"hosts":["*"]})";
  TicketBody b = parse_ticket_body(minimal);
  EXPECT_TRUE(b.uids.empty());
  EXPECT_EQ(b.max_uses, 0u);
  EXPECT_FALSE(b.parent);
  EXPECT_FALSE(b.subjects[0].path);
  EXPECT_EQ(b.initiator, "");
}

TEST(TicketBody, AJobAndABuilderRoundTripAndAreOmittedWhenAbsent) {
  TicketBody b = full_ticket();
  b.max_uses = 0;
  b.job = "gh-123-1-build_x.y";
  b.builder = true;
  const std::string text = serialize_ticket_body(b);
  EXPECT_NE(text.find(R"("builder":true)"), std::string::npos);
  EXPECT_NE(text.find(R"("job":"gh-123-1-build_x.y")"), std::string::npos);
  EXPECT_EQ(parse_ticket_body(text), b);
  b.job.reset();
  b.builder = false;
  const std::string plain = serialize_ticket_body(b);
  EXPECT_EQ(plain.find("\"job\""), std::string::npos);
  EXPECT_EQ(plain.find("\"builder\""), std::string::npos);
  EXPECT_TRUE(valid_job_id("a") && valid_job_id("A.b_c-9") && !valid_job_id(".a") && !valid_job_id("a/b"));
}

// A correctly signed body with one bad field: verify says malformed and names the field.
struct BadField {
  std::function<void(json&)> fn;
  std::string field;  // expected in the message
};

TEST(TicketBody, EveryRuleNamesItsField) {
  const KeyPair kp = test::fixed_keypair(4);
  const std::vector<PublicKey> trusted{kp.pub};
  const json good = json::parse(serialize_ticket_body(full_ticket()));
  const std::string long_text(kMaxTextBytes + 1, 'x');
  const std::vector<BadField> cases = {
      {[](json& j) { j.erase("id"); }, "'id'"},
      {[](json& j) { j["job"] = ""; }, "'job'"},
      {[](json& j) { j["job"] = "../etc"; }, "'job'"},
      {[](json& j) { j["job"] = "-x"; }, "'job'"},
      {[](json& j) { j["job"] = std::string(kMaxJobIdBytes + 1, 'a'); }, "'job'"},
      {[](json& j) { j["job"] = 42; }, "'job'"},
      {[](json& j) { j["job"] = "ci-1"; j["max_uses"] = 3; }, "'max_uses'"},
      {[](json& j) { j["builder"] = "yes"; }, "'builder'"},
      {[](json& j) { j["id"] = "0123456789ABCDEF0123456789ABCDEF"; }, "'id'"},
      {[](json& j) { j["id"] = "0123"; }, "'id'"},
      {[](json& j) { j["id"] = 7; }, "'id'"},
      {[](json& j) { j.erase("issued_at"); }, "'issued_at'"},
      {[](json& j) { j["issued_at"] = "1"; }, "'issued_at'"},
      {[](json& j) { j["issued_at"] = 1.5; }, "'issued_at'"},
      {[](json& j) { j["issued_at"] = -1; }, "'issued_at'"},
      {[](json& j) { j["issued_at"] = UINT64_MAX; }, "'issued_at'"},
      {[](json& j) { j.erase("not_before"); }, "'not_before'"},
      {[](json& j) { j["not_before"] = true; }, "'not_before'"},
      {[](json& j) { j.erase("not_after"); }, "'not_after'"},
      {[](json& j) { j["not_after"] = j["not_before"]; }, "'not_after'"},
      {[](json& j) { j["not_after"] = j["not_before"].get<std::int64_t>() - 1; }, "'not_after'"},
      {[](json& j) { j.erase("subjects"); }, "'subjects'"},
      {[](json& j) { j["subjects"] = json::array(); }, "'subjects'"},
      {[](json& j) { j["subjects"] = "x"; }, "'subjects'"},
      {[](json& j) { j["subjects"] = json::array({j["subjects"][0]}) ;
                     for (int i = 0; i < 256; ++i) j["subjects"].push_back(j["subjects"][0]); }, "'subjects'"},
      {[](json& j) { j["subjects"][1] = 5; }, "'subjects[1]'"},
      {[](json& j) { j["subjects"][0].erase("sha256"); }, "'subjects[0].sha256'"},
      {[](json& j) { j["subjects"][0]["sha256"] = std::string(64, 'A'); }, "'subjects[0].sha256'"},
      {[](json& j) { j["subjects"][0]["sha256"] = std::string(63, 'a'); }, "'subjects[0].sha256'"},
      {[](json& j) { j["subjects"][0]["path"] = "usr/bin/true"; }, "'subjects[0].path'"},
      {[](json& j) { j["subjects"][0]["path"] = ""; }, "'subjects[0].path'"},
      {[](json& j) { j["subjects"][0]["path"] = nullptr; }, "'subjects[0].path'"},
      {[](json& j) { j["subjects"][0]["path"] = std::string("/a\0b", 4); }, "'subjects[0].path'"},
      {[](json& j) { j["subjects"][0]["path"] = "/" + std::string(kMaxPathBytes, 'p'); }, "'subjects[0].path'"},
      {[](json& j) { j["subjects"][1]["mode"] = 1; }, "'subjects[1].mode'"},
      {[](json& j) { j.erase("hosts"); }, "'hosts'"},
      {[](json& j) { j["hosts"] = json::array(); }, "'hosts'"},
      {[](json& j) { j["hosts"][0] = "localhost"; }, "'hosts[0]'"},
      {[](json& j) { j["hosts"][1] = 3; }, "'hosts[1]'"},
      {[](json& j) { j["uids"] = 0; }, "'uids'"},
      {[](json& j) { j["uids"][1] = -1; }, "'uids[1]'"},
      {[](json& j) { j["uids"][0] = 4294967295u; }, "'uids[0]'"},
      {[](json& j) { j["uids"][0] = "0"; }, "'uids[0]'"},
      {[](json& j) { j["max_uses"] = -3; }, "'max_uses'"},
      {[](json& j) { j["max_uses"] = 2.0; }, "'max_uses'"},
      {[](json& j) { j["parent"] = nullptr; }, "'parent'"},
      {[](json& j) { j["parent"] = "abc"; }, "'parent'"},
      {[&](json& j) { j["initiator"] = long_text; }, "'initiator'"},
      {[](json& j) { j["initiator"] = json::array(); }, "'initiator'"},
      {[&](json& j) { j["purpose"] = long_text; }, "'purpose'"},
      {[](json& j) { j["policy"] = std::string(kMaxPolicyNameBytes + 1, 'p'); }, "'policy'"},
      {[](json& j) { j["surprise"] = 1; }, "unknown field 'surprise'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    json j = good;
    c.fn(j);
    std::string msg = expect_reason([&] { parse_ticket_body(j.dump()); }, "malformed");
    EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
    msg = expect_reason([&] { verify_document(test::sign_raw(kTicketPayloadType, j.dump(), kp.secret), trusted); },
                        "malformed");
    EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
  }
  for (std::string bad : {std::string("[]"), std::string("null"), std::string("{"), std::string("{}x"),
                          std::string(R"({"id":"0123456789abcdef0123456789abcdef","id":"0123456789abcdef0123456789abcdef"})"),
                          std::string(R"({"subjects":[[[[[[]]]]]]})"), std::string("\"\xc3\x28\"")}) {
    expect_reason([&] { parse_ticket_body(bad); }, "malformed");
  }
}

TEST(TicketBody, SigningRefusesInvalidBodies) {
  const KeyPair kp = test::fixed_keypair(4);
  TicketBody b = full_ticket();
  b.purpose = "\xff";  // not UTF-8
  expect_reason([&] { sign_ticket(b, kp.secret); }, "malformed");
  b = full_ticket();
  b.subjects.clear();
  expect_reason([&] { sign_ticket(b, kp.secret); }, "malformed");
  b = full_ticket();
  b.hosts = {"bad"};
  expect_reason([&] { sign_ticket(b, kp.secret); }, "malformed");
  b = full_ticket();
  b.subjects.resize(kMaxSubjects, b.subjects[0]);
  EXPECT_NO_THROW(sign_ticket(b, kp.secret));
  b.subjects.push_back(b.subjects[0]);
  expect_reason([&] { sign_ticket(b, kp.secret); }, "malformed");
}

TEST(RevocationBody, EveryRuleNamesItsField) {
  const json good = json::parse(serialize_revocation_body(test::full_revocation()));
  const std::vector<BadField> cases = {
      {[](json& j) { j.erase("id"); }, "'id'"},
      {[](json& j) { j["id"] = "x"; }, "'id'"},
      {[](json& j) { j.erase("revoked"); }, "'revoked'"},
      {[](json& j) { j["revoked"] = json::array(); }, "'revoked'"},
      {[](json& j) { j["revoked"][1] = "nope"; }, "'revoked[1]'"},
      {[](json& j) { j["revoked"][0] = 1; }, "'revoked[0]'"},
      {[](json& j) { j.erase("issued_at"); }, "'issued_at'"},
      {[](json& j) { j["issued_at"] = "now"; }, "'issued_at'"},
      {[](json& j) { j["reason"] = 1; }, "'reason'"},
      {[](json& j) { j["extra"] = 1; }, "unknown field 'extra'"},
  };
  for (const auto& c : cases) {
    json j = good;
    c.fn(j);
    std::string msg = expect_reason([&] { parse_revocation_body(j.dump()); }, "malformed");
    EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
  }
}

TEST(NewTicketId, Is32LowerHexAndRandom) {
  std::string a = new_ticket_id(), b = new_ticket_id();
  EXPECT_TRUE(is_lower_hex(a, 32));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace execgate
