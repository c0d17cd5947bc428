// execgate issue: hash binaries and sign an execution ticket.
#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/duration.h"
#include "common/encoding.h"
#include "execgate/error.h"
#include "common/fs.h"
#include "ticket_verbs.h"

namespace execgate::cli::ticket_verbs {

namespace {

struct IssueOpts {
  std::string key, ttl, not_before, parent, initiator, purpose, policy, out, max_uses, delegation, job;
  std::vector<std::string> binaries, digests, hosts, uids;
  bool this_host = false;
  bool builder = false;
  bool have_initiator = false;
};

// --not-before: "now", unix seconds ("1767225600"), or "+DURATION" from now ("+15m").
std::int64_t parse_not_before(const std::string& t, std::int64_t now) {
  if (t == "now") return now;
  if (!t.empty() && t[0] == '+') return now + parse_duration(std::string_view(t).substr(1));
  return static_cast<std::int64_t>(parse_unsigned("--not-before (now, unix seconds or +DURATION)", t, INT64_MAX / 2));
}

std::string default_initiator() {
  const uid_t uid = ::getuid();
  if (const passwd* pw = ::getpwuid(uid); pw && pw->pw_name) return pw->pw_name;
  return "uid:" + std::to_string(uid);
}

Subject subject_for_binary(const std::string& path) {
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) throw IoError(path, errno, "cannot resolve path");
  Subject s;
  s.sha256 = sha256_file(resolved);
  s.path = std::string(resolved);
  return s;
}

Subject subject_for_digest(const std::string& hex) {
  std::string lower;
  for (char c : hex) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_lower_hex(lower, 64))
    throw Error(ErrorKind::usage, "--sha256: expected 64 hex digits, got '" + printable(hex) + "'");
  Subject s;
  Bytes raw = hex_decode(lower);
  std::copy(raw.begin(), raw.end(), s.sha256.begin());
  return s;
}

int run_issue(const Cli& cli, const IssueOpts& o) {
  const std::int64_t now = SystemClock().now();
  TicketBody b;
  b.id = new_ticket_id();
  b.issued_at = now;
  const std::int64_t ttl = parse_duration(o.ttl);
  b.not_before = o.not_before.empty() ? now : parse_not_before(o.not_before, now);
  b.not_after = b.not_before + ttl;

  if (o.binaries.empty() && o.digests.empty())
    throw Error(ErrorKind::usage, "issue: give at least one --binary PATH or --sha256 HEX");
  if (o.binaries.size() + o.digests.size() > kMaxSubjects)
    throw Error(ErrorKind::usage, "issue: at most " + std::to_string(kMaxSubjects) + " subjects per ticket");
  for (const auto& h : o.digests) b.subjects.push_back(subject_for_digest(h));

  if (o.this_host) {
    b.hosts.push_back(read_machine_id());
  } else {
    if (o.hosts.empty()) throw Error(ErrorKind::usage, "issue: give --host ID (repeatable) or --this-host");
    for (const auto& h : o.hosts) {
      if (h != "*" && !is_lower_hex(h, 32))
        throw Error(ErrorKind::usage, "--host: expected a machine-id (32 lower-case hex digits) or \"*\", got '" +
                                          printable(h) + "'");
      b.hosts.push_back(h);
    }
  }
  for (const auto& u : o.uids) b.uids.push_back(static_cast<std::uint32_t>(parse_unsigned("--uid", u, UINT32_MAX - 1)));
  if (!o.max_uses.empty()) b.max_uses = parse_unsigned("--max-uses", o.max_uses, UINT64_MAX);
  if (!o.parent.empty()) {
    if (!is_lower_hex(o.parent, 32))
      throw Error(ErrorKind::usage, "--parent: expected a ticket id (32 lower-case hex digits)");
    b.parent = o.parent;
  }
  if (!o.job.empty()) b.job = o.job;
  b.builder = o.builder;
  b.initiator = o.have_initiator ? o.initiator : default_initiator();
  b.purpose = o.purpose;
  b.policy = o.policy;

  // Key first (cheap, fails fast on permissions), then hash the binaries.
  const SecretKey key = load_secret_key(o.key);
  if (!o.delegation.empty()) {
    b.delegation = read_delegation_file(o.delegation);
    const DelegationLink last = parse_delegation_unverified(b.delegation.back());
    if (last.body.delegate.key_id() != key.key_id())
      throw Error(ErrorKind::usage, "--delegation " + o.delegation + ": it delegates to key " +
                                        last.body.delegate.key_id() + ", not to --key's " + key.key_id());
  }
  for (const auto& p : o.binaries) b.subjects.push_back(subject_for_binary(p));

  std::string env;
  try {
    env = sign_ticket(b, key);
  } catch (const MalformedError& e) {
    throw Error(ErrorKind::usage, std::string("cannot issue: ") + e.what());
  }
  write_file_atomic(o.out, env + "\n", 0644);

  if (cli.json) {
    nlohmann::json subjects = nlohmann::json::array();
    for (const auto& s : b.subjects) {
      nlohmann::json j{{"sha256", hex_encode(s.sha256)}};
      if (s.path) j["path"] = *s.path;
      subjects.push_back(j);
    }
    std::cout << nlohmann::json{{"id", b.id},           {"file", o.out},
                                {"key_id", key.key_id()}, {"not_before", b.not_before},
                                {"not_after", b.not_after}, {"hosts", b.hosts},
                                {"subjects", subjects}}
                     .dump()
              << "\n";
  } else {
    std::cout << "ticket " << b.id << " -> " << printable(o.out) << "\n"
              << "  key id     " << key.key_id() << "\n"
              << "  valid      " << iso_time(b.not_before) << " .. " << iso_time(b.not_after) << "\n";
    for (const auto& s : b.subjects)
      std::cout << "  subject    " << hex_encode(s.sha256) << (s.path ? "  " + printable(*s.path) : std::string()) << "\n";
  }
  return 0;
}

}  // namespace

void add_issue(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<IssueOpts>();
  auto* sub = app.add_subcommand("issue", "hash binaries and sign an execution ticket");
  sub->add_option("--key", o->key, "secret key file NAME.key")->required();
  sub->add_option("--binary", o->binaries, "executable to authorize (repeatable; hashed now)");
  sub->add_option("--sha256", o->digests, "authorize a file by SHA-256 digest, no path (repeatable)");
  sub->add_option("--ttl", o->ttl, "lifetime from not-before: 90s, 15m, 8h, 7d")->required();
  sub->add_option("--not-before", o->not_before, "start of validity: now (default), unix seconds, or +DURATION");
  auto* host = sub->add_option("--host", o->hosts, "machine-id allowed to run it (repeatable), or \"*\"");
  auto* this_host = sub->add_flag("--this-host", o->this_host, "use this machine's /etc/machine-id");
  host->excludes(this_host);
  sub->add_option("--uid", o->uids, "uid allowed to run it (repeatable; default any)");
  sub->add_option("--max-uses", o->max_uses, "number of execs allowed (0 = unlimited)");
  sub->add_option("--parent", o->parent, "ticket id that must have authorized the parent process");
  auto* init = sub->add_option("--initiator", o->initiator, "who asked (default: your login name)");
  sub->add_option("--purpose", o->purpose, "why (free text)");
  sub->add_option("--policy", o->policy, "policy name it is issued under");
  sub->add_option("--job", o->job, "valid only inside this job on the host (execgate job start ID; excludes --max-uses)");
  sub->add_flag("--builder", o->builder,
                "its binaries are builders: what they write inside a job may run in that job (docs/ci.md)");
  sub->add_option("--delegation", o->delegation,
                  "sign as a delegate: the delegation file (execgate delegate) whose delegate --key is");
  sub->add_option("-o,--output", o->out, "ticket file to write")->required();
  sub->callback([&cli, o, init] {
    o->have_initiator = init->count() > 0;
    cli.action = [&cli, o] { return run_issue(cli, *o); };
  });
}

}  // namespace execgate::cli::ticket_verbs
