// Every refusal path of the daemon's submission judge, with an injectable clock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "authority.h"
#include "common/encoding.h"
#include "common/fs.h"
#include "state_store.h"

using namespace execgate;
namespace fs = std::filesystem;

namespace {
constexpr const char* kHost = "0123456789abcdef0123456789abcdef";

struct AuthorityTest : ::testing::Test {
  FixedClock clock{1'800'000'000};
  KeyPair ops = generate_keypair();
  KeyPair other = generate_keypair();

  TrustedIssuer issuer(bool any_host = false, std::int64_t max_ttl = 0) {
    IssuerPolicy p;
    p.name = "ops";
    p.allow_any_host = any_host;
    p.max_ttl = max_ttl;
    return TrustedIssuer{p, ops.pub};
  }
  TicketBody body() {
    TicketBody t;
    t.id = new_ticket_id();
    t.issued_at = t.not_before = clock.now() - 10;
    t.not_after = clock.now() + 3600;
    Subject s;
    s.sha256.fill(0xab);
    s.path = "/usr/bin/true";
    t.subjects = {s};
    t.hosts = {kHost};
    return t;
  }
  Judgement judge(const std::string& env, const StateSnapshot& st = {}, TrustedIssuer is = {}) {
    if (is.policy.name.empty()) is = issuer();
    static std::unique_ptr<Authority> a;
    a = std::make_unique<Authority>(std::vector<TrustedIssuer>{is}, kHost, clock);
    return a->judge(env, st);
  }
  std::string reason(const Judgement& j) { return j.refusal ? j.refusal->name() : "accepted"; }
};
}  // namespace

TEST_F(AuthorityTest, AcceptsAValidTicket) {
  Judgement j = judge(sign_ticket(body(), ops.secret));
  EXPECT_EQ(reason(j), "accepted");
  ASSERT_NE(j.issuer, nullptr);
  EXPECT_EQ(j.issuer->policy.name, "ops");
}

TEST_F(AuthorityTest, UntrustedIssuer) { EXPECT_EQ(reason(judge(sign_ticket(body(), other.secret))), "untrusted_issuer"); }

TEST_F(AuthorityTest, BadSignature) {
  std::string env = sign_ticket(body(), ops.secret);
  auto pos = env.find("\"sig\":\"") + 8;
  env[pos] = env[pos] == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(judge(env)), "bad_signature");
}

TEST_F(AuthorityTest, Malformed) { EXPECT_EQ(reason(judge("{\"payloadType\": 1}")), "malformed"); }

TEST_F(AuthorityTest, WrongHost) {
  TicketBody t = body();
  t.hosts = {"fedcba9876543210fedcba9876543210"};
  EXPECT_EQ(reason(judge(sign_ticket(t, ops.secret))), "wrong_host");
}

TEST_F(AuthorityTest, AnyHostOnlyWhenTheIssuerAllowsIt) {
  TicketBody t = body();
  t.hosts = {"*"};
  const std::string env = sign_ticket(t, ops.secret);
  EXPECT_EQ(reason(judge(env)), "wrong_host");
  EXPECT_EQ(reason(judge(env, {}, issuer(true))), "accepted");
}

TEST_F(AuthorityTest, TtlAboveIssuerMax) {
  EXPECT_EQ(reason(judge(sign_ticket(body(), ops.secret), {}, issuer(false, 600))), "ttl_too_long");
  EXPECT_EQ(reason(judge(sign_ticket(body(), ops.secret), {}, issuer(false, 7200))), "accepted");
}

TEST_F(AuthorityTest, ExpiredRefusedNotYetValidInstalled) {
  TicketBody t = body();
  t.not_before = clock.now() - 100;
  t.not_after = clock.now() - 1;
  t.issued_at = t.not_before;
  EXPECT_EQ(reason(judge(sign_ticket(t, ops.secret))), "expired");
  TicketBody later = body();
  later.not_before = clock.now() + 600;
  later.not_after = clock.now() + 1200;
  // the kernel denies it (not_yet_valid) until not_before; the daemon installs it
  EXPECT_EQ(reason(judge(sign_ticket(later, ops.secret))), "accepted");
}

TEST_F(AuthorityTest, RevokedAndReplayAndConflict) {
  TicketBody t = body();
  const std::string env = sign_ticket(t, ops.secret);
  StateSnapshot st;
  st.tombstones[t.id] = new_ticket_id();
  EXPECT_EQ(reason(judge(env, st)), "revoked");
  StateSnapshot spent;
  spent.spent[t.id] = envelope_digest(env);
  EXPECT_EQ(reason(judge(env, spent)), "replay");
  StateSnapshot installed;
  installed.installed[t.id] = InstalledRecord{env, std::nullopt, 0};
  Judgement same = judge(env, installed);
  EXPECT_EQ(reason(same), "accepted");
  EXPECT_TRUE(same.already_installed);
  TicketBody t2 = t;
  t2.purpose = "different content, same id";
  EXPECT_EQ(reason(judge(sign_ticket(t2, ops.secret), installed)), "replay");
}

TEST_F(AuthorityTest, SubjectWithoutPathIsRefused) {
  TicketBody t = body();
  t.subjects[0].path.reset();
  EXPECT_EQ(reason(judge(sign_ticket(t, ops.secret))), "malformed");
}

TEST_F(AuthorityTest, RevocationFromTrustedIssuerPasses) {
  RevocationBody r;
  r.id = new_ticket_id();
  r.revoked = {new_ticket_id()};
  r.issued_at = clock.now();
  Judgement j = judge(sign_revocation(r, ops.secret));
  EXPECT_EQ(reason(j), "accepted");
  EXPECT_EQ(j.doc.kind, VerifiedDocument::Kind::revocation);
  EXPECT_EQ(reason(judge(sign_revocation(r, other.secret))), "untrusted_issuer");
}

TEST(StateStore, RoundTripAndCorruptionNamesTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("eg-state-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  StateStore store(dir.string());
  const std::string id = new_ticket_id();
  store.put_installed(id, InstalledRecord{"{\"x\":1}", 2, 42});
  store.put_tombstone(new_ticket_id(), id);
  store.put_spent(id, std::string(64, 'a'));
  StateSnapshot s = store.load();
  ASSERT_EQ(s.installed.size(), 1u);
  EXPECT_EQ(s.installed[id].uses_left, 2);
  EXPECT_EQ(s.tombstones.size(), 1u);
  EXPECT_EQ(s.spent.size(), 1u);
  store.remove_installed(id);
  EXPECT_TRUE(store.load().installed.empty());

  const std::string bad = (dir / "spent" / (id + ".json")).string();
  { std::ofstream(bad) << "{not json"; }
  try {
    store.load();
    FAIL() << "corrupted state accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  { std::ofstream((dir / "installed" / "junk.txt").string()) << "x"; }
  EXPECT_THROW(store.load(), Error);
  fs::remove_all(dir);
}

// Every refusal reason is defined once (EG_REFUSALS) and documented.
TEST(RefusalReasons, NamesRoundTripAndAreDocumented) {
  const std::string docs = read_file(std::string(EXECGATE_SOURCE_DIR) + "/docs/daemon.md", 1 << 20);
#define EG_REFUSAL_CHECK(name)                                                         \
  EXPECT_EQ(to_string(RefusalReason::name), #name);                                    \
  EXPECT_EQ(refusal_reason(#name), RefusalReason::name);                               \
  EXPECT_NE(docs.find("`" #name "`"), std::string::npos) << #name " is not in docs/daemon.md";
  EG_REFUSALS(EG_REFUSAL_CHECK)
#undef EG_REFUSAL_CHECK
  EXPECT_EQ(refusal_reason("no such reason"), RefusalReason::malformed);
}
