// Ticket verification throughput: verify_document (parse + PAE + Ed25519 + body parse)
// against the raw crypto_sign_verify_detached on the same PAE bytes. Prints
//   ratio verify_document/raw = X (target >= 0.8)
// where X = (tickets/s through verify_document) / (raw verifications/s).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_times.h"
#include "execgate/dsse.h"
#include "common/encoding.h"
#include "execgate/ticket.h"

namespace {

using namespace execgate;

struct Fixture {
  KeyPair issuer;
  std::vector<PublicKey> trusted;
  std::string envelope;
  std::string pae;
  Ed25519Signature sig{};

  Fixture() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(42);
    issuer = keypair_from_seed(seed);
    // A few trusted issuers, the signer last (worst case for the key lookup).
    for (std::uint8_t i = 1; i <= 3; ++i) {
      seed.fill(i);
      trusted.push_back(keypair_from_seed(seed).pub);
    }
    trusted.push_back(issuer.pub);
    TicketBody b;
    b.id = new_ticket_id();
    b.issued_at = 1'800'000'000;
    b.not_before = b.issued_at;
    b.not_after = b.issued_at + 3600;
    Sha256Digest d = sha256_bytes(as_bytes("execgate"));
    b.subjects = {{d, std::string("/usr/bin/true")}, {d, std::string("/usr/local/bin/deploy-tool")}};
    b.hosts = {"3d1219c7c4c5404aaa1f6d2a48adfda4"};
    b.uids = {1000};
    b.max_uses = 5;
    b.initiator = "alice@example.com";
    b.purpose = "deploy release 2026.11 to the build fleet";
    b.policy = "ci";
    envelope = sign_ticket(b, issuer.secret);
    const dsse::Envelope env = dsse::decode(envelope);
    pae = dsse::pae(env.payload_type, env.payload);
    sig = env.sig;
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_VerifyDocument(benchmark::State& state) {
  const Fixture& f = fixture();
  for (auto _ : state) {
    VerifiedDocument d = verify_document(f.envelope, f.trusted);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyDocument);

void BM_RawEd25519Verify(benchmark::State& state) {
  const Fixture& f = fixture();
  const auto* m = reinterpret_cast<const unsigned char*>(f.pae.data());
  const auto& pk = f.issuer.pub.bytes;
  for (auto _ : state) {
    int rc = crypto_sign_verify_detached(f.sig.data(), m, f.pae.size(), pk.data());
    benchmark::DoNotOptimize(rc);
    if (rc != 0) state.SkipWithError("raw verification failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEd25519Verify);

}  // namespace

int main(int argc, char** argv) {
  execgate::bench::TimesReporter reporter;
  if (!execgate::bench::run_benchmarks(argc, argv, reporter)) return 1;
  const double verify = reporter.ns("BM_VerifyDocument"), raw = reporter.ns("BM_RawEd25519Verify");
  if (verify > 0 && raw > 0) {
    std::printf("tickets verified/s: verify_document %.0f, raw Ed25519 %.0f\n", 1e9 / verify, 1e9 / raw);
    std::printf("ratio verify_document/raw = %.3f (target >= 0.8)\n", raw / verify);  // throughput ratio
  }
  return 0;
}
