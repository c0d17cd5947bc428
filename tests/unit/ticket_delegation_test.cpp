// Delegations (docs/tickets.md "Delegation"): the body's strict format, a chain verified
// back to a trusted key link by link, a delegated ticket verified through its chain, and
// what admit_delegated refuses: every right is the intersection of the links'.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "ticket/refusal.h"
#include "ticket_test_util.h"

namespace execgate {
namespace {

using test::kT0;

constexpr const char* kHostA = "3d1219c7c4c5404aaa1f6d2a48adfda4";
constexpr const char* kHostB = "0123456789abcdef0123456789abcdef";

DelegationBody delegation_to(const PublicKey& delegate, std::uint32_t depth = 0) {
  DelegationBody d;
  d.id = new_ticket_id();
  d.issued_at = kT0 - 100;
  d.not_before = kT0 - 100;
  d.not_after = kT0 + 86400;
  d.delegate = delegate;
  d.max_ttl = 3600;
  d.hosts = {kHostA};
  d.max_subjects = 4;
  d.max_depth = depth;
  d.purpose = "ci runners";
  return d;
}

TicketBody ticket_under(const std::vector<std::string>& chain) {
  TicketBody t;
  t.id = new_ticket_id();
  t.issued_at = t.not_before = kT0;
  t.not_after = kT0 + 600;
  t.subjects = {{test::digest_of(0xaa), std::string("/usr/bin/cc")}};
  t.hosts = {kHostA};
  t.delegation = chain;
  return t;
}

std::optional<Refusal> admit(const TicketBody& t, const std::vector<DelegationLink>& chain, std::int64_t now = kT0) {
  return admit_delegated(t, chain, now);
}

class Delegation : public ::testing::Test {
 protected:
  KeyPair ops = test::fixed_keypair(1), ci = test::fixed_keypair(2), job = test::fixed_keypair(3),
          other = test::fixed_keypair(4);
  std::vector<PublicKey> trusted{ops.pub};
};

TEST_F(Delegation, TheBodyRoundTripsCanonicallyAndStrictly) {
  DelegationBody d = delegation_to(ci.pub, 1);
  d.uids = {1000};
  d.require_job = true;
  d.may_mark_builders = true;
  const std::string text = serialize_delegation_body(d);
  EXPECT_EQ(parse_delegation_body(text), d);
  EXPECT_EQ(serialize_delegation_body(parse_delegation_body(text)), text);
  const auto refused = [&](const nlohmann::json& j, const std::string& field) {
    try {
      parse_delegation_body(j.dump());
    } catch (const MalformedError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + field + "'"), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted: " << j.dump();
  };
  const auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(text);
    edit(j);
    return j;
  };
  refused(edited([](auto& j) { j["extra"] = 1; }), "extra");
  refused(edited([](auto& j) { j["constraints"]["extra"] = 1; }), "constraints.extra");
  // the flat layout of before, and the old name of may_mark_builders
  refused(edited([](auto& j) { j["max_ttl"] = 60; }), "max_ttl");
  refused(edited([](auto& j) { j["constraints"]["builders"] = true; }), "constraints.builders");
  refused(edited([](auto& j) { j.erase("constraints"); }), "constraints");
  refused(edited([](auto& j) { j["constraints"] = nlohmann::json::array(); }), "constraints");
  refused(edited([](auto& j) { j["constraints"].erase("max_ttl"); }), "constraints.max_ttl");
  refused(edited([](auto& j) { j["constraints"]["max_depth"] = kMaxDelegationDepth; }), "constraints.max_depth");
  refused(edited([](auto& j) { j["constraints"]["max_subjects"] = 0; }), "constraints.max_subjects");
  refused(edited([](auto& j) { j["constraints"]["require_job"] = 1; }), "constraints.require_job");
  refused(edited([](auto& j) { j["constraints"]["may_mark_builders"] = "yes"; }), "constraints.may_mark_builders");
  refused(edited([](auto& j) { j["constraints"]["hosts"] = {"nothex"}; }), "constraints.hosts[0]");
  refused(edited([](auto& j) { j["constraints"]["uids"] = {-1}; }), "constraints.uids[0]");
  // delegate: the key id of delegate_key, which is the key
  EXPECT_EQ(nlohmann::json::parse(text)["delegate"], ci.pub.key_id());
  refused(edited([](auto& j) { j["delegate_key"] = "AAAA"; }), "delegate_key");
  refused(edited([](auto& j) { j.erase("delegate_key"); }), "delegate_key");
  refused(edited([&](auto& j) { j["delegate"] = job.pub.key_id(); }), "delegate");
  refused(edited([&](auto& j) { j["delegate"] = base64_encode(ci.pub.bytes); }), "delegate");  // the old layout
  refused(edited([](auto& j) { j.erase("delegate"); }), "delegate");
  // the canonical form: sorted keys at both levels, false flags and empty uids omitted
  d.uids = {};
  d.require_job = d.may_mark_builders = false;
  d.id = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(serialize_delegation_body(d),
            "{\"constraints\":{\"hosts\":[\"" + std::string(kHostA) +
                "\"],\"max_depth\":1,\"max_subjects\":4,\"max_ttl\":3600},\"delegate\":\"" + ci.pub.key_id() +
                "\",\"delegate_key\":\"" + base64_encode(ci.pub.bytes) + "\",\"id\":\"" + d.id +
                "\",\"issued_at\":" + std::to_string(kT0 - 100) + ",\"not_after\":" + std::to_string(kT0 + 86400) +
                ",\"not_before\":" + std::to_string(kT0 - 100) + ",\"purpose\":\"ci runners\"}");
  d.max_ttl = 0;
  try {
    serialize_delegation_body(d);
    ADD_FAILURE() << "max_ttl 0 serialized";
  } catch (const MalformedError& e) {
    EXPECT_NE(std::string(e.what()).find("'constraints.max_ttl'"), std::string::npos) << e.what();
  }
}

TEST_F(Delegation, ATicketVerifiesThroughItsChainToTheIssuer) {
  const std::string link = sign_delegation(delegation_to(ci.pub), ops.secret);
  const std::string t = sign_ticket(ticket_under({link}), ci.secret);
  const VerifiedDocument d = verify_document(t, trusted);
  ASSERT_EQ(d.chain.size(), 1u);
  EXPECT_EQ(d.key_id, ci.pub.key_id());
  EXPECT_EQ(d.issuer_key_id(), ops.pub.key_id());
  EXPECT_EQ(d.chain[0].body.delegate, ci.pub);
  EXPECT_FALSE(admit(*d.ticket, d.chain));
  EXPECT_EQ(delegation_ids(*d.ticket), std::vector<std::string>{d.chain[0].body.id});
  // without the chain the delegate is nobody
  EXPECT_THROW(verify_document(sign_ticket(ticket_under({}), ci.secret), trusted), VerificationError);
}

TEST_F(Delegation, EveryLinkMustBeSignedByTheOneAbove) {
  const std::string root = sign_delegation(delegation_to(ci.pub, 1), ops.secret);
  const std::string sub = sign_delegation(delegation_to(job.pub), ci.secret);
  EXPECT_EQ(verify_document(sign_ticket(ticket_under({root, sub}), job.secret), trusted).chain.size(), 2u);
  const auto refusal = [&](const std::vector<std::string>& chain, const SecretKey& signer) {
    try {
      verify_document(sign_ticket(ticket_under(chain), signer), trusted);
    } catch (const VerificationError& e) {
      return e.refusal();
    }
    return RefusalReason::malformed;  // not refused: the caller's EXPECT fails
  };
  // a root not signed by a trusted key
  EXPECT_EQ(refusal({sign_delegation(delegation_to(ci.pub), other.secret)}, ci.secret), RefusalReason::untrusted_issuer);
  // a second link signed by someone other than the first's delegate
  EXPECT_EQ(refusal({root, sign_delegation(delegation_to(job.pub), other.secret)}, job.secret),
            RefusalReason::bad_signature);
  // the ticket signed by a key other than the last delegate
  EXPECT_EQ(refusal({root, sub}, ci.secret), RefusalReason::bad_signature);
  // a link edited after signing
  std::string forged = root;
  forged[forged.find("\"payload\":\"") + 20] ^= 1;
  EXPECT_THROW(verify_document(sign_ticket(ticket_under({forged, sub}), job.secret), trusted), VerificationError);
  // depth: a root that allows no further delegation
  const std::string flat = sign_delegation(delegation_to(ci.pub, 0), ops.secret);
  EXPECT_EQ(refusal({flat, sub}, job.secret), RefusalReason::delegation_exceeded);
}

TEST_F(Delegation, TheTicketGetsTheIntersectionOfTheRights) {
  DelegationBody root = delegation_to(ci.pub, 1);
  root.hosts = {"*"};
  root.max_ttl = 7200;
  DelegationBody sub = delegation_to(job.pub);
  sub.max_ttl = 600;
  sub.uids = {1000};
  const std::vector<std::string> chain{sign_delegation(root, ops.secret), sign_delegation(sub, ci.secret)};
  const auto judged = [&](const TicketBody& t, std::int64_t now = kT0) {
    const VerifiedDocument d = verify_document(sign_ticket(t, job.secret), trusted);
    return admit(*d.ticket, d.chain, now);
  };
  TicketBody t = ticket_under(chain);
  t.uids = {1000};
  EXPECT_FALSE(judged(t)) << judged(t)->detail;
  const auto exceeded = [&](TicketBody x, const std::string& why) {
    const auto r = judged(x);
    ASSERT_TRUE(r) << why;
    EXPECT_EQ(r->reason, RefusalReason::delegation_exceeded) << why;
    EXPECT_NE(r->detail.find(why), std::string::npos) << r->detail;
  };
  TicketBody x = t;
  x.not_after = x.not_before + 601;
  exceeded(x, "max_ttl 600");                 // the sub's, though the root allows 7200
  x = t;
  x.hosts = {kHostB};
  exceeded(x, "host " + std::string(kHostB));  // the sub names host A only
  x = t;
  x.hosts = {"*"};
  exceeded(x, "host *");
  x = t;
  x.uids = {};
  exceeded(x, "any uid");
  x = t;
  x.uids = {0};
  exceeded(x, "uid 0");
  x = t;
  x.subjects.assign(5, x.subjects[0]);
  exceeded(x, "5 subjects");
  x = t;
  x.not_before = kT0 - 1000;
  x.not_after = kT0 - 500;
  exceeded(x, "outside");
  // a link past its end: every ticket under it expired
  const auto late = judged(t, kT0 + 86400);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->reason, RefusalReason::delegation_expired);
  // a link that requires a job: a ticket naming none is beyond it, one naming a job passes
  root.require_job = true;
  const std::vector<std::string> jobs{sign_delegation(root, ops.secret), chain[1]};
  x = ticket_under(jobs);
  x.uids = {1000};
  exceeded(x, "names no job");
  x.job = "ci-7";
  EXPECT_FALSE(judged(x)) << "a job-bound ticket within every link";
  // marking builders needs every link's leave
  x.builder = true;
  exceeded(x, "marks builders");
}

}  // namespace
}  // namespace execgate
