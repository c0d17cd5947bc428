// libFuzzer target: envelope + body parsing and verification must never crash, never
// throw anything but VerificationError, and must agree with itself:
//  * verify_document / parse_document_unverified on the raw input;
//  * the input as a ticket / revocation / delegation body, parsed directly and inside an envelope that
//    a trusted key really signed (reaches the body parser through verify_document);
//  * a parsed body re-serializes deterministically and round-trips;
//  * the strict JSON parser agrees with nlohmann::json::parse on what it accepts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "execgate/dsse.h"
#include "common/encoding.h"
#include "execgate/ticket.h"
#include "strict_json.h"

namespace {

using namespace execgate;

using execgate::fuzz::die;

struct Keys {
  KeyPair issuer;
  std::vector<PublicKey> trusted;
  Keys() {
    std::array<std::uint8_t, 32> seed{};
    // tests/fuzz/corpus seeds are signed with this key (delegated_ticket_envelope.json by a
    // delegate, under a chain of two whose root it signed: made with execgate delegate / issue)
    seed.fill(0x42);
    issuer = keypair_from_seed(seed);
    seed.fill(0x43);
    trusted = {keypair_from_seed(seed).pub, issuer.pub};
  }
};

const Keys& keys() {
  static const Keys k;
  return k;
}

std::string sign_raw(std::string_view type, std::string_view payload) {
  return sign_envelope(type, std::string(payload), keys().issuer.secret);
}

template <typename Fn>
void guarded(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const VerificationError&) {
  } catch (const std::exception& e) {
    die(what, std::string("unexpected exception: ") + e.what());
  }
}

void check_document(std::string_view in) {
  guarded("verify_document", [&] {
    VerifiedDocument d = verify_document(in, keys().trusted);
    const std::string& root = d.issuer_key_id();  // the signer, or a delegate's chain's root
    if (root != keys().issuer.pub.key_id() && root != keys().trusted[0].key_id()) die("key id");
    if ((d.ticket.has_value()) == (d.revocation.has_value())) die("exactly one body");
    if (d.ticket) {
      FixedClock clock(d.ticket->not_before);
      check_validity(*d.ticket, clock);  // must not throw at not_before
    }
  });
  guarded("parse_document_unverified", [&] { parse_document_unverified(in); });
}

void check_ticket_body(std::string_view in) {
  bool ok = false;
  TicketBody body;
  guarded("parse_ticket_body", [&] {
    body = parse_ticket_body(in);
    ok = true;
  });
  // Inside a genuinely signed envelope the outcome must match the direct parse.
  // (A body with a delegation chain signed by a trusted key is refused malformed: only a
  // delegate's ticket carries one.)
  const bool delegated = ok && !body.delegation.empty();
  const std::string env = sign_raw(kTicketPayloadType, in);
  try {
    VerifiedDocument d = verify_document(env, keys().trusted);
    if (!ok || delegated || !d.ticket || !(*d.ticket == body)) die("signed ticket accepted but direct parse differs");
  } catch (const VerificationError& e) {
    if (ok && !delegated) die("signed ticket refused but direct parse accepted", e.what());
    if (e.reason() != "malformed") die("signed ticket refused for a reason other than malformed", e.what());
  }
  // Signed by a key no issuer has: its chain decides (a delegate's ticket), never a crash.
  guarded("verify_document (delegate)", [&] {
    static const KeyPair delegate = generate_keypair();
    verify_document(sign_envelope(kTicketPayloadType, std::string(in), delegate.secret), keys().trusted);
  });
  if (!ok) return;
  const std::string s1 = serialize_ticket_body(body);
  if (serialize_ticket_body(body) != s1) die("ticket serialization not deterministic");
  if (!(parse_ticket_body(s1) == body)) die("ticket round trip", s1);
  if (delegated) return;
  VerifiedDocument d = verify_document(sign_ticket(body, keys().issuer.secret), keys().trusted);
  if (!d.ticket || !(*d.ticket == body)) die("sign/verify round trip");
}

void check_delegation_body(std::string_view in) {
  bool ok = false;
  DelegationBody body;
  guarded("parse_delegation_body", [&] {
    body = parse_delegation_body(in);
    ok = true;
  });
  if (!ok) return;
  const std::string s1 = serialize_delegation_body(body);
  if (!(parse_delegation_body(s1) == body)) die("delegation round trip", s1);
  // a chain of it, signed by the issuer: verifies, or is refused, never anything else
  guarded("verify_delegation_chain", [&] {
    const std::vector<std::string> chain{sign_delegation(body, keys().issuer.secret)};
    if (verify_delegation_chain(chain, keys().trusted).front().body != body) die("delegation sign/verify round trip");
  });
}

void check_revocation_body(std::string_view in) {
  bool ok = false;
  RevocationBody body;
  guarded("parse_revocation_body", [&] {
    body = parse_revocation_body(in);
    ok = true;
  });
  if (!ok) return;
  const std::string s1 = serialize_revocation_body(body);
  if (!(parse_revocation_body(s1) == body)) die("revocation round trip", s1);
  VerifiedDocument d = verify_document(sign_revocation(body, keys().issuer.secret), keys().trusted);
  if (!d.revocation || !(*d.revocation == body)) die("revocation sign/verify round trip");
}

void check_json_differential(std::string_view in) {
  nlohmann::json mine;
  std::string why;
  try {
    mine = ticket_detail::parse_strict(in, "fuzz", 64);
  } catch (const VerificationError& e) {
    why = e.what();
  }
  nlohmann::json theirs;
  bool theirs_ok = true;
  try {
    theirs = nlohmann::json::parse(in.begin(), in.end());
  } catch (const nlohmann::json::exception&) {
    theirs_ok = false;
  }
  if (why.empty()) {
    if (!theirs_ok) die("strict parser accepted what nlohmann rejects", std::string(in));
    if (mine != theirs) die("strict parser and nlohmann disagree", mine.dump() + " vs " + theirs.dump());
  } else if (theirs_ok && why.find("duplicate key") == std::string::npos && why.find("nested too deeply") == std::string::npos) {
    die("strict parser rejected what nlohmann accepts", why);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_document(in);
  check_ticket_body(in);
  check_revocation_body(in);
  check_delegation_body(in);
  // nlohmann treats a NUL byte as the end of input ("1\0x" parses as 1); the strict parser
  // rightly refuses it, so compare only NUL-free inputs.
  if (size <= 16384 && in.find('\0') == std::string_view::npos) check_json_differential(in);
  return 0;
}
