// execgate inspect / verify: show and check ticket and revocation files.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "execgate/error.h"
#include "common/fs.h"
#include "ticket/refusal.h"
#include "ticket_verbs.h"

namespace execgate::cli::ticket_verbs {

namespace {

using nlohmann::json;

json chain_json(const VerifiedDocument& d) {
  json a = json::array();
  for (const auto& link : d.chain)
    a.push_back({{"id", link.body.id}, {"signer", link.signer_key_id}, {"delegate", link.body.delegate.key_id()},
                 {"not_after", link.body.not_after}, {"max_ttl", link.body.max_ttl}});
  return a;
}

json body_json(const VerifiedDocument& d) {
  // The signed payload is canonical JSON produced by serialize_*; re-serializing the
  // parsed body is only for display.
  return json::parse(d.ticket ? serialize_ticket_body(*d.ticket) : serialize_revocation_body(*d.revocation));
}

const char* kind_name(const VerifiedDocument& d) {
  return d.kind == VerifiedDocument::Kind::ticket ? "ticket" : "revocation";
}

void print_human(const VerifiedDocument& d, const std::string& sig_note) {
  if (d.ticket) {
    const TicketBody& t = *d.ticket;
    std::cout << "ticket " << t.id << "\n"
              << "  key id      " << d.key_id << sig_note << "\n"
              << "  issued at   " << iso_time(t.issued_at) << " (" << t.issued_at << ")\n"
              << "  not before  " << iso_time(t.not_before) << " (" << t.not_before << ")\n"
              << "  not after   " << iso_time(t.not_after) << " (" << t.not_after << ")\n"
              << "  subjects    " << t.subjects.size() << "\n";
    for (const auto& s : t.subjects)
      std::cout << "    sha256:" << hex_encode(s.sha256) << (s.path ? "  " + printable(*s.path) : std::string()) << "\n";
    std::cout << "  hosts      ";
    for (const auto& h : t.hosts) std::cout << " " << printable(h);
    std::cout << "\n  uids       ";
    if (t.uids.empty()) std::cout << " any";
    for (auto u : t.uids) std::cout << " " << u;
    std::cout << "\n  max uses    " << (t.max_uses ? std::to_string(t.max_uses) : std::string("unlimited")) << "\n"
              << "  parent      " << (t.parent ? *t.parent : std::string("none")) << "\n"
              << "  job         " << (t.job ? *t.job + " (valid only inside that job)" : std::string("none")) << "\n"
              << "  builder     " << (t.builder ? "yes (what its subjects write inside the job runs there)" : "no") << "\n"
              << "  initiator   " << printable(t.initiator) << "\n"
              << "  purpose     " << printable(t.purpose) << "\n"
              << "  policy      " << printable(t.policy) << "\n";
    if (!d.chain.empty()) {
      std::cout << "  issued under a delegation chain (root first):\n";
      for (const auto& link : d.chain)
        std::cout << "    delegation " << link.body.id << ": key " << link.signer_key_id << " -> key "
                  << link.body.delegate.key_id() << ", until " << iso_time(link.body.not_after) << ", max_ttl "
                  << link.body.max_ttl << " s\n";
    }
  } else {
    const RevocationBody& r = *d.revocation;
    std::cout << "revocation " << r.id << "\n"
              << "  key id      " << d.key_id << sig_note << "\n"
              << "  issued at   " << iso_time(r.issued_at) << " (" << r.issued_at << ")\n"
              << "  reason      " << printable(r.reason) << "\n";
    for (const auto& id : r.revoked) std::cout << "  revokes     " << id << "\n";
  }
}

// Prints one line for an invalid document and returns exit code 3.
int report_invalid(const Cli& cli, const std::string& file, const VerificationError& e) {
  if (cli.json)
    std::cout << json{{"file", file}, {"valid", false}, {"reason", e.reason()}, {"error", e.what()}}.dump(
                     -1, ' ', false, json::error_handler_t::replace)
              << "\n";
  else
    std::cout << printable(file) << ": invalid: " << printable(e.what()) << "\n";
  return static_cast<int>(ExitCode::denied);
}

// A delegation file (execgate delegate -o): its chain, root first, signatures unchecked.
int show_delegation_file(const Cli& cli, const std::string& file) {
  std::vector<DelegationLink> chain;
  try {
    for (const auto& e : read_delegation_file(file)) chain.push_back(parse_delegation_unverified(e));
  } catch (const VerificationError& e) {
    return report_invalid(cli, file, e);
  }
  json a = json::array();
  for (const auto& link : chain) {
    const DelegationBody& b = link.body;
    if (cli.json) {
      a.push_back({{"id", b.id}, {"signer", link.signer_key_id}, {"body", json::parse(serialize_delegation_body(b))}});
      continue;
    }
    std::cout << "delegation " << b.id << "\n"
              << "  key id      " << link.signer_key_id << "  (claimed; not verified)\n"
              << "  delegate    " << b.delegate.key_id() << "\n"
              << "  valid       " << iso_time(b.not_before) << " .. " << iso_time(b.not_after) << "\n"
              << "  constraints\n"
              << "    max_ttl            " << b.max_ttl << " s\n"
              << "    hosts             ";
    for (const auto& h : b.hosts) std::cout << " " << printable(h);
    std::cout << "\n    uids              ";
    if (b.uids.empty()) std::cout << " any";
    for (auto u : b.uids) std::cout << " " << u;
    std::cout << "\n    require_job        " << (b.require_job ? "yes" : "no") << "\n"
              << "    may_mark_builders  " << (b.may_mark_builders ? "yes" : "no") << "\n"
              << "    max_subjects       " << b.max_subjects << "\n"
              << "    max_depth          " << b.max_depth << " further\n"
              << "  purpose     " << printable(b.purpose) << "\n";
  }
  if (cli.json) std::cout << json{{"file", file}, {"type", "delegation"}, {"chain", a}}.dump() << "\n";
  return 0;
}

}  // namespace

void add_inspect(CLI::App& app, Cli& cli) {
  auto file = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("inspect", "show a ticket or revocation (signature NOT checked; see verify)");
  sub->add_option("file", *file, "ticket or revocation file")->required();
  sub->callback([&cli, file] {
    cli.action = [&cli, file] {
      const std::string text = read_file(*file, kMaxDelegationDepth * (kMaxDocumentFile + 1));
      if (text.find(kDelegationPayloadType) != std::string::npos) return show_delegation_file(cli, *file);
      VerifiedDocument d;
      try {
        if (text.size() > kMaxDocumentFile) throw MalformedError("the file is larger than an envelope (64 KiB)");
        d = parse_document_unverified(text);
      } catch (const VerificationError& e) {
        return report_invalid(cli, *file, e);
      }
      if (cli.json) {
        std::cout << json{{"file", *file}, {"type", kind_name(d)}, {"key_id", d.key_id}, {"verified", false},
                          {"body", body_json(d)}, {"chain", chain_json(d)}}
                         .dump()
                  << "\n";
      } else {
        print_human(d, "  (claimed; signature not verified: use `execgate verify --pub KEY.pub`)");
      }
      return 0;
    };
  });
}

void add_verify(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string pub, file;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("verify", "verify a ticket or revocation offline; exit 3 when invalid");
  sub->add_option("--pub", o->pub, "issuer public key NAME.pub")->required();
  sub->add_option("file", o->file, "ticket or revocation file")->required();
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      const PublicKey pub = load_public_key(o->pub);
      const std::string text = read_file(o->file, kMaxDocumentFile);
      VerifiedDocument d;
      const std::int64_t now = SystemClock().now();
      try {
        d = verify_document(text, std::span<const PublicKey>(&pub, 1));
        if (d.ticket) check_validity(*d.ticket, FixedClock(now));
      } catch (const VerificationError& e) {
        return report_invalid(cli, o->file, e);
      }
      if (cli.json) {
        json j{{"file", o->file}, {"valid", true}, {"type", kind_name(d)}, {"key_id", d.key_id},
               {"id", d.ticket ? d.ticket->id : d.revocation->id}};
        if (d.ticket) {
          j["not_before"] = d.ticket->not_before;
          j["not_after"] = d.ticket->not_after;
          j["issuer_key_id"] = d.issuer_key_id();
          j["chain"] = chain_json(d);
          if (const auto refusal = admit_delegated(*d.ticket, d.chain, now))
            return report_invalid(cli, o->file, VerificationError(refusal->reason, refusal->detail));
        }
        std::cout << j.dump() << "\n";
      } else if (d.ticket) {
        if (const auto refusal = admit_delegated(*d.ticket, d.chain, now))
          return report_invalid(cli, o->file, VerificationError(refusal->reason, refusal->detail));
        std::cout << printable(o->file) << ": valid ticket " << d.ticket->id << ", key id " << d.key_id << ", until "
                  << iso_time(d.ticket->not_after) << " (" << (d.ticket->not_after - now) << "s left)\n";
        for (const auto& link : d.chain)
          std::cout << "  under delegation " << link.body.id << ": key " << link.signer_key_id << " -> key "
                    << link.body.delegate.key_id() << "\n";
      } else {
        std::cout << printable(o->file) << ": valid revocation " << d.revocation->id << ", key id " << d.key_id
                  << ", revokes " << d.revocation->revoked.size() << " ticket(s)\n";
      }
      return 0;
    };
  });
}

}  // namespace execgate::cli::ticket_verbs
