// Runs the built `execgate` binary: the issue #2 "done when" scenario, byte flips of the
// payload / signature / key id (exit 3, one-line reason), usage errors (exit 2).
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <cstring>
#include <sstream>

#include "common/fs.h"
#include "cli_run.h"
#include "ticket_test_util.h"


namespace execgate {
namespace {

using test::Result;
using test::sh_quote;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct stat st {};
    ASSERT_EQ(::stat(EXECGATE_CLI_PATH, &st), 0) << EXECGATE_CLI_PATH << " missing: build the execgate target first";
  }

  Result run(const std::string& args) { return test::run_cli(dir.path().string(), args); }

  std::string slurp(const std::string& name) { return read_file(dir.file(name), 1 << 20); }
  void put(const std::string& name, const std::string& data) { write_file_atomic(dir.file(name), data); }

  // keygen + issue --this-host, the done-when scenario up to verify.
  void issue_ticket() {
    Result r = run("keygen -o ops");
    ASSERT_EQ(r.rc, 0) << r.err;
    key_id = PublicKey(load_public_key(dir.file("ops.pub"))).key_id();
    EXPECT_NE(r.out.find(key_id), std::string::npos) << r.out;
    r = run("issue --key ops.key --binary /usr/bin/true --ttl 1h --this-host -o t.json");
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find(key_id), std::string::npos) << r.out;
  }

  test::TempDir dir;
  std::string key_id;
};

TEST_F(CliTest, DoneWhenScenario) {
  issue_ticket();
  Result r = run("verify --pub ops.pub t.json");
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(key_id), std::string::npos) << r.out;
  r = run("inspect t.json");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("/usr/bin/true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(key_id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(hex_encode(sha256_file("/usr/bin/true"))), std::string::npos) << r.out;
  r = run("--json verify --pub ops.pub t.json");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("\"valid\":true"), std::string::npos) << r.out;
  r = run("verify --pub ops.pub t.json --json");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("\"valid\":true"), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("ops.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Replaces the JSON string value of `key` in text by fn(value).
std::string edit_value(const std::string& text, const std::string& key, std::size_t i, char c) {
  const std::string needle = "\"" + key + "\":\"";
  std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << key;
  std::string out = text;
  out[at + needle.size() + i] = c;
  return out;
}

std::size_t value_len(const std::string& text, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  std::size_t at = text.find(needle) + needle.size();
  return text.find('"', at) - at;
}

void expect_invalid_one_line(const Result& r, const std::string& what) {
  EXPECT_EQ(r.rc, 3) << what << "\n" << r.out << r.err;
  const std::string all = r.out + r.err;
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 1) << what << ": " << all;
  bool named = false;
  for (const char* reason : {"bad_signature", "untrusted_issuer", "malformed"})
    named = named || all.find(reason) != std::string::npos;
  EXPECT_TRUE(named) << what << ": " << all;
}

TEST_F(CliTest, EveryChangedByteOfPayloadSignatureOrKeyIdIsRejected) {
  issue_ticket();
  const std::string good = slurp("t.json");
  for (const char* field : {"payload", "sig", "keyid"}) {
    const std::size_t n = value_len(good, field);
    ASSERT_GT(n, 0u);
    // Every position of the base64 payload, the signature and the key id.
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = good.find("\"" + std::string(field) + "\":\"") + std::strlen(field) + 4 + i;
      const char orig = good[at];
      for (char c : {static_cast<char>(orig == 'A' ? 'B' : 'A'), static_cast<char>(orig == '1' ? '2' : '1')}) {
        if (c == orig) continue;
        put("bad.json", edit_value(good, field, i, c));
        expect_invalid_one_line(run("verify --pub ops.pub bad.json"), std::string(field) + "[" + std::to_string(i) + "]");
      }
    }
  }
  // A flipped bit inside the decoded payload.
  dsse::Envelope env = dsse::decode(good);
  env.payload[env.payload.size() / 2] ^= 1;
  put("bad.json", dsse::encode(env));
  Result r = run("verify --pub ops.pub bad.json");
  expect_invalid_one_line(r, "decoded payload flip");
  EXPECT_NE(r.out.find("bad_signature"), std::string::npos) << r.out;
}

TEST_F(CliTest, WrongKeyIsUntrustedIssuer) {
  issue_ticket();
  ASSERT_EQ(run("keygen -o other").rc, 0);
  Result r = run("verify --pub other.pub t.json");
  expect_invalid_one_line(r, "other key");
  EXPECT_NE(r.out.find("untrusted_issuer"), std::string::npos) << r.out;
  r = run("--json verify --pub other.pub t.json");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.out.find("\"reason\":\"untrusted_issuer\""), std::string::npos) << r.out;
}

TEST_F(CliTest, ExpiredAndNotYetValid) {
  ASSERT_EQ(run("keygen -o ops").rc, 0);
  ASSERT_EQ(run("issue --key ops.key --sha256 " + std::string(64, 'a') + " --host '*' --ttl 90s --not-before 1000 -o old.json").rc, 0);
  Result r = run("verify --pub ops.pub old.json");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.out.find("expired"), std::string::npos) << r.out;
  ASSERT_EQ(run("issue --key ops.key --binary /usr/bin/true --this-host --ttl 15m --not-before +1h -o later.json").rc, 0);
  r = run("verify --pub ops.pub later.json");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.out.find("not_yet_valid"), std::string::npos) << r.out;
}

TEST_F(CliTest, RevokeInspectVerify) {
  ASSERT_EQ(run("keygen -o ops").rc, 0);
  const std::string id = "0123456789abcdef0123456789abcdef";
  Result r = run("revoke --key ops.key " + id + " --reason 'leaked' -o rev.json");
  ASSERT_EQ(r.rc, 0) << r.err;
  r = run("verify --pub ops.pub rev.json");
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  r = run("inspect rev.json");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("leaked"), std::string::npos) << r.out;
  EXPECT_EQ(run("revoke --key ops.key NOTANID -o rev2.json").rc, 2);
}

// delegate, issue --delegation, inspect and verify the chain; a ticket beyond its
// delegation fails verify (delegation_exceeded); a chain continued with --under.
TEST_F(CliTest, DelegateIssueUnderItAndVerifyTheChain) {
  issue_ticket();
  ASSERT_EQ(run("keygen -o ci").rc, 0);
  ASSERT_EQ(run("keygen -o job").rc, 0);
  const std::string ci_id = load_public_key(dir.file("ci.pub")).key_id();
  Result r = run("delegate --key ops.key --to ci.pub --ttl 1d --max-ttl 30m --host '*' --depth 1 --may-mark-builders "
                 "-o ci.delegation");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(ci_id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("may mark builders"), std::string::npos) << r.out;
  r = run("inspect ci.delegation");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("delegate    " + ci_id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_ttl            1800 s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("may_mark_builders  yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_depth          1 further"), std::string::npos) << r.out;
  // the body as signed: delegate is the key id, the key beside it, the limits in constraints
  r = run("--json inspect ci.delegation");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto body = nlohmann::json::parse(r.out)["chain"][0]["body"];
  EXPECT_EQ(body["delegate"], ci_id) << r.out;
  EXPECT_EQ(body["delegate_key"], base64_encode(load_public_key(dir.file("ci.pub")).bytes)) << r.out;
  EXPECT_EQ(body["constraints"]["max_ttl"], 1800) << r.out;
  EXPECT_EQ(body["constraints"]["may_mark_builders"], true) << r.out;
  EXPECT_FALSE(body.contains("max_ttl")) << r.out;
  // the flag's old name is gone
  EXPECT_EQ(run("delegate --key ops.key --to ci.pub --ttl 1d --max-ttl 30m --host '*' --builders -o old.delegation").rc,
            2);
  r = run("issue --key ci.key --delegation ci.delegation --binary /usr/bin/true --ttl 10m --this-host -o d.json");
  ASSERT_EQ(r.rc, 0) << r.err;
  r = run("verify --pub ops.pub d.json");
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("under delegation"), std::string::npos) << r.out;
  r = run("inspect d.json");
  EXPECT_NE(r.out.find("issued under a delegation chain"), std::string::npos) << r.out;
  // beyond max_ttl: signed fine, refused by verify (and by every daemon)
  ASSERT_EQ(run("issue --key ci.key --delegation ci.delegation --binary /usr/bin/true --ttl 1h --this-host -o long.json").rc,
            0);
  r = run("verify --pub ops.pub long.json");
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_NE(r.out.find("delegation_exceeded"), std::string::npos) << r.out;
  // the wrong key for the delegation: refused before signing
  r = run("issue --key job.key --delegation ci.delegation --binary /usr/bin/true --ttl 10m --this-host -o x.json");
  EXPECT_EQ(r.rc, 2) << r.err;
  // a second link, signed by ci under its own delegation
  r = run("delegate --key ci.key --to job.pub --ttl 1h --max-ttl 5m --this-host --under ci.delegation -o job.delegation");
  EXPECT_NE(r.rc, 0);  // --this-host is not an option of delegate
  const std::string host = read_file_trimmed("/etc/machine-id", 64);
  r = run("delegate --key ci.key --to job.pub --ttl 1h --max-ttl 5m --host " + host +
          " --under ci.delegation -o job.delegation");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("chain of 2"), std::string::npos) << r.out;
  ASSERT_EQ(run("issue --key job.key --delegation job.delegation --binary /usr/bin/true --ttl 5m --this-host -o j.json").rc,
            0);
  r = run("--json verify --pub ops.pub j.json");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\"issuer_key_id\":\"" + key_id + "\""), std::string::npos) << r.out;
}

TEST_F(CliTest, UsageErrorsExit2) {
  ASSERT_EQ(run("keygen -o ops").rc, 0);
  const std::string base = "issue --key ops.key --binary /usr/bin/true -o t.json ";
  for (const std::string& args :
       {base + "--this-host --ttl 1x", base + "--this-host --ttl 10", base + "--this-host --ttl ''",
        base + "--this-host", base + "--ttl 1h", base + "--ttl 1h --host nothex",
        base + "--ttl 1h --this-host --host '*'", base + "--ttl 1h --this-host --uid -1",
        base + "--ttl 1h --this-host --uid x", base + "--ttl 1h --this-host --max-uses -2",
        base + "--ttl 1h --this-host --parent xyz", base + "--ttl 1h --this-host --not-before yesterday",
        base + "--ttl 1h --this-host --sha256 abc", std::string("issue --key ops.key --ttl 1h --this-host -o t.json"),
        std::string("verify t.json"), std::string("nosuchverb"), std::string("keygen")}) {
    Result r = run(args);
    EXPECT_EQ(r.rc, 2) << args << "\n" << r.out << r.err;
  }
}

TEST_F(CliTest, KeygenRefusesToOverwrite) {
  ASSERT_EQ(run("keygen -o ops").rc, 0);
  const std::string before = slurp("ops.key");
  EXPECT_NE(run("keygen -o ops").rc, 0);
  EXPECT_EQ(slurp("ops.key"), before);
  EXPECT_EQ(run("keygen -o ops --force").rc, 0);
  EXPECT_NE(slurp("ops.key"), before);
}

TEST_F(CliTest, InsecureSecretKeyIsRefusedWithChmodHint) {
  ASSERT_EQ(run("keygen -o ops").rc, 0);
  ASSERT_EQ(::chmod(dir.file("ops.key").c_str(), 0644), 0);
  Result r = run("issue --key ops.key --binary /usr/bin/true --ttl 1h --this-host -o t.json");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("chmod 600 ops.key"), std::string::npos) << r.err;
  struct stat st {};
  EXPECT_NE(::stat(dir.file("t.json").c_str(), &st), 0) << "ticket written with an insecure key";
}

TEST_F(CliTest, GarbageInputsNeverCrash) {
  ASSERT_EQ(run("keygen -o ops").rc, 0);
  const std::vector<std::string> inputs = {"", "{}", "null", "[", std::string(70000, 'x'), "\xff\xfe\x00",
                                           R"({"payloadType":"application/vnd.execgate.ticket.v1+json","payload":"e30=","signatures":[{"keyid":"0000000000000000","sig":"AAAA"}]})"};
  for (const auto& in : inputs) {
    put("g.json", in);
    for (const char* verb : {"inspect g.json", "verify --pub ops.pub g.json", "verify --pub g.json g.json"}) {
      Result r = run(verb);
      EXPECT_TRUE(r.rc == 3 || r.rc == 1) << verb << " rc=" << r.rc << " " << r.err;
    }
  }
  EXPECT_EQ(run("inspect /dev/null").rc, 3);
  EXPECT_EQ(run("inspect .").rc, 3);
  EXPECT_EQ(run("inspect missing.json").rc, 3);
}

}  // namespace
}  // namespace execgate
