// execgate delegate: sign a bounded delegation to another key (docs/tickets.md
// "Delegation"). A delegation file holds its chain, one envelope per line, root first:
// `--under PARENT` continues PARENT's chain, and `issue --delegation FILE` puts the chain
// in the ticket.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/duration.h"
#include "common/fs.h"
#include "execgate/error.h"
#include "ticket_verbs.h"

namespace execgate::cli::ticket_verbs {

std::vector<std::string> read_delegation_file(const std::string& file) {
  std::vector<std::string> chain;
  std::istringstream in(read_file(file, kMaxDelegationDepth * (dsse::kMaxEnvelopeBytes + 1)));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) chain.push_back(line);
  if (chain.empty() || chain.size() > kMaxDelegationDepth)
    throw Error(ErrorKind::usage, file + ": expected a delegation chain of 1 to " + std::to_string(kMaxDelegationDepth) +
                                      " envelopes, one per line (execgate delegate -o)");
  try {
    for (const auto& e : chain) parse_delegation_unverified(e);
  } catch (const VerificationError& e) {
    throw Error(ErrorKind::verification, file + ": " + e.what());
  }
  return chain;
}

namespace {

struct DelegateOpts {
  std::string key, to, ttl, not_before, max_ttl, under, purpose, out;
  std::vector<std::string> hosts, uids;
  std::string max_subjects = std::to_string(kMaxSubjects), depth = "0";
  bool require_job = false, may_mark_builders = false;
};

int run_delegate(const Cli& cli, const DelegateOpts& o) {
  const std::int64_t now = SystemClock().now();
  DelegationBody b;
  b.id = new_ticket_id();
  b.issued_at = now;
  b.not_before = o.not_before.empty() ? now : now + parse_duration(o.not_before);
  b.not_after = b.not_before + parse_duration(o.ttl);
  b.delegate = load_public_key(o.to);
  b.max_ttl = parse_duration(o.max_ttl);
  if (o.hosts.empty()) throw Error(ErrorKind::usage, "delegate: give --host ID (repeatable) or --host '*'");
  b.hosts = o.hosts;
  for (const auto& u : o.uids) b.uids.push_back(static_cast<std::uint32_t>(parse_unsigned("--uid", u, UINT32_MAX - 1)));
  b.require_job = o.require_job;
  b.may_mark_builders = o.may_mark_builders;
  b.max_subjects = static_cast<std::uint32_t>(parse_unsigned("--max-subjects", o.max_subjects, kMaxSubjects));
  b.max_depth = static_cast<std::uint32_t>(parse_unsigned("--depth", o.depth, kMaxDelegationDepth - 1));
  b.purpose = o.purpose;
  const SecretKey key = load_secret_key(o.key);
  std::vector<std::string> chain;
  if (!o.under.empty()) {
    chain = read_delegation_file(o.under);
    const DelegationLink last = parse_delegation_unverified(chain.back());
    if (last.body.delegate.key_id() != key.key_id())
      throw Error(ErrorKind::usage, "--under " + o.under + ": it delegates to key " + last.body.delegate.key_id() +
                                        ", not to --key's " + key.key_id());
    if (chain.size() >= kMaxDelegationDepth)
      throw Error(ErrorKind::usage, "--under " + o.under + ": a chain holds at most " +
                                        std::to_string(kMaxDelegationDepth) + " delegations");
  }
  std::string env;
  try {
    env = sign_delegation(b, key);
  } catch (const MalformedError& e) {
    throw Error(ErrorKind::usage, std::string("cannot delegate: ") + e.what());
  }
  chain.push_back(env);
  std::string text;
  for (const auto& e : chain) text += e + "\n";
  write_file_atomic(o.out, text, 0644);
  if (cli.json) {
    std::cout << nlohmann::json{{"id", b.id},           {"file", o.out},          {"key_id", key.key_id()},
                                {"delegate", b.delegate.key_id()}, {"not_before", b.not_before},
                                {"not_after", b.not_after}, {"chain", chain.size()}}
                     .dump()
              << "\n";
  } else {
    std::cout << "delegation " << b.id << " -> " << printable(o.out) << " (chain of " << chain.size() << ")\n"
              << "  key id     " << key.key_id() << "\n"
              << "  delegate   " << b.delegate.key_id() << "\n"
              << "  valid      " << iso_time(b.not_before) << " .. " << iso_time(b.not_after) << "\n"
              << "  max ttl    " << b.max_ttl << " s, " << b.max_subjects << " subject(s) per ticket, depth "
              << b.max_depth << (b.require_job ? ", a job required" : "")
              << (b.may_mark_builders ? ", may mark builders" : "") << "\n";
  }
  return 0;
}

}  // namespace

void add_delegate(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<DelegateOpts>();
  auto* sub = app.add_subcommand("delegate", "sign a bounded delegation: another key may issue tickets within it");
  sub->add_option("--key", o->key, "the delegator's secret key NAME.key (a policy issuer's, or a delegate's with --under)")
      ->required();
  sub->add_option("--to", o->to, "the delegate's public key NAME.pub")->required();
  sub->add_option("--ttl", o->ttl, "how long the delegation lasts: 8h, 30d")->required();
  sub->add_option("--not-before", o->not_before, "start of validity, as a duration from now (default now)");
  sub->add_option("--max-ttl", o->max_ttl, "the longest validity of a ticket it may issue: 15m, 2h")->required();
  sub->add_option("--host", o->hosts, "machine-id its tickets may name (repeatable), or \"*\"");
  sub->add_option("--uid", o->uids, "uid its tickets may name (repeatable; default any)");
  sub->add_flag("--require-job", o->require_job, "its tickets must name a job");
  sub->add_flag("--may-mark-builders", o->may_mark_builders, "its tickets may mark builders");
  sub->add_option("--max-subjects", o->max_subjects, "subjects per ticket")->capture_default_str();
  sub->add_option("--depth", o->depth, "further delegations below this one")->capture_default_str();
  sub->add_option("--under", o->under, "the delegation file whose delegate --key is: continue its chain");
  sub->add_option("--purpose", o->purpose, "why (free text)");
  sub->add_option("-o,--output", o->out, "delegation file to write (the chain, one envelope per line)")->required();
  sub->callback([&cli, o] { cli.action = [&cli, o] { return run_delegate(cli, *o); }; });
}

}  // namespace execgate::cli::ticket_verbs
