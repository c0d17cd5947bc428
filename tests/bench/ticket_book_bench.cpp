// The daemon's ticket book with 10 and with 10,000 installed tickets, against a fake kernel
// map (the fake gate, tests/support/fake_gate.h, its call log off) and a state directory in /dev/shm: the cost per
// ticket of a start (load: re-verify, reconcile, give each inode its holder) and of a
// submission followed by a revocation. Prints
//   load per ticket 10000/10 = X   submit+revoke 10000/10 = Y   (target: within noise of 1)
// An index of the tickets covering each inode keeps both flat; a scan of every installed
// ticket per inode made the start quadratic.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bench_times.h"
#include "fake_gate.h"
#include "ticket_book.h"

namespace {

using namespace execgate;
namespace fs = std::filesystem;
constexpr const char* kHost = "0123456789abcdef0123456789abcdef";

struct Book {
  FixedClock clock{1'800'000'000};
  KeyPair ops = generate_keypair();
  fs::path dir = fs::path("/dev/shm") / ("eg-book-bench-" + std::to_string(::getpid()));
  std::unique_ptr<StateStore> store;
  test::FakeGate kernel;
  std::unique_ptr<Authority> authority;
  std::map<std::string, InodeKey> inode_of;  // ticket id -> its one file
  std::uint64_t next_ino = 1000;

  explicit Book(std::size_t n) {
    kernel.record_calls = false;  // the book's cost, not the log's
    fs::remove_all(dir);
    store = std::make_unique<StateStore>(dir.string());
    IssuerPolicy p;
    p.name = "ops";
    authority = std::make_unique<Authority>(std::vector<TrustedIssuer>{TrustedIssuer{p, ops.pub}}, kHost, clock);
    auto book = make();
    for (std::size_t i = 0; i < n; ++i) submit(*book, ticket());
  }
  ~Book() { fs::remove_all(dir); }

  std::unique_ptr<TicketBook> make() {
    return std::make_unique<TicketBook>(
        kernel, *store, clock,
        [this](const TicketBody& t) {
          ResolvedSubject s;
          s.path = "/opt/f";
          s.key = inode_of.at(t.id);
          return Resolution{{s}, std::nullopt};
        },
        [](nlohmann::json) {});
  }
  std::string ticket() {
    TicketBody t;
    t.id = new_ticket_id();
    t.issued_at = t.not_before = clock.now() - 10;
    t.not_after = clock.now() + 3600;
    Subject s;
    s.sha256.fill(1);
    s.path = "/opt/f";
    t.subjects.push_back(s);
    t.hosts = {kHost};
    inode_of[t.id] = InodeKey{(8u << 20) | 1, next_ino++};
    return sign_ticket(t, ops.secret);
  }
  std::string revocation(const std::string& id) {
    RevocationBody r;
    r.id = new_ticket_id();
    r.issued_at = clock.now();
    r.revoked = {id};
    return sign_revocation(r, ops.secret);
  }
  void submit(TicketBook& book, const std::string& envelope) {
    auto j = book.judge(envelope, "bench", *authority);
    if (auto* judged = std::get_if<Judgement>(&j)) {
      const std::string id = judged->doc.ticket->id;
      ResolvedSubject s;
      s.path = "/opt/f";
      s.key = inode_of.at(id);
      book.install(*judged, envelope, {s});
    }
  }
};

void BM_LoadPerTicket(benchmark::State& state) {
  Book b(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto book = b.make();
    book->load(b.store->load(), *b.authority);
    if (book->size() != static_cast<std::size_t>(state.range(0))) state.SkipWithError("tickets lost at load");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LoadPerTicket)->Arg(10)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_SubmitRevoke(benchmark::State& state) {
  Book b(static_cast<std::size_t>(state.range(0)));
  auto book = b.make();
  book->load(b.store->load(), *b.authority);
  for (auto _ : state) {
    state.PauseTiming();
    const std::string t = b.ticket();
    const std::string id = parse_document_unverified(t).ticket->id;
    const std::string r = b.revocation(id);
    state.ResumeTiming();
    b.submit(*book, t);
    book->judge(r, "bench", *b.authority);
  }
  if (book->size() != static_cast<std::size_t>(state.range(0))) state.SkipWithError("the book grew");
}
BENCHMARK(BM_SubmitRevoke)->Arg(10)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  execgate::bench::TimesReporter reporter;
  if (!execgate::bench::run_benchmarks(argc, argv, reporter)) return 1;
  std::printf("ticket book, 10000 vs 10 installed tickets: load per ticket 10000/10 = %.2f, submit+revoke 10000/10 = %.2f "
              "(flat: within noise of 1)\n",
              reporter.ratio("BM_LoadPerTicket/10000", "BM_LoadPerTicket/10"),
              reporter.ratio("BM_SubmitRevoke/10000", "BM_SubmitRevoke/10"));
  return 0;
}
