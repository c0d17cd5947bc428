// Runs the built `execgate fleet` verbs against a real etcd (tests/support's EtcdServer):
// enroll writes the host's pub, approve signs it (and refuses a host without one), publish
// verifies every file before it writes any, status counts an ack only under a key an
// issuer approved, --wait-revision's exit codes, and etcd's auth from --user/--password-file;
// `audit verify --fleet` catches a log rewritten with the host's own key, or cut back,
// before a checkpoint the host published.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "execgate/audit.h"
#include "etcd_server.h"
#include "fleet/etcd_client.h"
#include "fleet/layout.h"
#include "fleet/statements.h"
#include "cli_run.h"
#include "ticket_test_util.h"


namespace execgate {
namespace {

using nlohmann::json;
using test::EtcdServer;

constexpr const char* kHost = "3d1219c7c4c5404aaa1f6d2a48adfda4";
constexpr const char* kOther = "0123456789abcdef0123456789abcdef";

using test::Result;
using test::sh_quote;

// A policy with [fleet] on this etcd and prefix, the operator's key as its issuer and the
// host's audit key as its signing key; extra is appended to [fleet].
std::string policy_text(const test::TempDir& dir, const std::string& endpoint, const std::string& prefix,
                        const std::string& extra = "") {
  return "name = \"fleet-test\"\n[scope]\nhost = true\n"
         "[[issuer]]\nname = \"ops\"\npubkey = \"" + dir.file("ops.pub") + "\"\n"
         "[audit]\nsigning_key = \"" + dir.file("host.key") + "\"\n"
         "[fleet]\nendpoints = [\"" + endpoint + "\"]\nprefix = \"" + prefix + "\"\n" + extra;
}

class FleetCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new EtcdServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    struct stat st {};
    ASSERT_EQ(::stat(EXECGATE_CLI_PATH, &st), 0) << EXECGATE_CLI_PATH << " missing: build the execgate target first";
    // One prefix per test on the suite's etcd.
    layout.prefix = std::string("/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (const char* k : {"ops", "host", "intruder"}) ASSERT_EQ(run(std::string("keygen -o ") + k).rc, 0);
    write_file_atomic(dir.file("machine-id"), std::string(kHost) + "\n");
    write_file_atomic(dir.file("tool"), "#!/bin/sh\n");  // what the tickets name
    write_file_atomic(dir.file("policy.toml"), policy_text(dir, server_->endpoint(), layout.prefix));
    etcd = std::make_unique<fleet::EtcdClient>(server_->client_options());
  }

  Result run(const std::string& args) { return test::run_cli(dir.path().string(), args); }
  // `execgate [--json] fleet VERB --config policy.toml ARGS`
  Result verb(const std::string& name, const std::string& args = "", bool json_out = false) {
    return run(std::string(json_out ? "--json " : "") + "fleet " + name + " --config policy.toml " + args);
  }

  std::optional<std::string> value(const std::string& key) {
    const auto r = etcd->range(key);
    if (r.kvs.empty()) return std::nullopt;
    return r.kvs[0].value;
  }
  std::int64_t keys_under_prefix() { return etcd->range_prefix(layout.prefix + "/").count; }

  // The host enrolled and approved by the operator.
  void enroll_and_approve() {
    Result r = verb("enroll", "--machine-id machine-id");
    ASSERT_EQ(r.rc, 0) << r.err;
    r = verb("approve", std::string(kHost) + " --key ops.key");
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  // An ack of revision REV for kHost, signed with KEY_NAME.key, as execgate-sync writes it.
  void write_ack(std::int64_t rev, const std::string& key_name = "host") {
    fleet::FleetAck a{kHost, rev, std::string(64, 'b'), 3, 1, 42, "head", false, SystemClock().now()};
    etcd->put(layout.ack(kHost), fleet::sign_ack(a, load_secret_key(dir.file(key_name + ".key"))));
  }
  json status_json() {
    const Result r = verb("status", "", true);
    EXPECT_EQ(r.rc, 0) << r.err;
    return json::parse(r.out);
  }
  std::string issue(const std::string& key_name, const std::string& out) {
    const Result r =
        run("issue --key " + key_name + ".key --binary " + dir.file("tool") + " --ttl 1h --host " + kHost + " -o " + out);
    EXPECT_EQ(r.rc, 0) << r.err;
    return parse_document_unverified(read_file(dir.file(out), 1 << 16)).ticket->id;
  }

  static EtcdServer* server_;
  test::TempDir dir;
  fleet::FleetLayout layout;
  std::unique_ptr<fleet::EtcdClient> etcd;
};

EtcdServer* FleetCliTest::server_ = nullptr;

TEST_F(FleetCliTest, EnrollWritesThePub) {
  const Result r = verb("enroll", "--machine-id machine-id");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string key_id = load_public_key(dir.file("host.pub")).key_id();
  EXPECT_NE(r.out.find(kHost), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(key_id), std::string::npos) << r.out;
  EXPECT_EQ(value(layout.pub(kHost)), read_file(dir.file("host.pub"), 4096));
}

TEST_F(FleetCliTest, ApproveWritesAnApprovalThatVerifies) {
  enroll_and_approve();
  const auto env = value(layout.approval(kHost));
  ASSERT_TRUE(env);
  std::string signer;
  const auto a = fleet::verify_host_approval(*env, {load_public_key(dir.file("ops.pub"))}, &signer);
  EXPECT_EQ(a.host, kHost);
  EXPECT_EQ(a.key, read_file(dir.file("host.pub"), 4096));
  EXPECT_EQ(a.key_id, load_public_key(dir.file("host.pub")).key_id());
  EXPECT_EQ(signer, load_public_key(dir.file("ops.pub")).key_id());
  // The operator checks the key id out of band: another one is refused.
  const Result r = verb("approve", std::string(kHost) + " --key ops.key --expect-key-id 0000000000000000");
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("0000000000000000"), std::string::npos) << r.err;
}

TEST_F(FleetCliTest, ApproveRefusesAHostWithoutAUsablePub) {
  Result r = verb("approve", std::string(kOther) + " --key ops.key");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find(kOther), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("enroll"), std::string::npos) << r.err;
  etcd->put(layout.pub(kOther), "not a key\n");
  r = verb("approve", std::string(kOther) + " --key ops.key");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("does not parse"), std::string::npos) << r.err;
  r = verb("approve", "not-a-machine-id --key ops.key");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("machine id"), std::string::npos) << r.err;
  EXPECT_FALSE(value(layout.approval(kOther)));
}

TEST_F(FleetCliTest, PublishVerifiesEveryFileBeforeWritingAny) {
  const std::string good = issue("ops", "t.json");
  issue("intruder", "forged.json");  // signed by a key that is no issuer
  write_file_atomic(dir.file("garbage.json"), "{}\n");
  Result r = verb("publish", "t.json forged.json garbage.json");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("forged.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("untrusted_issuer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("garbage.json"), std::string::npos) << r.err;
  EXPECT_EQ(keys_under_prefix(), 0);

  r = verb("publish", "t.json");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(layout.tickets() + good), std::string::npos) << r.out;
  EXPECT_EQ(value(layout.tickets() + good), read_file_trimmed(dir.file("t.json"), 1 << 16));

  // A revocation goes under revocations/, a host's ticket under its own tickets/.
  ASSERT_EQ(run("revoke --key ops.key " + good + " -o r.json").rc, 0);
  const std::string rid = parse_document_unverified(read_file(dir.file("r.json"), 1 << 16)).revocation->id;
  r = verb("publish", std::string("r.json t.json --host ") + kHost, true);
  ASSERT_EQ(r.rc, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u) << r.out;
  EXPECT_EQ(j[0]["key"], layout.revocations() + rid);
  EXPECT_EQ(j[1]["key"], layout.host_tickets(kHost) + good);
  EXPECT_GT(j[1]["revision"].get<std::int64_t>(), 0);
  EXPECT_TRUE(value(layout.revocations() + rid));
  EXPECT_TRUE(value(layout.host_tickets(kHost) + good));
  // A ticket for one host that does not name it would be refused there: refused here.
  r = verb("publish", std::string("t.json --host ") + kOther);
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find(kOther), std::string::npos) << r.err;
}

// What the hosts admit beyond a signature is checked before writing: the issuer's max_ttl,
// and "*" only from an issuer with allow_any_host.
TEST_F(FleetCliTest, PublishRefusesWhatTheIssuersLimitsRefuse) {
  write_file_atomic(dir.file("policy.toml"),
                    std::string("name = \"fleet-test\"\n[scope]\nhost = true\n[[issuer]]\nname = \"ops\"\npubkey = \"") +
                        dir.file("ops.pub") + "\"\nmax_ttl = \"30m\"\n[fleet]\nendpoints = [\"" + server_->endpoint() +
                        "\"]\nprefix = \"" + layout.prefix + "\"\n");
  issue("ops", "long.json");  // --ttl 1h
  Result r = verb("publish", "long.json");
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("ttl_too_long"), std::string::npos) << r.err;
  ASSERT_EQ(run("issue --key ops.key --binary " + dir.file("tool") + " --ttl 10m --host '*' -o any.json").rc, 0);
  r = verb("publish", "any.json");
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("allow_any_host"), std::string::npos) << r.err;
  EXPECT_EQ(keys_under_prefix(), 0);
}

TEST_F(FleetCliTest, StatusCountsAnAckUnderTheApprovedKey) {
  enroll_and_approve();
  write_ack(7);
  const json j = status_json();
  ASSERT_EQ(j["hosts"].size(), 1u) << j;
  const json& h = j["hosts"][0];
  EXPECT_EQ(h["host"], kHost);
  EXPECT_TRUE(h["approved"].get<bool>());
  EXPECT_TRUE(h["counted"].get<bool>());
  EXPECT_EQ(h["ack"]["revision"], 7);
  EXPECT_EQ(h["ack"]["audit_seq"], 42);
  const Result r = verb("status");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(std::string(kHost) + "  " + load_public_key(dir.file("host.pub")).key_id() + "  yes"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("bbbbbbbbbbbb "), std::string::npos) << r.out;  // the digest's first 12
}

TEST_F(FleetCliTest, AnAckSignedByAnotherKeyIsNotCounted) {
  enroll_and_approve();
  write_ack(7, "intruder");
  const json h = status_json()["hosts"][0];
  EXPECT_TRUE(h["approved"].get<bool>());
  EXPECT_FALSE(h["counted"].get<bool>());
  EXPECT_TRUE(h["ack"].is_null());
  EXPECT_NE(h["notes"].dump().find("does not verify"), std::string::npos) << h;
  const Result r = verb("status", "--wait-revision 1 --timeout 1s");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find(kHost), std::string::npos) << r.err;
}

TEST_F(FleetCliTest, WaitRevision) {
  enroll_and_approve();
  write_ack(5);
  Result r = verb("status", "--wait-revision 6 --timeout 1s");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find(std::string("host ") + kHost + ": acknowledged revision 5 < 6"), std::string::npos) << r.err;
  r = verb("status", "--wait-revision 5 --timeout 1s");
  EXPECT_EQ(r.rc, 0) << r.err;
  write_ack(9);
  r = verb("status", "--wait-revision 6 --timeout 1s");
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST_F(FleetCliTest, AHostNotApprovedIsShownButNeverCounts) {
  ASSERT_EQ(verb("enroll", "--machine-id machine-id").rc, 0);
  write_ack(5);
  const json h = status_json()["hosts"][0];
  EXPECT_EQ(h["host"], kHost);
  EXPECT_FALSE(h["approved"].get<bool>());
  EXPECT_FALSE(h["counted"].get<bool>());
  EXPECT_NE(h["notes"].dump().find("not approved"), std::string::npos) << h;
  Result r = verb("status", "--wait-revision 1 --timeout 1s");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("no approved host"), std::string::npos) << r.err;
  // An approval signed by a key that is no issuer approves nothing.
  ASSERT_EQ(verb("approve", std::string(kHost) + " --key intruder.key").rc, 0);
  EXPECT_FALSE(status_json()["hosts"][0]["approved"].get<bool>());
}

// An approval binds the host to the key it approved: the host enrolling another key (or
// deleting its subtree, which its etcd role may) does not drop it from the hosts waited
// for, and only acks under the approved key count. The host cannot touch the approval.
TEST_F(FleetCliTest, AnApprovedHostStaysBoundToItsApprovedKey) {
  enroll_and_approve();
  EXPECT_EQ(layout.approval(kHost), layout.prefix + "/approvals/" + kHost);  // outside hosts/<id>/
  etcd->put(layout.pub(kHost), read_file(dir.file("intruder.pub"), 4096));
  write_ack(5, "intruder");
  json h = status_json()["hosts"][0];
  EXPECT_TRUE(h["approved"].get<bool>()) << h;
  EXPECT_FALSE(h["counted"].get<bool>()) << h;
  EXPECT_EQ(h["key_id"], load_public_key(dir.file("host.pub")).key_id());
  EXPECT_NE(h["notes"].dump().find("approve it again"), std::string::npos) << h;
  Result r = verb("status", "--wait-revision 5 --timeout 1s");
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find(kHost), std::string::npos) << r.err;
  // its whole subtree gone: still listed, still waited for
  etcd->remove_prefix(layout.host_dir(kHost));
  h = status_json()["hosts"][0];
  EXPECT_EQ(h["host"], kHost);
  EXPECT_TRUE(h["approved"].get<bool>());
  r = verb("status", "--wait-revision 5 --timeout 1s");
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("no ack"), std::string::npos) << r.err;
}

TEST_F(FleetCliTest, ConnectionOptions) {
  write_file_atomic(dir.file("nofleet.toml"), "[scope]\nhost = true\n");
  Result r = run("fleet status --config nofleet.toml");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--endpoints"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("has no [fleet]"), std::string::npos) << r.err;
  // --endpoints and --prefix alone reach etcd (enroll needs no issuer).
  r = run("fleet enroll --config nofleet.toml --endpoints " + server_->endpoint() + " --prefix " + layout.prefix +
          "/other --audit-pub host.pub --machine-id machine-id");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(value(layout.prefix + "/other/hosts/" + kHost + "/pub"));
  r = run("fleet enroll --config nofleet.toml --endpoints http://10.0.0.1:2379 --audit-pub host.pub");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("loopback"), std::string::npos) << r.err;
  r = run("fleet status --config nofleet.toml --endpoints " + server_->endpoint());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("[[issuer]]"), std::string::npos) << r.err;
}

// etcd with auth on: the user and password on the command line override the policy's none.
TEST(FleetCliAuth, UserAndPasswordFile) {
  test::EtcdServerOptions so;
  so.auth = true;
  EtcdServer server(so);
  server.add_user("operator", "op-secret", "/fleet");
  test::TempDir dir;
  const auto run = [&](const std::string& args) {
    const std::string cmd = "cd " + sh_quote(dir.path().string()) + " && " + sh_quote(EXECGATE_CLI_PATH) + " " +
                            args + " >out 2>err </dev/null";
    const int st = std::system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  };
  ASSERT_EQ(run("keygen -o ops"), 0);
  ASSERT_EQ(run("keygen -o host"), 0);
  write_file_atomic(dir.file("machine-id"), std::string(kHost) + "\n");
  write_file_atomic(dir.file("policy.toml"), policy_text(dir, server.endpoint(), "/fleet"));
  write_file_atomic(dir.file("password"), "op-secret\n", 0600);
  write_file_atomic(dir.file("wrong"), "not-it\n", 0600);
  const std::string base = "fleet enroll --config policy.toml --machine-id machine-id";
  EXPECT_EQ(run(base + " --user operator --password-file wrong"), 3) << read_file(dir.file("err"), 1 << 16);
  EXPECT_NE(run(base), 0);  // no credentials
  ASSERT_EQ(run(base + " --user operator --password-file " + dir.file("password")), 0)
      << read_file(dir.file("err"), 1 << 16);
  EXPECT_EQ(run("fleet approve " + std::string(kHost) + " --key ops.key --config policy.toml --user operator"), 2);
  ASSERT_EQ(run("fleet approve " + std::string(kHost) +
                " --key ops.key --config policy.toml --user operator --password-file password"),
            0)
      << read_file(dir.file("err"), 1 << 16);
  fleet::EtcdClient etcd(server.client_options());
  EXPECT_EQ(etcd.range("/fleet/hosts/" + std::string(kHost) + "/pub").kvs.size(), 1u);
  EXPECT_EQ(etcd.range("/fleet/approvals/" + std::string(kHost)).kvs.size(), 1u);
}

}  // namespace
}  // namespace execgate

namespace execgate {
namespace {

// A host's audit log as execgated writes it, and its checkpoints published as execgate-sync
// publishes them (the stored line under checkpoints/<seq>, create-only).
class AuditFleetTest : public FleetCliTest {
 protected:
  void SetUp() override {
    FleetCliTest::SetUp();
    enroll_and_approve();
  }
  AuditOptions log_options() {
    AuditOptions o;
    o.path = dir.file("log/audit.jsonl");
    o.signing_key_path = dir.file("host.key");
    o.checkpoint_every = 10;
    o.try_append_only = false;
    o.reserve_bytes = 0;
    return o;
  }
  // N exec records (their comm from TAG), then the final checkpoint.
  void write_log(int n, const std::string& tag) {
    auto log = AuditLog::open(log_options());
    for (int i = 0; i < n; ++i)
      log->append({{"event", "exec"}, {"verdict", "allow"}, {"reason", "ticket"}, {"comm", tag + std::to_string(i)}});
    log->close();
  }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::istringstream in(read_file(log_options().path, 1 << 22));
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void publish_checkpoints() {
    for (const auto& l : lines()) {
      const json r = json::parse(l);
      if (r["event"] == "checkpoint")
        etcd->create(layout.checkpoint(kHost, r["seq"].get<std::uint64_t>()), l);
    }
  }
  Result verify(const std::string& extra = "") {
    return run("audit verify log --fleet --host " + std::string(kHost) + " --config policy.toml " + extra);
  }
};

TEST_F(AuditFleetTest, TheLogHoldsWhatItPublished) {
  write_log(25, "a");  // checkpoints at 11, 22 and the final 28
  publish_checkpoints();
  const Result r = verify();
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("published 3 checkpoint(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the log holds every one"), std::string::npos) << r.out;
}

TEST_F(AuditFleetTest, ALogRewrittenWithTheHostsKeyIsCaught) {
  write_log(25, "a");
  publish_checkpoints();
  // root on the host writes another history, as long, signed with the key that sits there
  std::filesystem::remove_all(dir.file("log"));
  write_log(25, "forged");
  Result r = run("audit verify log --pub host.pub --strict");
  EXPECT_EQ(r.rc, 0) << "the log alone cannot tell: " << r.out;
  r = verify();
  EXPECT_EQ(r.rc, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("BROKEN at seq 1"), std::string::npos) << r.out;  // the first record differs already
  EXPECT_NE(r.out.find("published " + layout.checkpoint(kHost, 11)), std::string::npos) << r.out;
}

TEST_F(AuditFleetTest, ALogCutBackBeforeAPublishedCheckpointIsCaught) {
  write_log(25, "a");
  publish_checkpoints();
  auto l = lines();
  l.resize(22);  // back to the checkpoint at 22: a valid log on its own
  std::string text;
  for (const auto& x : l) text += x + "\n";
  write_file_atomic(log_options().path, text);
  Result r = run("audit verify log --pub host.pub --strict");
  EXPECT_EQ(r.rc, 0) << r.out;
  r = verify();
  EXPECT_EQ(r.rc, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("log truncated"), std::string::npos) << r.out;
}

TEST_F(AuditFleetTest, AForgedPublishedValueOrAnUnapprovedHostIsRefused) {
  write_log(25, "a");
  publish_checkpoints();
  // a value under checkpoints/ signed by another key (someone who can write the host's subtree)
  std::string forged = lines()[10];
  const json cp = json::parse(forged);
  const std::string sig = cp["sig"];
  forged.replace(forged.find(sig), sig.size(),
                 sign_audit_checkpoint(cp["seq_head"], cp["head"].get<std::string>(), load_secret_key(dir.file("intruder.key"))));
  etcd->put(layout.checkpoint(kHost, 11), forged);
  Result r = verify();
  EXPECT_EQ(r.rc, 3) << r.out << r.err;
  EXPECT_NE(r.err.find(layout.checkpoint(kHost, 11)), std::string::npos) << r.err;
  // no approval: no trusted key to verify against
  etcd->remove(layout.approval(kHost));
  r = verify();
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_NE(r.err.find("not approved"), std::string::npos) << r.err;
}

TEST_F(AuditFleetTest, StatusShowsTheNewestPublishedCheckpoint) {
  write_log(25, "a");
  publish_checkpoints();
  write_ack(1);
  const json s = status_json();
  ASSERT_EQ(s["hosts"].size(), 1u) << s.dump();
  EXPECT_EQ(s["hosts"][0]["checkpoint"]["seq"], 28) << s.dump();
  EXPECT_EQ(s["hosts"][0]["checkpoint"]["published"], 3);
}

}  // namespace
}  // namespace execgate
