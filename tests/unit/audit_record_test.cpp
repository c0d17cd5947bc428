// Record format: canonical bytes, hash, line format, time stamps, checkpoint signatures.
#include <sodium.h>

#include "audit_test_util.h"
#include "common/encoding.h"
#include "execgate/error.h"

namespace execgate {
namespace {

TEST(AuditRecord, CanonicalIsSortedCompactUtf8) {
  nlohmann::json r = {{"seq", 3}, {"event", "exec"}, {"path", "/tmp/é x"}, {"a", nullptr}, {"B", 1}};
  EXPECT_EQ(audit_canonical(r), R"({"B":1,"a":null,"event":"exec","path":"/tmp/é x","seq":3})");
}

TEST(AuditRecord, InvalidUtf8IsReplaced) {
  nlohmann::json r = {{"path", std::string("/tmp/\xff\xfe")}};
  EXPECT_EQ(audit_canonical(r), "{\"path\":\"/tmp/\xEF\xBF\xBD\xEF\xBF\xBD\"}");
}

TEST(AuditRecord, HashIsBlake2b256OfCanonical) {
  // BLAKE2b-256("") from RFC 7693 reference implementations.
  EXPECT_EQ(audit_hash_hex(""), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(audit_hash_hex("abc"), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(AuditRecord, LineRoundTrip) {
  nlohmann::json r = {{"seq", 1}, {"event", "daemon_start"}, {"prev", std::string(kAuditGenesisPrev)},
                      {"time", format_audit_time(0, 5)}};
  std::string c = audit_canonical(r);
  std::string h = audit_hash_hex(c);
  std::string line = audit_line(c, h);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_EQ(line.substr(line.size() - 75), ",\"hash\":\"" + h + "\"}");
  nlohmann::json parsed;
  std::string why;
  ASSERT_TRUE(parse_audit_line(line, &parsed, &why)) << why;
  EXPECT_EQ(parsed["hash"], h);
  EXPECT_EQ(parsed["seq"], 1);
}

TEST(AuditRecord, ParseRejectsNonCanonicalAndEdits) {
  nlohmann::json r = {{"seq", 1}, {"event", "exec"}, {"verdict", "deny"}};
  std::string c = audit_canonical(r);
  std::string line = audit_line(c, audit_hash_hex(c));
  line.pop_back();
  nlohmann::json out;
  std::string why;
  // Whitespace added.
  std::string spaced = line;
  spaced.insert(1, " ");
  EXPECT_FALSE(parse_audit_line(spaced, &out, &why));
  EXPECT_NE(why.find("canonical"), std::string::npos);
  // Duplicate member (a JSON reader might see either value).
  std::string dup = line;
  dup.insert(1, "\"verdict\":\"allow\",");
  EXPECT_FALSE(parse_audit_line(dup, &out, &why));
  // Edited value.
  std::string edited = line;
  edited.replace(edited.find("deny"), 4, "allo");
  EXPECT_FALSE(parse_audit_line(edited, &out, &why));
  EXPECT_NE(why.find("hash"), std::string::npos);
  EXPECT_FALSE(parse_audit_line("{\"seq\":1", &out, &why));
  EXPECT_FALSE(parse_audit_line("[1]", &out, &why));
}

TEST(AuditRecord, FastCanonicalMatchesDump) {
  std::vector<nlohmann::json> cases = {
      nlohmann::json::object(),
      {{"event", "exec"}, {"pid", 1}, {"uid", -5}, {"ticket", nullptr}, {"lineage", {"a", "b"}}},
      {{"pa", 1}, {"pz", 2}, {"s", true}, {"sz", false}, {"ti", 1.5}, {"tz", 0.1}, {"Z", "x"}, {"é", "ü"}},
      {{"path", "/tmp/a\"b\\c\n\u001f\u007f"}, {"comm", std::string("\xff\xc3")}, {"big", 18446744073709551615ull}},
      {{"detail", {{"nested", {1, 2, {{"k", "v"}}}}, {"empty", nlohmann::json::array()}}}, {"time", "caller's"}},
  };
  const std::string prev(kAuditGenesisPrev);
  for (auto c : cases) {
    std::string fast;
    append_audit_canonical(fast, c, 42, "2024-01-01T00:00:00.000000001Z", prev);
    c["seq"] = 42;
    c["time"] = "2024-01-01T00:00:00.000000001Z";
    c["prev"] = prev;
    EXPECT_EQ(fast, audit_canonical(c));
  }
}

TEST(AuditRecord, TimeFormat) {
  EXPECT_EQ(format_audit_time(0, 0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_audit_time(1714566896, 123456789), "2024-05-01T12:34:56.123456789Z");
}

TEST(AuditRecord, Events) {
  for (const char* e : {"exec", "ticket_installed", "ticket_refused", "ticket_expired", "ticket_revoked", "gap",
                        "checkpoint", "daemon_start", "daemon_stop"})
    EXPECT_TRUE(is_audit_event(e)) << e;
  EXPECT_FALSE(is_audit_event("exec2"));
}

TEST(AuditCheckpoint, MessageLayout) {
  std::string head(64, 'a');
  auto m = audit_checkpoint_message(0x0102030405060708ull, head);
  ASSERT_EQ(m.size(), 29u + 8u + 32u);
  EXPECT_EQ(std::string(m.begin(), m.begin() + 28), "execgate-audit-checkpoint-v1");
  EXPECT_EQ(m[28], 0);
  EXPECT_EQ(m[29], 1);
  EXPECT_EQ(m[36], 8);
  EXPECT_EQ(m[37], 0xaa);
  EXPECT_THROW(audit_checkpoint_message(1, "xyz"), Error);
}

TEST(AuditCheckpoint, SignVerify) {
  KeyPair kp = generate_keypair(), other = generate_keypair();
  std::string head = audit_hash_hex("x");
  std::string sig = sign_audit_checkpoint(7, head, kp.secret);
  EXPECT_TRUE(verify_audit_checkpoint(7, head, sig, kp.pub));
  EXPECT_FALSE(verify_audit_checkpoint(8, head, sig, kp.pub));
  EXPECT_FALSE(verify_audit_checkpoint(7, audit_hash_hex("y"), sig, kp.pub));
  EXPECT_FALSE(verify_audit_checkpoint(7, head, sig, other.pub));
  EXPECT_FALSE(verify_audit_checkpoint(7, head, "not base64", kp.pub));
}

// Found by the audit-line fuzzer: the line of an empty object was `{,"hash":...}`.
TEST(AuditRecord, EmptyObjectLineRoundTrips) {
  const std::string line = audit_line("{}", audit_hash_hex("{}"));
  EXPECT_EQ(line, "{\"hash\":\"" + audit_hash_hex("{}") + "\"}\n");
  nlohmann::json back;
  std::string why;
  EXPECT_TRUE(parse_audit_line(std::string_view(line).substr(0, line.size() - 1), &back, &why)) << why;
}

}  // namespace
}  // namespace execgate
