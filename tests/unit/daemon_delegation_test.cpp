// Delegated tickets in the daemon, on the fake gate: a ticket a delegate signed is
// installed when its chain leads to a policy issuer and it stays within every link;
// beyond them it is refused (delegation_exceeded); revoking the delegation uninstalls
// every ticket issued under it from the kernel at once (delegation_revoked), refuses them
// afterwards, and keeps them out across a restart.
#include <gtest/gtest.h>

#include "common/fs.h"
#include "daemon_env.h"
#include "state_store.h"

using namespace execgate;
using namespace execgate::test;
using nlohmann::json;

namespace {

class DaemonDelegation : public ::testing::Test {
 protected:
  void SetUp() override {
    cc = env.make_file("cc", "#!/bin/sh\necho cc\n");
    ld = env.make_file("ld", "#!/bin/sh\necho ld\n");
    env.boot();
  }
  // ops (a policy issuer) delegates to ci for an hour of tickets of at most 10 minutes
  std::string delegation(std::int64_t max_ttl = 600) {
    DelegationBody d;
    d.id = new_ticket_id();
    d.issued_at = d.not_before = env.clock.now() - 10;
    d.not_after = env.clock.now() + 3600;
    d.delegate = ci.pub;
    d.max_ttl = max_ttl;
    d.hosts = {env.machine_id};
    d.max_subjects = 1;
    return sign_delegation(d, env.issuer("ops").secret);
  }
  std::string delegated(const std::string& link, const std::vector<std::string>& files, std::int64_t ttl = 300) {
    DaemonEnv::TicketSpec s{files, ttl};
    s.delegation = {link};
    s.signer = &ci.secret;
    return env.issue(s);
  }
  static std::string id_of_link(const std::string& link) { return parse_delegation_unverified(link).body.id; }

  DaemonEnv env;
  KeyPair ci = generate_keypair();
  InodeKey cc, ld;
};

TEST_F(DaemonDelegation, ATicketWithinItsDelegationIsInstalled) {
  const std::string t = delegated(delegation(), {"cc"});
  const json reply = env.submit(t);
  ASSERT_EQ(reply["result"], "installed") << reply.dump();
  EXPECT_TRUE(env.gate().allows_exec(cc));
  EXPECT_TRUE(env.audited("ticket_installed", "ticket", DaemonEnv::id_of(t)));
}

TEST_F(DaemonDelegation, BeyondItsDelegationIsRefused) {
  const std::string link = delegation();
  json reply = env.submit(delegated(link, {"cc"}, 3600));  // longer than max_ttl 600
  EXPECT_EQ(reply["reason"], "delegation_exceeded") << reply.dump();
  reply = env.submit(delegated(link, {"cc", "ld"}));  // more subjects than 1
  EXPECT_EQ(reply["reason"], "delegation_exceeded") << reply.dump();
  EXPECT_FALSE(env.gate().get_ticket(cc));
  // a delegate's own revocation is nothing: only a policy issuer revokes
  RevocationBody r;
  r.id = new_ticket_id();
  r.issued_at = env.clock.now();
  r.revoked = {id_of_link(link)};
  EXPECT_EQ(env.submit(sign_revocation(r, ci.secret))["reason"], "untrusted_issuer");
}

TEST_F(DaemonDelegation, RevokingTheDelegationUninstallsItsTicketsAtOnce) {
  const std::string link = delegation();
  const std::string a = delegated(link, {"cc"}), b = delegated(link, {"ld"});
  ASSERT_EQ(env.submit(a)["result"], "installed");
  ASSERT_EQ(env.submit(b)["result"], "installed");
  const std::string own = env.ticket({"cc"});  // the issuer's own ticket for the same file stays
  const json reply = env.submit(env.revocation({id_of_link(link)}));
  EXPECT_EQ(reply["result"], "revoked") << reply.dump();
  EXPECT_EQ(reply["removed"].size(), 2u) << reply.dump();
  EXPECT_FALSE(env.gate().get_ticket(ld));
  EXPECT_FALSE(env.gate().get_ticket(cc));
  EXPECT_TRUE(env.audited("ticket_revoked", "delegation_revoked", DaemonEnv::id_of(a)));
  EXPECT_TRUE(env.audited("ticket_revoked", "delegation_revoked", DaemonEnv::id_of(b)));
  EXPECT_EQ(env.submit(a)["reason"], "delegation_revoked");
  EXPECT_EQ(env.submit(delegated(link, {"ld"}))["reason"], "delegation_revoked");
  EXPECT_EQ(env.submit(own)["result"], "installed");
}

TEST_F(DaemonDelegation, ARevokedDelegationKeepsItsTicketsOutAcrossARestart) {
  const std::string link = delegation();
  const std::string a = delegated(link, {"cc"});
  ASSERT_EQ(env.submit(a)["result"], "installed");
  // the tombstone is written, the ticket's record put back as if the removal was lost
  StateStore store(env.paths.state_dir);
  const std::string record = read_file(store.installed_path(DaemonEnv::id_of(a)), 1 << 20);
  ASSERT_EQ(env.submit(env.revocation({id_of_link(link)}))["result"], "revoked");
  write_file_atomic(store.installed_path(DaemonEnv::id_of(a)), record, 0600);
  env.shut_down();
  env.boot();
  EXPECT_FALSE(env.gate().get_ticket(cc));
  EXPECT_TRUE(env.audited("ticket_refused", "delegation_revoked", DaemonEnv::id_of(a)));
}

}  // namespace
