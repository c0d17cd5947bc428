// The ticket book against the fake gate (tests/support/fake_gate.h) as its kernel map:
// which ticket holds an inode, spending at the last use, start-up reconciliation. Real
// state directory (temp dir), fixed clock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/encoding.h"
#include "fake_gate.h"
#include "ticket_book.h"

using namespace execgate;
namespace fs = std::filesystem;

namespace {
constexpr const char* kHost = "0123456789abcdef0123456789abcdef";
const InodeKey kFile{(8u << 20) | 1, 4242};
const InodeKey kOther{(8u << 20) | 1, 4343};

struct TicketBookTest : ::testing::Test {
  FixedClock clock{1'800'000'000};
  KeyPair ops = generate_keypair();
  fs::path dir = fs::temp_directory_path() / ("eg-book-" + std::to_string(::getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::unique_ptr<StateStore> store;
  test::FakeGate kernel;
  std::vector<nlohmann::json> audit;
  std::unique_ptr<Authority> authority;
  std::unique_ptr<TicketBook> book;
  std::map<std::string, std::vector<InodeKey>> files_of;  // ticket id -> inodes its subjects resolve to

  void SetUp() override {
    fs::remove_all(dir);
    store = std::make_unique<StateStore>(dir.string());
    IssuerPolicy p;
    p.name = "ops";
    authority = std::make_unique<Authority>(std::vector<TrustedIssuer>{TrustedIssuer{p, ops.pub}}, kHost, clock);
    book = make_book();
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<TicketBook> make_book() {
    return std::make_unique<TicketBook>(
        kernel, *store, clock,
        [this](const TicketBody& t) { return Resolution{subjects_of(t.id), std::nullopt}; },
        [this](nlohmann::json r) { audit.push_back(std::move(r)); });
  }

  // A signed ticket for `files`, valid from now - 10 for `ttl` seconds.
  std::string ticket(std::int64_t ttl, std::vector<InodeKey> files = {kFile}, std::int64_t max_uses = 0) {
    TicketBody t;
    t.id = new_ticket_id();
    t.issued_at = t.not_before = clock.now() - 10;
    t.not_after = clock.now() + ttl;
    t.max_uses = max_uses;
    for (std::size_t i = 0; i < files.size(); ++i) {
      Subject s;
      s.sha256.fill(static_cast<std::uint8_t>(i + 1));
      s.path = "/opt/f" + std::to_string(files[i].ino);
      t.subjects.push_back(s);
    }
    t.hosts = {kHost};
    files_of[t.id] = files;
    return sign_ticket(t, ops.secret);
  }
  static std::string id_of(const std::string& envelope) { return parse_document_unverified(envelope).ticket->id; }

  nlohmann::json submit(const std::string& envelope) {
    auto j = book->judge(envelope, "test", *authority);
    if (auto* reply = std::get_if<nlohmann::json>(&j)) return *reply;
    const Judgement& judged = std::get<Judgement>(j);
    return book->install(judged, envelope, subjects_of(judged.doc.ticket->id));
  }
  // What the fake resolver binds ticket `id`'s subjects to.
  std::vector<ResolvedSubject> subjects_of(const std::string& id) {
    std::vector<ResolvedSubject> out;
    for (const auto& key : files_of[id]) {
      ResolvedSubject s;
      s.path = "/opt/f" + std::to_string(key.ino);
      s.key = key;
      out.push_back(s);
    }
    return out;
  }
  nlohmann::json revoke(const std::string& id) {
    RevocationBody r;
    r.id = new_ticket_id();
    r.issued_at = clock.now();
    r.revoked = {id};
    return submit(sign_revocation(r, ops.secret));
  }
  std::string holder(const InodeKey& key) {
    auto e = kernel.get_ticket(key);
    return e ? hex_id(e->id) : "";
  }
  bool audited(const std::string& event, const std::string& reason, const std::string& id) {
    for (const auto& r : audit)
      if (r.value("event", "") == event && r.value("reason", "") == reason && r["ticket"] == id) return true;
    return false;
  }
};
}  // namespace

TEST_F(TicketBookTest, TheLongerTicketHoldsTheInodeWhateverTheOrder) {
  const auto longer = ticket(7200), shorter = ticket(3600);
  submit(longer);
  submit(shorter);
  EXPECT_EQ(holder(kFile), id_of(longer));
  const auto shorter2 = ticket(3600, {kOther}), longer2 = ticket(7200, {kOther});
  submit(shorter2);
  submit(longer2);
  EXPECT_EQ(holder(kOther), id_of(longer2));
}

TEST_F(TicketBookTest, RevokingEitherLeavesTheOtherInForce) {
  const auto longer = ticket(7200), shorter = ticket(3600);
  submit(shorter);
  submit(longer);
  revoke(id_of(longer));
  EXPECT_EQ(holder(kFile), id_of(shorter));
  const auto longer2 = ticket(7200, {kOther}), shorter2 = ticket(3600, {kOther});
  submit(longer2);
  submit(shorter2);
  revoke(id_of(shorter2));
  EXPECT_EQ(holder(kOther), id_of(longer2));
  revoke(id_of(longer2));
  EXPECT_FALSE(kernel.get_ticket(kOther)) << "no ticket left: no entry";
}

// The event recorder's path index follows one ticket at a time: an inode's path is
// dropped only when no installed ticket covers it any more.
TEST_F(TicketBookTest, ThePathIndexFollowsEachTicketAndDropsAnInodeWithItsLastTicket) {
  std::map<InodeKey, std::string> paths;
  std::vector<std::string> removed;
  book->on_subject_added = [&](const InodeKey& k, const std::string& p) { paths.emplace(k, p); };
  book->on_removed = [&](const std::string& id, const std::vector<InodeKey>& uncovered) {
    removed.push_back(id);
    for (const auto& k : uncovered) paths.erase(k);
  };
  const auto both = ticket(7200, {kFile, kOther}), one = ticket(3600, {kFile});
  submit(both);
  submit(one);
  EXPECT_EQ(paths.size(), 2u);
  revoke(id_of(both));
  ASSERT_EQ(removed, std::vector<std::string>{id_of(both)});
  EXPECT_EQ(paths.count(kOther), 0u) << "only the revoked ticket covered it";
  EXPECT_EQ(paths.at(kFile), "/opt/f" + std::to_string(kFile.ino)) << "the other ticket still covers it";
  revoke(id_of(one));
  EXPECT_TRUE(paths.empty());
}

TEST_F(TicketBookTest, AtStartTheSameRuleHolds) {
  const auto shorter = ticket(3600), longer = ticket(7200);
  submit(longer);
  submit(shorter);
  kernel.entries.clear();  // a reboot: the pinned maps are gone
  book = make_book();
  book->load(store->load(), *authority);
  EXPECT_EQ(holder(kFile), id_of(longer));
  EXPECT_EQ(book->size(), 2u);
}

TEST_F(TicketBookTest, ATicketValidLaterTakesOverWhenItBecomesValid) {
  TicketBody t;  // valid from now + 60 for a day
  const auto now_valid = ticket(600);
  submit(now_valid);
  t.id = new_ticket_id();
  t.issued_at = clock.now();
  t.not_before = clock.now() + 60;
  t.not_after = clock.now() + 86400;
  Subject s;
  s.sha256.fill(1);
  s.path = "/opt/f4242";
  t.subjects = {s};
  t.hosts = {kHost};
  files_of[t.id] = {kFile};
  submit(sign_ticket(t, ops.secret));
  EXPECT_EQ(holder(kFile), id_of(now_valid)) << "valid now outranks not yet valid";
  clock.advance(61);
  book->sweep();
  EXPECT_EQ(holder(kFile), t.id);
}

TEST_F(TicketBookTest, TheLastUseSpendsTheTicketAtOnce) {
  const auto once = ticket(3600, {kFile}, 1);
  submit(once);
  const std::string id = id_of(once);
  ASSERT_TRUE(kernel.exec(kFile).last_use) << "the one exec takes the last use";
  book->last_use_seen(id);
  EXPECT_FALSE(kernel.get_ticket(kFile)) << "the spent ticket's entry is removed";
  EXPECT_TRUE(audited("ticket_expired", "exhausted", id));
  EXPECT_TRUE(book->state().spent.count(id));
  EXPECT_TRUE(store->load().spent.count(id)) << "persisted";
  EXPECT_EQ(submit(once)["reason"], "replay");
}

TEST_F(TicketBookTest, AResubmissionConsultsTheKernelsCount) {
  const auto once = ticket(3600, {kFile}, 1);
  submit(once);
  kernel.exec(kFile);  // the event never reached the daemon
  EXPECT_EQ(submit(once)["reason"], "replay");
  EXPECT_TRUE(store->load().spent.count(id_of(once)));
}

TEST_F(TicketBookTest, AtStartALastUseNobodyReadIsSpent) {
  const auto once = ticket(3600, {kFile}, 1);
  submit(once);
  kernel.exec(kFile);  // the daemon was killed before it read the event
  book = make_book();
  book->load(store->load(), *authority);
  EXPECT_EQ(book->size(), 0u);
  EXPECT_FALSE(kernel.get_ticket(kFile));
  EXPECT_TRUE(audited("ticket_expired", "exhausted", id_of(once)));
  EXPECT_EQ(submit(once)["reason"], "replay");
}

TEST_F(TicketBookTest, ALimitedTicketLosingItsInodeKeepsItsCount) {
  const auto limited = ticket(7200, {kFile}, 3), unlimited_longer = ticket(9000);
  submit(limited);
  kernel.exec(kFile);  // 2 left
  submit(unlimited_longer);
  EXPECT_EQ(holder(kFile), id_of(unlimited_longer));
  revoke(id_of(unlimited_longer));
  ASSERT_EQ(holder(kFile), id_of(limited));
  EXPECT_EQ(kernel.get_ticket(kFile)->uses_left, 2);
}

TEST_F(TicketBookTest, AMultiFileTicketIsSpentOnlyWhenEveryFileIsUsedUp) {
  const auto two = ticket(3600, {kFile, kOther}, 1);
  submit(two);
  kernel.exec(kFile);
  book->last_use_seen(id_of(two));
  EXPECT_EQ(book->size(), 1u) << "kOther still has its use";
  kernel.exec(kOther);
  book->last_use_seen(id_of(two));
  EXPECT_EQ(book->size(), 0u);
}

TEST_F(TicketBookTest, ExpiredTicketsGoAtTheSweep) {
  const auto brief = ticket(30);
  submit(brief);
  clock.advance(31);
  book->sweep();
  EXPECT_FALSE(kernel.get_ticket(kFile));
  EXPECT_TRUE(audited("ticket_expired", "expired", id_of(brief)));
}

TEST_F(TicketBookTest, EntriesNothingBacksAreRemovedAtStart) {
  KernelTicket forged;
  forged.id[0] = 0x42;
  kernel.put_ticket(kOther, forged);
  book->load(store->load(), *authority);
  EXPECT_FALSE(kernel.get_ticket(kOther));
  bool unbacked = false;
  for (const auto& r : audit) unbacked = unbacked || r.value("reason", "") == "unbacked";
  EXPECT_TRUE(unbacked);
}

TEST_F(TicketBookTest, ARecordThisHostsDaemonDidNotWriteIsRefusedAtStart) {
  const auto planted = ticket(3600);
  submit(planted);
  StateSnapshot s = store->load();
  s.installed.at(id_of(planted)).unrecognised = "has no state seal";  // state_history.h decides; the book refuses
  book = make_book();
  book->load(std::move(s), *authority);
  EXPECT_EQ(book->size(), 0u);
  EXPECT_FALSE(kernel.get_ticket(kFile)) << "its kernel entry goes with it";
  EXPECT_FALSE(fs::exists(store->installed_path(id_of(planted))));
  ASSERT_TRUE(audited("ticket_refused", "planted", id_of(planted)));
  for (const auto& r : audit)
    if (r.value("reason", "") == "planted") {
      EXPECT_NE(r["detail"].get<std::string>().find(store->installed_path(id_of(planted))), std::string::npos);
    }
}
