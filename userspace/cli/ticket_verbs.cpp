// Offline ticket verbs: registration, shared helpers, keygen and revoke.
#include "ticket_verbs.h"

#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "execgate/error.h"
#include "common/fs.h"

namespace execgate::cli {

void add_ticket_verbs(CLI::App& app, Cli& cli) {
  ticket_verbs::add_keygen(app, cli);
  ticket_verbs::add_issue(app, cli);
  ticket_verbs::add_inspect(app, cli);
  ticket_verbs::add_verify(app, cli);
  ticket_verbs::add_revoke(app, cli);
  ticket_verbs::add_delegate(app, cli);
}

namespace ticket_verbs {


std::uint64_t parse_unsigned(const std::string& opt, const std::string& text, std::uint64_t max) {
  const auto bad = [&]() -> std::uint64_t {
    throw Error(ErrorKind::usage, opt + ": expected a decimal number from 0 to " + std::to_string(max) + ", got '" +
                                      printable(text) + "'");
  };
  if (text.empty() || text.size() > 20) return bad();
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return bad();
    v = v * 10 + d;
  }
  return v;
}

// ---- keygen -o NAME ----
void add_keygen(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string out;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("keygen", "create an Ed25519 key pair: NAME.key (secret, 0600) and NAME.pub");
  sub->add_option("-o,--output", o->out, "base name NAME of the key files")->required();
  sub->add_flag("--force", o->force, "overwrite existing NAME.key / NAME.pub");
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      if (o->out.empty()) throw Error(ErrorKind::usage, "-o: expected a non-empty base name");
      KeyPair kp = generate_keypair();
      save_keypair(kp, o->out, o->force);
      const std::string id = kp.pub.key_id();
      if (cli.json) {
        std::cout << nlohmann::json{{"key_id", id}, {"secret_key", o->out + ".key"}, {"public_key", o->out + ".pub"}}.dump()
                  << "\n";
      } else {
        std::cout << "key id " << id << "\n"
                  << "secret key: " << printable(o->out) << ".key (mode 0600; keep it private)\n"
                  << "public key: " << printable(o->out) << ".pub\n";
      }
      return 0;
    };
  });
}

// ---- revoke --key NAME.key ID [ID ...] [--reason S] -o FILE ----
void add_revoke(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string key, reason, out;
    std::vector<std::string> ids;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("revoke", "sign a revocation of ticket ids");
  sub->add_option("--key", o->key, "secret key file NAME.key")->required();
  sub->add_option("ids", o->ids, "ticket ids (32 hex) to revoke")->required();
  sub->add_option("--reason", o->reason, "why (free text)");
  sub->add_option("-o,--output", o->out, "revocation file to write")->required();
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      RevocationBody body;
      for (const auto& id : o->ids)
        if (!is_lower_hex(id, 32))
          throw Error(ErrorKind::usage, "ticket id '" + printable(id) + "': expected 32 lower-case hex digits");
      if (o->ids.size() > kMaxRevoked)
        throw Error(ErrorKind::usage, "at most " + std::to_string(kMaxRevoked) + " ids per revocation");
      body.id = new_ticket_id();
      body.revoked = o->ids;
      body.issued_at = SystemClock().now();
      body.reason = o->reason;
      const SecretKey key = load_secret_key(o->key);
      std::string env;
      try {
        env = sign_revocation(body, key);
      } catch (const MalformedError& e) {
        throw Error(ErrorKind::usage, std::string("cannot sign: ") + e.what());
      }
      write_file_atomic(o->out, env + "\n", 0644);
      if (cli.json) {
        std::cout << nlohmann::json{{"id", body.id}, {"file", o->out}, {"key_id", key.key_id()}, {"revoked", body.revoked}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "revocation " << body.id << " -> " << printable(o->out) << "\n"
                  << "  key id  " << key.key_id() << "\n";
        for (const auto& id : body.revoked) std::cout << "  revokes " << id << "\n";
      }
      return 0;
    };
  });
}

}  // namespace ticket_verbs
}  // namespace execgate::cli
